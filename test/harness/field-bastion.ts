/**
 * The set-up the field test files against a real bastion share (test/field-closing.test.ts,
 * test/field-link.test.ts): a temp dir, an ed25519 user key in it, an OpenSSH sshd that takes
 * that key only, and an echo target; the targets, local sockets and fault relays a test starts,
 * closed after it with every CLI process; and `tunnel open` to a test's target and the echo.
 *
 *   const field = new FieldBastion("field-link");
 *   beforeAll(field.start);
 *   afterEach(field.cleanUp);
 *   afterAll(field.stop);
 *
 * The methods are bound to the instance, so they can be passed around and destructured.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  connectLocal,
  type FaultRelay,
  freePortRun,
  knownHostsFor,
  makeKey,
  type Recorded,
  type Sshd,
  startEcho,
  startFaultRelay,
  startSshd,
  startTarget,
  type TargetServer,
  type UserKey,
} from "@tunnel/testkit";
import { killAllCli, type OpenProcess, startOpen } from "./field.ts";

export class FieldBastion {
  dir = "";
  key!: UserKey;
  sshd!: Sshd;
  /** The shared echo target: `open` gives it the second local port. */
  echo!: TargetServer;
  /** What the tests started, closed (and emptied) by `cleanUp`. */
  readonly targets: TargetServer[] = [];
  readonly sockets: Recorded[] = [];
  readonly relays: FaultRelay[] = [];

  /** `name` names the temp dir: `tunnel-<name>-…`. */
  constructor(private readonly name: string) {}

  start = async (): Promise<void> => {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `tunnel-${this.name}-`));
    this.key = await makeKey(this.dir, "id", { type: "ed25519" });
    this.sshd = await startSshd({ hostKeys: ["ed25519"], authorizedKeys: [this.key.pubLine] });
    this.echo = await startEcho();
  };

  /** After each test: every CLI process killed, then its sockets, targets and relays closed. */
  cleanUp = async (): Promise<void> => {
    await killAllCli();
    for (const s of this.sockets.splice(0)) s.socket.destroy();
    for (const t of this.targets.splice(0)) t.close();
    for (const r of this.relays.splice(0)) await r.stop();
  };

  /** After all: sshd stopped, the echo target closed, the temp dir removed. */
  stop = async (): Promise<void> => {
    await this.sshd?.stop();
    this.echo?.close();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  };

  /** A target of the test's own. */
  target = async (handler?: (c: Recorded) => void, keep = false): Promise<TargetServer> => {
    const t = await startTarget(handler, keep);
    this.targets.push(t);
    return t;
  };

  /** An echo target of the test's own (the shared echo twice would be one tunnel port). */
  cellEcho = (): Promise<TargetServer> => this.target((c) => c.socket.pipe(c.socket));

  /** A fault relay in front of `server` (the bastion unless told). */
  relayTo = async (server: Sshd = this.sshd): Promise<FaultRelay> => {
    const r = await startFaultRelay(server.port);
    this.relays.push(r);
    return r;
  };

  /** A local client connected to `port`. */
  local = async (port: number, keep = false): Promise<Recorded> => {
    const r = await connectLocal(port, keep);
    this.sockets.push(r);
    return r;
  };

  /**
   * `tunnel open` to the test's target and to the shared echo target (local ports [0] and [1],
   * the second for a "still serving" check), through `via.relay` (a fault relay) or straight
   * to `via.sshd` (the bastion unless told).
   */
  open = async (
    targetPort: number,
    extra: string[] = [],
    via: { relay?: FaultRelay | undefined; sshd?: Sshd } = {},
    env: Record<string, string> = {},
  ): Promise<OpenProcess> => {
    const server = via.sshd ?? this.sshd;
    const port = via.relay?.port ?? server.port;
    return startOpen(
      [
        `127.0.0.1:${targetPort}`,
        `127.0.0.1:${this.echo.port}`,
        "--port",
        String(await freePortRun(2)),
        "--via",
        `${server.user}@127.0.0.1:${port}`,
        "--identity",
        this.key.path,
        "--known-hosts",
        via.relay ? knownHostsFor(server, port, this.dir) : server.knownHostsFile,
        ...extra,
      ],
      env,
      2,
    );
  };
}
