/**
 * ssh_config through the real CLI against a real OpenSSH sshd (issue 15, item 1): a Host
 * alias gives `tunnel check` and `tunnel open --via` the host, port, user, key, known_hosts
 * files, host key policy and algorithms, as it gives them to ssh; flags beat the file;
 * `--verbose` names the lines that applied; a bad line is one error naming file:line.
 * HOME points at a directory of the test's own, so ~/.ssh/config is ours and no key of the
 * machine's user is picked up; no agent is used.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, makeKey, type Sshd, startSshd, type UserKey } from "@tunnel/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runCli } from "./harness/cli.ts";
import { runTunnelExpectingFailure, startTunnel, type TunnelProcess } from "./harness/tunnel-open.ts";

let dir: string;
let home: string;
let key: UserKey;
let sshd: Sshd;
let n = 0;
const running: TunnelProcess[] = [];
const servers: net.Server[] = [];

beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tunnel-ssh-config-cli-"));
  home = path.join(dir, "home");
  await fs.promises.mkdir(path.join(home, ".ssh"), { recursive: true, mode: 0o700 });
  key = await makeKey(path.join(dir, "keys"), "config_key", { type: "ed25519" });
  sshd = await startSshd({ authorizedKeys: [key.pubLine] });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.stop("SIGKILL")));
  for (const s of servers.splice(0)) s.close();
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
});

/** Our HOME, and no agent. */
const ENV = () => ({ HOME: home, SSH_AUTH_SOCK: "" });

/** A config file of the test's own; `lines` joined. */
function config(lines: string[]): string {
  const file = path.join(dir, `config-${++n}`);
  fs.writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
  return file;
}

/** The lines mapping `myalias` to the harness's sshd, as a user would write them. */
function aliasLines(extra: string[] = []): string[] {
  return [
    "Host myalias",
    "  HostName 127.0.0.1",
    `  Port ${sshd.port}`,
    `  User ${sshd.user}`,
    `  IdentityFile ${key.path}`,
    `  UserKnownHostsFile ${sshd.knownHostsFile}`,
    ...extra,
  ];
}

function check(args: string[]): Promise<CliResult> {
  return runCli(["check", ...args], { env: ENV() });
}

interface CheckJson {
  host: string;
  port: number;
  user: string;
  cipher: { clientToServer: string };
  mac: { clientToServer: string };
  kex: string;
  authMethod: string;
  userKey: { fingerprint: string } | null;
}

function report(res: CliResult): CheckJson {
  expect(res.code, `exit code; stderr:\n${res.stderr}`).toBe(0);
  return JSON.parse(res.stdout) as CheckJson;
}

/** Non-zero exit, one `tunnel: ` line first. Returns stderr. */
function failure(res: CliResult): string {
  expect(res.code, `exit code; stdout:\n${res.stdout}\nstderr:\n${res.stderr}`).not.toBe(0);
  expect(res.stderr.split("\n")[0], res.stderr).toMatch(/^tunnel: \S/);
  expect(res.stderr, "stack trace").not.toMatch(/^ {4}at /m);
  return res.stderr;
}

describe("tunnel check through ssh_config", () => {
  it("connects to a Host alias with the HostName, Port, User, IdentityFile and known_hosts of the --config file", async () => {
    const r = report(await check(["myalias", "--config", config(aliasLines()), "--json"]));
    expect(r).toMatchObject({ host: "127.0.0.1", port: sshd.port, user: sshd.user, authMethod: "publickey" });
    expect(r.userKey?.fingerprint).toBe(key.fingerprint);
  });

  it("takes -F as --config", async () => {
    report(await check(["myalias", "-F", config(aliasLines()), "--json"]));
  });

  it("reads ~/.ssh/config when no file is given, and an Include with a glob from there", async () => {
    const sshDir = path.join(home, ".ssh");
    fs.mkdirSync(path.join(sshDir, "conf.d"), { recursive: true });
    fs.writeFileSync(path.join(sshDir, "conf.d", "10-alias.conf"), `${aliasLines().join("\n")}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(sshDir, "config"), "Include conf.d/*.conf\n", { mode: 0o600 });
    try {
      const r = report(await check(["myalias", "--json"]));
      expect(r).toMatchObject({ host: "127.0.0.1", port: sshd.port });
    } finally {
      fs.rmSync(path.join(sshDir, "config"));
    }
  });

  it("uses the configured User: a user sshd does not know is refused", async () => {
    const file = config([
      ...aliasLines().filter((l) => !l.includes("User ")),
      "Host myalias",
      "  User nobody-by-this-name",
    ]);
    const err = failure(await check(["myalias", "--config", file]));
    expect(err).toMatch(/nobody-by-this-name/);
  });

  it("lets the command line beat the file: user@, :port, --identity, --known-hosts, --ciphers", async () => {
    const wrongKnownHosts = path.join(dir, "empty_known_hosts");
    fs.writeFileSync(wrongKnownHosts, "");
    const file = config([
      "Host myalias",
      "  HostName 127.0.0.1",
      "  Port 1",
      "  User nobody-by-this-name",
      `  IdentityFile ${path.join(dir, "no-such-key")}`,
      `  UserKnownHostsFile ${wrongKnownHosts}`,
      "  StrictHostKeyChecking yes",
      "  Ciphers aes128-ctr",
    ]);
    const r = report(
      await check([
        `${sshd.user}@myalias:${sshd.port}`,
        "--config",
        file,
        "--identity",
        key.path,
        "--known-hosts",
        sshd.knownHostsFile,
        "--ciphers",
        "aes256-ctr",
        "--json",
      ]),
    );
    expect(r).toMatchObject({ port: sshd.port, user: sshd.user, cipher: { clientToServer: "aes256-ctr" } });
  });

  it("negotiates the configured Ciphers, MACs and KexAlgorithms, skipping names only ssh implements", async () => {
    const file = config(
      aliasLines([
        "  Ciphers aes128-cbc,aes192-ctr",
        "  MACs hmac-sha2-512",
        "  KexAlgorithms -curve25519*,sntrup761x25519-sha512@openssh.com",
      ]),
    );
    const r = report(await check(["myalias", "--config", file, "--json"]));
    expect(r).toMatchObject({ cipher: { clientToServer: "aes192-ctr" }, mac: { clientToServer: "hmac-sha2-512" } });
    expect(r.kex).not.toMatch(/^curve25519/);
  });

  it("follows StrictHostKeyChecking: yes refuses an unknown host, accept-new records it", async () => {
    const fresh = path.join(dir, "fresh_known_hosts");
    const lines = (policy: string) =>
      aliasLines()
        .map((l) => (l.includes("UserKnownHostsFile") ? `  UserKnownHostsFile ${fresh}` : l))
        .concat(`  StrictHostKeyChecking ${policy}`);
    expect(failure(await check(["myalias", "--config", config(lines("yes"))]))).toMatch(/is not known/);
    report(await check(["myalias", "--config", config(lines("accept-new")), "--json"]));
    expect(fs.readFileSync(fresh, "utf8")).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-`));
  });

  it("looks the host key up under HostKeyAlias", async () => {
    const aliased = path.join(dir, "aliased_known_hosts");
    fs.writeFileSync(aliased, sshd.hostKeys.map((k) => `db-bastion ${k.pubLine}\n`).join(""));
    const file = config(
      aliasLines()
        .map((l) => (l.includes("UserKnownHostsFile") ? `  UserKnownHostsFile ${aliased}` : l))
        .concat("  HostKeyAlias db-bastion", "  StrictHostKeyChecking yes"),
    );
    report(await check(["myalias", "--config", file, "--json"]));
  });

  it("--verbose shows the lines that applied, file:line", async () => {
    const file = config(["Host other", "  Port 9", ...aliasLines(), "Host *", "  ConnectTimeout 10"]);
    const res = await check(["myalias", "--config", file, "--verbose", "--json"]);
    report(res);
    const shown = res.stderr.split("\n").filter((l) => l.startsWith("config: "));
    expect(shown).toEqual([
      `config: ${file}:3: Host myalias`,
      `config: ${file}:4: HostName 127.0.0.1`,
      `config: ${file}:5: Port ${sshd.port}`,
      `config: ${file}:6: User ${sshd.user}`,
      `config: ${file}:7: IdentityFile ${key.path}`,
      `config: ${file}:8: UserKnownHostsFile ${sshd.knownHostsFile}`,
      `config: ${file}:9: Host *`,
      `config: ${file}:10: ConnectTimeout 10`,
    ]);
  });

  it("refuses a bad line with one error naming file:line", async () => {
    const file = config(["Host myalias", "  Colour blue"]);
    const err = failure(await check(["myalias", "--config", file]));
    expect(err.split("\n")[0]).toBe(`tunnel: ${file}:2: Bad configuration option: colour`);
  });

  it("follows ProxyJump, naming the jump host when it cannot be reached", async () => {
    const closed = await freePort();
    const file = config(aliasLines([`  ProxyJump jumper@127.0.0.1:${closed}`]));
    const line = failure(await check(["myalias", "--config", file]));
    expect(line.split("\n")[0]).toMatch(new RegExp(`^tunnel: jump host jumper@127\\.0\\.0\\.1:${closed}: `));
  });
});

function echoServer(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer((s) => s.pipe(s));
    servers.push(srv);
    srv.listen(0, "127.0.0.1", () => resolve((srv.address() as net.AddressInfo).port));
  });
}

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let got = "";
    s.setEncoding("utf8");
    s.on("data", (d: string) => {
      got += d;
      if (got.length >= text.length) {
        s.end();
        resolve(got);
      }
    });
    s.on("error", reject);
    s.write(text);
  });
}

describe("tunnel open --via through ssh_config", () => {
  it("carries a connection through the bastion a Host alias names", async () => {
    const target = await echoServer();
    const file = config(aliasLines());
    const t = await startTunnel(
      [`127.0.0.1:${target}`, "--via", "myalias", "--config", file, "--port", String(await freePort()), "-v"],
      ENV(),
    );
    running.push(t);
    const local = Number(t.lines[0]!.slice(t.lines[0]!.lastIndexOf(":") + 1));
    expect(await roundTrip(local, "through the alias\n")).toBe("through the alias\n");
    expect(t.stderr()).toContain(`config: ${file}:2: HostName 127.0.0.1`);
  });

  it("fails with the file:line of a bad line", async () => {
    const file = config(["Port 70000"]);
    const res = await runTunnelExpectingFailure(["127.0.0.1:1", "--via", "myalias", "-F", file], ENV());
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`tunnel: ${file}:1: bad port "70000"`);
  });
});
