/**
 * `tunnel expose` and `tunnel socks` end to end (issue 16, items 4 and 5): the bundled CLI
 * as a child process, OpenSSH's sshd (and `tunnel serve`) as the bastion, curl as the client.
 * - expose: a client on the server's side reaches the local service through the address
 *   printed; after the bastion drops the connection, the tunnel reconnects and asks for the
 *   same port again; `tunnel serve --allow-remote` serves it too, and a port it does not grant
 *   is a clear error.
 * - socks: `curl --socks5-hostname` (the name resolved on the far side) and `--socks5`
 *   through the proxy to a local HTTP server.
 */
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { freePort, makeKey, type Sshd, startSshd, type UserKey } from "@tunnel/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliProcess, startVerb } from "./harness/cli-process.ts";

const execFileP = promisify(execFile);

let sshd: Sshd;
let key: UserKey;
let dir: string;
let web: http.Server;
let webPort: number;
const running: CliProcess[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-expose-"));
  key = await makeKey(dir, "id_ed25519", { type: "ed25519" });
  sshd = await startSshd({ authorizedKeys: [key.pubLine] });
  web = http.createServer((req, res) => {
    res.setHeader("connection", "close");
    res.end(`hello from ${req.headers.host}${req.url}\n`);
  });
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", () => r()));
  webPort = (web.address() as net.AddressInfo).port;
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop("SIGKILL")));
});

afterAll(async () => {
  await sshd?.stop();
  web?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function via(host = "127.0.0.1", port = sshd.port, knownHosts = sshd.knownHostsFile): string[] {
  return ["--via", `${sshd.user}@${host}:${port}`, "-i", key.path, "--known-hosts", knownHosts];
}

async function start(args: string[]): Promise<CliProcess> {
  const p = await startVerb(args);
  running.push(p);
  return p;
}

async function curl(args: string[]): Promise<string> {
  const { stdout } = await execFileP("curl", ["-sS", "--max-time", "20", ...args]);
  return stdout;
}

describe("tunnel expose through OpenSSH sshd", () => {
  it("a client on the server's side reaches the local service at the printed address, again after a reconnection", async () => {
    const t = await start(["expose", String(webPort), ...via()]);
    const [address] = t.lines;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(t.stderr()).toContain(`On the bastion's side, ${address} now reaches 127.0.0.1:${webPort}`);
    expect(await curl([`http://${address}/one`])).toBe(`hello from ${address}/one\n`);

    // The bastion drops the connection (its per-connection process dies, freeing the port).
    expect(await sshd.killConnections()).toBeGreaterThan(0);
    await t.waitForStderr("Reconnected after", 30_000);
    // The same port was asked for, and given: nothing new on stdout.
    expect(t.lines).toEqual([address]);
    expect(await curl([`http://${address}/two`])).toBe(`hello from ${address}/two\n`);

    expect((await t.stop("SIGINT")).code).toBe(0);
    expect(t.stderr()).toContain("Closing");
  });

  it("a fixed --remote-port, printed as JSON", async () => {
    const port = await freePort();
    const t = await start(["expose", `127.0.0.1:${webPort}`, "--remote-port", String(port), "--json", ...via()]);
    expect(JSON.parse(t.lines[0] as string)).toEqual({
      remote: `127.0.0.1:${port}`,
      local: `127.0.0.1:${webPort}`,
      via: `${sshd.user}@127.0.0.1:${sshd.port}`,
    });
    expect(await curl([`http://127.0.0.1:${port}/fixed`])).toContain("/fixed");
  });
});

describe("tunnel expose through tunnel serve", () => {
  let serve: CliProcess;
  let servePort: number;
  let knownHosts: string;

  beforeAll(async () => {
    const hostKey = path.join(dir, "serve_host_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
    fs.writeFileSync(path.join(dir, "authorized_keys"), `${key.pubLine}\n`);
    servePort = await freePort();
    serve = await startVerb([
      "serve",
      "--listen",
      `127.0.0.1:${servePort}`,
      "--host-key",
      hostKey,
      "--authorized-keys",
      path.join(dir, "authorized_keys"),
      "--allow-remote",
      "0",
    ]);
    knownHosts = path.join(dir, "known_hosts_serve");
    const pub = fs.readFileSync(`${hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
    fs.writeFileSync(knownHosts, `[127.0.0.1]:${servePort} ${pub}\n`);
  });

  afterAll(async () => {
    await serve?.stop("SIGKILL");
  });

  it("--allow-remote 0: the kernel's port on serve's loopback reaches the local service", async () => {
    const t = await start(["expose", String(webPort), ...via("127.0.0.1", servePort, knownHosts)]);
    const [address] = t.lines;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await curl([`http://${address}/via-serve`])).toBe(`hello from ${address}/via-serve\n`);
  });

  it("a port serve does not grant is refused with what to change", async () => {
    const t = await startVerb(
      ["expose", String(webPort), "--remote-port", "8022", ...via("127.0.0.1", servePort, knownHosts)],
      { expectLines: 0 },
    );
    running.push(t);
    const { code } = await t.exited;
    expect(code).toBe(1);
    expect(t.stderr()).toMatch(/tunnel: the bastion refused to listen on 127\.0\.0\.1:8022 .*--allow-remote/);
  });
});

describe("tunnel socks through OpenSSH sshd", () => {
  it("curl --socks5-hostname and --socks5 reach a local HTTP server through the proxy", async () => {
    const t = await start(["socks", "--port", "0", ...via()]);
    const [proxy] = t.lines;
    expect(proxy).toMatch(/^127\.0\.0\.1:\d+$/);
    // The name is resolved by sshd, on the far side.
    expect(await curl(["--socks5-hostname", proxy as string, `http://localhost:${webPort}/named`])).toBe(
      `hello from localhost:${webPort}/named\n`,
    );
    expect(await curl(["--socks5", proxy as string, `http://127.0.0.1:${webPort}/addressed`])).toBe(
      `hello from 127.0.0.1:${webPort}/addressed\n`,
    );
    // Nothing listens there: the proxy says "connection refused" (reply 0x05), and curl shows the code.
    const closed = await freePort();
    const r = await execFileP("curl", [
      "-sS",
      "--socks5-hostname",
      proxy as string,
      `http://localhost:${closed}/`,
    ]).then(
      () => "",
      (e: { stderr: string }) => e.stderr,
    );
    expect(r).toMatch(/SOCKS5 connection to localhost\. \(5\)|[Cc]onnection refused/);
  });
});
