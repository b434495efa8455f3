/**
 * Jump hosts and ProxyCommand through the real CLI against two real OpenSSH sshd (issue 15,
 * item 6): a hop and a bastion behind it. `--jump` and ProxyJump carry the connection to the
 * bastion inside a direct-tcpip channel of our own connection to the hop, each host key
 * checked under its own name; ProxyCommand runs the real `ssh -W %h:%p` to the hop. HOME is a
 * directory of the test's own and no agent is used.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, makeKey, type Sshd, startSshd, type UserKey } from "@tunnel/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runCli } from "./harness/cli.ts";
import { echoEventually, echoRoundTrip, startEcho, type TargetServer } from "./harness/field.ts";
import { runTunnelExpectingFailure, startTunnel, type TunnelProcess } from "./harness/tunnel-open.ts";

let dir: string;
let home: string;
let key: UserKey;
let hop: Sshd;
let bastion: Sshd;
let echo: TargetServer;
/** known_hosts holding both servers' keys. */
let bothKnown: string;
let n = 0;
const running: TunnelProcess[] = [];

beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tunnel-jump-"));
  home = path.join(dir, "home");
  await fs.promises.mkdir(path.join(home, ".ssh"), { recursive: true, mode: 0o700 });
  key = await makeKey(path.join(dir, "keys"), "jump_key", { type: "ed25519" });
  [hop, bastion] = await Promise.all([
    startSshd({ authorizedKeys: [key.pubLine] }),
    startSshd({ authorizedKeys: [key.pubLine] }),
  ]);
  bothKnown = path.join(dir, "known_hosts");
  fs.writeFileSync(bothKnown, fs.readFileSync(hop.knownHostsFile, "utf8") + fs.readFileSync(bastion.knownHostsFile));
  echo = await startEcho();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.stop("SIGKILL")));
});

afterAll(async () => {
  echo?.close();
  await Promise.all([hop?.stop(), bastion?.stop()]);
  if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
});

/** Our HOME, and no agent. */
const ENV = () => ({ HOME: home, SSH_AUTH_SOCK: "" });

const hopSpec = () => `${hop.user}@127.0.0.1:${hop.port}`;
const bastionSpec = () => `${bastion.user}@127.0.0.1:${bastion.port}`;

/** A config file of the test's own. */
function config(lines: string[]): string {
  const file = path.join(dir, `config-${++n}`);
  fs.writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
  return file;
}

/** `Host NAME` for one of the servers, as a user would write it. */
function hostLines(name: string, sshd: Sshd, knownHosts: string, extra: string[] = []): string[] {
  return [
    `Host ${name}`,
    "  HostName 127.0.0.1",
    `  Port ${sshd.port}`,
    `  User ${sshd.user}`,
    `  IdentityFile ${key.path}`,
    `  UserKnownHostsFile ${knownHosts}`,
    "  StrictHostKeyChecking yes",
    ...extra,
  ];
}

/** `tunnel open` to the echo target; resolves with the tunnel and its local port. */
async function open(args: string[]): Promise<{ t: TunnelProcess; local: number }> {
  const t = await startTunnel([`127.0.0.1:${echo.port}`, "--port", String(await freePort()), ...args], ENV());
  running.push(t);
  const line = t.lines[0] as string;
  return { t, local: Number(line.slice(line.lastIndexOf(":") + 1)) };
}

/** How many logins a server has accepted so far. */
const logins = (sshd: Sshd) => sshd.logs().split("Accepted publickey").length - 1;

/** Exit status 1, one `tunnel: ` error line (after the progress line), no stack trace. Returns it. */
function failure(res: { code: number | null; stderr: string }): string {
  expect(res.code, `exit code; stderr:\n${res.stderr}`).toBe(1);
  expect(res.stderr, "stack trace").not.toMatch(/^ {4}at /m);
  const errors = res.stderr.split("\n").filter((l) => l.startsWith("tunnel: "));
  expect(errors, res.stderr).toHaveLength(1);
  return errors[0] as string;
}

const flags = () => ["--identity", key.path, "--known-hosts", bothKnown, "--host-key-check", "yes"];

describe("tunnel open through jump hosts", () => {
  it("--jump carries the bastion's connection through the hop, bytes round-trip", async () => {
    const [hopBefore, bastionBefore] = [logins(hop), logins(bastion)];
    const { t, local } = await open(["--via", bastionSpec(), "--jump", hopSpec(), ...flags()]);
    expect(await echoRoundTrip(local)).toBe("ok");
    expect(await echoRoundTrip(local)).toBe("ok");
    // One login each: the hop's own connection, and the bastion's through it.
    expect([logins(hop) - hopBefore, logins(bastion) - bastionBefore]).toEqual([1, 1]);
    expect(t.stderr()).toContain(`via ${bastionSpec()} through ${hopSpec()}`);
    // The tunnel's end closes the hop's connection too, with a disconnect of ours.
    expect(await t.stop("SIGTERM")).toBe(0);
    await hop.settle();
    expect(hop.logs()).toMatch(/Received disconnect from .*the connection through this jump host ended/);
  });

  it("takes -J as --jump, and rebuilds the whole chain when the hop's connection dies", async () => {
    const { t, local } = await open(["--via", bastionSpec(), "-J", hopSpec(), ...flags()]);
    expect(await echoRoundTrip(local)).toBe("ok");
    const hopBefore = logins(hop);
    expect(await hop.killConnections()).toBeGreaterThan(0);
    expect(await echoEventually(local, 20_000)).toBe("ok");
    expect(t.stderr()).toMatch(/Connection to bastion lost/);
    expect(t.stderr()).toMatch(/Reconnected/);
    expect(logins(hop)).toBeGreaterThan(hopBefore);
  });

  it("follows ProxyJump from a --config file, each hop with its own Host block", async () => {
    const file = config([
      ...hostLines("inner", bastion, bastion.knownHostsFile, ["  ProxyJump outer"]),
      ...hostLines("outer", hop, hop.knownHostsFile),
    ]);
    const { local } = await open(["--via", "inner", "-F", file]);
    expect(await echoRoundTrip(local)).toBe("ok");
  });

  it("lets --jump beat the configuration's ProxyJump", async () => {
    const file = config([
      ...hostLines("inner", bastion, bothKnown, ["  ProxyJump nowhere.invalid"]),
      ...hostLines("outer", hop, bothKnown),
    ]);
    const { local } = await open(["--via", "inner", "-F", file, "--jump", "outer"]);
    expect(await echoRoundTrip(local)).toBe("ok");
  });

  it("refuses a hop whose host key is not known, naming the hop, and carries nothing", async () => {
    const bastionBefore = logins(bastion);
    const res = await runTunnelExpectingFailure(
      [
        `127.0.0.1:${echo.port}`,
        "--port",
        String(await freePort()),
        "--via",
        bastionSpec(),
        "--jump",
        hopSpec(),
        "--identity",
        key.path,
        "--known-hosts",
        bastion.knownHostsFile,
        "--host-key-check",
        "yes",
      ],
      ENV(),
    );
    const line = failure(res);
    expect(line).toContain(`jump host ${hopSpec()}`);
    expect(line).toMatch(/not known/);
    await bastion.settle();
    expect(logins(bastion)).toBe(bastionBefore);
  });
});

describe("ProxyCommand", () => {
  it("runs the connection over OpenSSH's `ssh -W %h:%p` to the hop", async () => {
    const sshCommand = [
      "ssh -F /dev/null",
      `-i ${key.path}`,
      "-o IdentitiesOnly=yes -o BatchMode=yes",
      `-o UserKnownHostsFile=${hop.knownHostsFile} -o StrictHostKeyChecking=yes`,
      `-p ${hop.port} -l ${hop.user}`,
      "-W %h:%p 127.0.0.1",
    ].join(" ");
    const file = config(hostLines("inner", bastion, bastion.knownHostsFile, [`  ProxyCommand ${sshCommand}`]));
    const hopBefore = logins(hop);
    const { local } = await open(["--via", "inner", "-F", file]);
    expect(await echoRoundTrip(local)).toBe("ok");
    expect(logins(hop) - hopBefore).toBe(1);
  });

  it("gives one line when the command exits at once, without hanging", async () => {
    const file = config(hostLines("inner", bastion, bastion.knownHostsFile, ["  ProxyCommand exit 3"]));
    const res = await runTunnelExpectingFailure(
      [`127.0.0.1:${echo.port}`, "--port", String(await freePort()), "--via", "inner", "-F", file],
      ENV(),
    );
    expect(failure(res)).toMatch(/ProxyCommand "exit 3" exited with status 3/);
  });
});

describe("tunnel check --jump", () => {
  const fingerprints = (sshd: Sshd) => sshd.hostKeys.map((k) => k.fingerprint);

  it("reports the hop's and the bastion's host keys, both verified", async () => {
    const res: CliResult = await runCli(
      ["check", `127.0.0.1:${bastion.port}`, "--jump", hopSpec(), ...flags(), "--json"],
      { env: ENV() },
    );
    expect(res.code, res.stderr).toBe(0);
    const r = JSON.parse(res.stdout) as {
      port: number;
      hostKeyFingerprint: string;
      jumps: { host: string; port: number; hostKeyFingerprint: string }[];
    };
    expect(r.port).toBe(bastion.port);
    expect(fingerprints(bastion)).toContain(r.hostKeyFingerprint);
    expect(r.jumps.map((j) => [j.host, j.port])).toEqual([["127.0.0.1", hop.port]]);
    expect(fingerprints(hop)).toContain(r.jumps[0]?.hostKeyFingerprint);
    const text = await runCli(["check", `127.0.0.1:${bastion.port}`, "-J", hopSpec(), ...flags()], { env: ENV() });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^jump host: +${hopSpec()} host key \\S+ SHA256:\\S+ verified$`, "m"));
    expect(text.stdout).toMatch(new RegExp(`^server: +127\\.0\\.0\\.1:${bastion.port} `, "m"));
  });
});
