/**
 * ssh_config rules the `ssh -G` corpus cannot show on its own: which files are read and in
 * which order (~/.ssh/config, then the system file; -F alone), where relative Includes
 * point, ssh's permission check, Match exec declined, the lines `--verbose` reports, the
 * ProxyJump chain (each hop checked against `ssh -G -J …`, as ssh itself resolves it), and
 * how a destination's settings combine with the command line's flags.
 */
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appliedConfigLines, destinationVerifier, resolveDestination } from "../src/destination-config.ts";
import { includePattern } from "../src/ssh-config/files.ts";
import {
  type LocalContext,
  localContext,
  proxyCommandLine,
  resolveHostConfig,
  resolveJumpChain,
  type SshHostConfig,
} from "../src/ssh-config/index.ts";

let root: string;
/** A home of our own: ~/.ssh/config lives there. */
let home: string;
let ctx: LocalContext;
let systemFile: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-ssh-config-"));
  home = path.join(root, "home");
  fs.mkdirSync(path.join(home, ".ssh"), { recursive: true, mode: 0o700 });
  systemFile = path.join(root, "etc-ssh_config");
  ctx = { ...localContext(), home };
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function write(file: string, text: string, mode = 0o644): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  fs.chmodSync(file, mode);
  return file;
}

let n = 0;
function configFile(text: string): string {
  return write(path.join(root, `config-${++n}`), text);
}

describe("which files are read", () => {
  it("reads ~/.ssh/config before the system file, first value winning", () => {
    write(path.join(home, ".ssh", "config"), "Host box\n  User from-user-file\n");
    write(systemFile, "Host *\n  User from-system\n  Port 2202\n");
    const c = resolveHostConfig({ host: "box" }, { systemFile }, ctx);
    expect(c).toMatchObject({ user: "from-user-file", port: 2202 });
    expect(c.files).toEqual([path.join(home, ".ssh", "config"), systemFile]);
  });

  it("reads only the --config file when one is given, and nothing for none", () => {
    const file = configFile("Host box\n  Port 3000\n");
    expect(resolveHostConfig({ host: "box" }, { file, systemFile }, ctx)).toMatchObject({ port: 3000, files: [file] });
    expect(resolveHostConfig({ host: "box" }, { file: "none", systemFile }, ctx)).toMatchObject({
      port: 22,
      files: [],
    });
  });

  it("fails for a --config file that does not exist, naming the option as the caller names it", () => {
    const file = path.join(root, "absent");
    expect(() => resolveHostConfig({ host: "box" }, { file }, ctx)).toThrow(
      /absent does not exist \(given with sshConfig\)$/,
    );
    expect(() => resolveHostConfig({ host: "box" }, { file, optionNames: { sshConfig: "--config" } }, ctx)).toThrow(
      /absent does not exist \(given with --config\)$/,
    );
  });

  it("refuses ~/.ssh/config writable by others, as ssh does (Bad owner or permissions)", () => {
    const file = path.join(home, ".ssh", "config");
    write(file, "Host box\n  Port 1\n", 0o666);
    try {
      expect(() => resolveHostConfig({ host: "box" }, { systemFile }, ctx)).toThrow(/bad owner or permissions.*config/);
    } finally {
      fs.chmodSync(file, 0o644);
    }
  });

  it("refuses an included file writable by group, even from a --config file", () => {
    const inc = write(path.join(root, "loose.conf"), "Port 5\n", 0o664);
    const file = configFile(`Include ${inc}\n`);
    expect(() => resolveHostConfig({ host: "box" }, { file }, ctx)).toThrow(/bad owner or permissions.*loose\.conf/);
  });

  it("takes relative Includes under ~/.ssh for user files and /etc/ssh for system files", () => {
    expect(includePattern("conf.d/*.conf", true, "/home/u")).toBe("/home/u/.ssh/conf.d/*.conf");
    expect(includePattern("conf.d/*.conf", false, "/home/u")).toBe("/etc/ssh/conf.d/*.conf");
    expect(includePattern("~/x", true, "/home/u")).toBe("/home/u/x");
    expect(() => includePattern("~/x", false, "/home/u")).toThrow(/not allowed in a system file/);
    write(path.join(home, ".ssh", "included", "a.conf"), "Host box\n  HostKeyAlias from-relative-include\n");
    const file = configFile("Include included/*.conf\n");
    expect(resolveHostConfig({ host: "box" }, { file }, ctx).hostKeyAlias).toBe("from-relative-include");
  });

  it("stops Includes that include themselves", () => {
    const file = path.join(root, "loop.conf");
    write(file, `Include ${file}\n`);
    expect(() => resolveHostConfig({ host: "box" }, { file }, ctx)).toThrow(/loop\.conf:1: too many nested Include/);
  });
});

describe("Match exec", () => {
  it("is never run: the block does not apply and the user is told which line", () => {
    const marker = path.join(root, "exec-ran");
    const file = configFile(
      `Match host box exec "touch ${marker}"\n  Port 7\nMatch host other exec "true"\n  Port 8\n`,
    );
    const c = resolveHostConfig({ host: "box" }, { file }, ctx);
    expect(c.port).toBe(22);
    expect(fs.existsSync(marker)).toBe(false);
    expect(c.warnings).toEqual([
      `${file}:1: Match exec is not supported (we never run commands from ssh_config); this block is skipped`,
    ]);
  });
});

describe("the lines that applied (--verbose)", () => {
  it("lists blocks entered and settings used, file:line, not the ones an earlier value beat", () => {
    const inc = write(path.join(root, "applied.conf"), "Host box\n  IdentityFile ~/.ssh/inc_key\n");
    const file = configFile(
      ["Host box", "  HostName 127.0.0.1", "  Port 2222", `  Include ${inc}`, "Host *", "  Port 9", "  User u"].join(
        "\n",
      ),
    );
    const d = resolveDestination({ destination: "box", sshConfig: file, context: ctx });
    expect(appliedConfigLines(d)).toEqual([
      `${file}:1: Host box`,
      `${file}:2: HostName 127.0.0.1`,
      `${file}:3: Port 2222`,
      `${inc}:1: Host box`,
      `${inc}:2: IdentityFile ~/.ssh/inc_key`,
      `${file}:5: Host *`,
      `${file}:7: User u`,
    ]);
  });
});

/** `ssh -G` for one hop, invoked the way ssh invokes itself for it (-J for the hops before). */
function sshGHop(file: string, hop: SshHostConfig): Record<string, string> {
  const given = (k: "user" | "port") => hop.origins[k]?.file === "command line";
  const args = ["-G", "-F", file];
  if (hop.proxy?.kind === "jump" && hop.origins.proxyjump?.file === "command line") args.push("-J", hop.proxy.spec);
  if (given("user")) args.push("-l", hop.user);
  if (given("port")) args.push("-p", String(hop.port));
  args.push(hop.originalHost);
  const r = spawnSync("ssh", args, { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp > 0 && !(line.slice(0, sp) in out)) out[line.slice(0, sp)] = line.slice(sp + 1);
  }
  return out;
}

describe("ProxyJump chains", () => {
  const text = [
    "Host target",
    "  HostName target.internal",
    "  User deploy",
    "  Port 2200",
    "  ProxyJump ops@edge:2022,%r-mid,inner",
    "Host edge",
    "  HostName edge.example.com",
    "  ProxyJump outer",
    "Host *-mid",
    "  HostName mid.example.com",
    "  Port 2300",
    "  ProxyJump ignored-because-of-J",
    "Host inner",
    "  User inneruser",
    "  IdentityFile ~/.ssh/inner_key",
    "Host outer",
    "  HostName outer.example.com",
    "  User outeruser",
  ].join("\n");

  it("resolves every hop through the configuration, in connection order, as ssh -G -J does", () => {
    const file = configFile(text);
    const target = resolveHostConfig({ host: "target" }, { file }, ctx);
    const chain = resolveJumpChain(target, { file }, ctx);
    expect(chain.map((h) => `${h.user}@${h.hostname}:${h.port}`)).toEqual([
      "outeruser@outer.example.com:22",
      `ops@edge.example.com:2022`,
      `${ctx.localUser}@mid.example.com:2300`,
      "inneruser@inner:22",
    ]);
    // %r in the list is the destination's user: the hop is "deploy-mid".
    expect(chain[2]!.originalHost).toBe("deploy-mid");
    for (const hop of chain) {
      const g = sshGHop(file, hop);
      expect({ hostname: hop.hostname, user: hop.user, port: String(hop.port) }, hop.originalHost).toEqual({
        hostname: g.hostname,
        user: g.user,
        port: g.port,
      });
    }
    expect(chain[3]!.identityFiles.map((f) => f.raw)).toEqual(["~/.ssh/inner_key"]);
  });

  it("refuses a chain that loops", () => {
    const file = configFile("Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n");
    const target = resolveHostConfig({ host: "a" }, { file }, ctx);
    expect(() => resolveJumpChain(target, { file }, ctx)).toThrow(/ProxyJump loops/);
  });

  it("expands ProxyCommand's %h %n %p %r %% only", () => {
    const file = configFile(
      "Host pc\n  HostName real.example\n  User bob\n  ProxyCommand ssh -W %h:%p %r@jump %n 100%%\n",
    );
    const c = resolveHostConfig({ host: "pc" }, { file }, ctx);
    expect(proxyCommandLine(c)).toBe("ssh -W real.example:22 bob@jump pc 100%");
    const bad = resolveHostConfig({ host: "pc" }, { file: configFile("ProxyCommand nc %d\n") }, ctx);
    expect(() => proxyCommandLine(bad)).toThrow(/config-\d+:1: unknown token %d/);
  });

  it("gives each jump host its own settings, and --jump beats the file's ProxyJump and ProxyCommand", () => {
    const file = configFile(
      [
        "Host viajump",
        "  ProxyJump bastion",
        "Host viacmd",
        "  ProxyCommand nc %h %p",
        "Host bastion",
        "  HostName 10.0.0.1",
        "  User jumper",
        "  Port 2200",
        "  UserKnownHostsFile ~/bastion_hosts",
        "Host other",
        "  HostName 10.0.0.2",
        "",
      ].join("\n"),
    );
    const d = resolveDestination({ destination: "viajump", sshConfig: file, context: ctx });
    expect(d.jumps.map((h) => [h.user, h.host, h.port, h.hostKeyName.host])).toEqual([
      ["jumper", "10.0.0.1", 2200, "10.0.0.1"],
    ]);
    expect(d.jumps[0]?.userKnownHosts).toEqual([path.join(home, "bastion_hosts")]);
    const flag = resolveDestination({
      destination: "viajump",
      sshConfig: file,
      context: ctx,
      jump: "u@other:23,bastion",
    });
    expect(flag.jumps.map((h) => [h.user, h.host, h.port])).toEqual([
      ["u", "10.0.0.2", 23],
      ["jumper", "10.0.0.1", 2200],
    ]);
    const cmd = resolveDestination({ destination: "viacmd", sshConfig: file, context: ctx });
    expect(cmd.proxyCommand).toBe("nc viacmd 22");
    const over = resolveDestination({ destination: "viacmd", sshConfig: file, context: ctx, jump: "bastion" });
    expect([over.proxyCommand, over.jumps.length]).toEqual([undefined, 1]);
    const none = resolveDestination({ destination: "viajump", sshConfig: file, context: ctx, jump: "none" });
    expect(none.jumps).toEqual([]);
    const bad = { destination: "viajump", sshConfig: file, context: ctx, jump: "a@" };
    expect(() => resolveDestination({ ...bad, optionNames: { jump: "--jump" } })).toThrow(/^--jump: "a@"/);
    expect(() => resolveDestination(bad)).toThrow(/^jump: "a@"/);
  });
});

describe("a destination under the command line's flags", () => {
  it("takes HostName, User, Port, keys, known hosts, policy, keepalives and timeouts from the file", () => {
    const key = write(path.join(home, ".ssh", "box_key"), "not parsed here\n", 0o600);
    const file = configFile(
      [
        "Host box",
        "  HostName 127.0.0.1",
        "  User boxuser",
        "  Port 2022",
        "  IdentityFile ~/.ssh/box_key",
        "  IdentityFile ~/.ssh/missing_key",
        "  IdentitiesOnly yes",
        "  IdentityAgent ~/agent.sock",
        "  UserKnownHostsFile ~/kh1 ~/kh2",
        "  GlobalKnownHostsFile /g1",
        "  StrictHostKeyChecking accept-new",
        "  ServerAliveInterval 20",
        "  ServerAliveCountMax 4",
        "  ConnectTimeout 1m",
        "  Ciphers aes128-ctr,aes128-cbc",
        "  KexAlgorithms +diffie-hellman-group1-sha1",
        "  MACs -hmac-sha2-512*",
        "  PasswordAuthentication no",
      ].join("\n"),
    );
    const d = resolveDestination({ destination: "box", sshConfig: file, context: ctx });
    expect(d).toMatchObject({
      host: "127.0.0.1",
      user: "boxuser",
      port: 2022,
      hostKeyName: { host: "127.0.0.1", port: 2022 },
      identityFiles: [key],
      identitiesOnly: true,
      agent: path.join(home, "agent.sock"),
      userKnownHosts: [path.join(home, "kh1"), path.join(home, "kh2")],
      globalKnownHosts: ["/g1"],
      hostKeyCheck: "accept-new",
      keepaliveMs: 20_000,
      keepaliveCountMax: 4,
      connectTimeoutMs: 60_000,
      // Names ssh knows but we do not implement are left out; a + list of only those leaves the defaults.
      algorithms: { ciphers: "aes128-ctr", kexAlgorithms: undefined, macs: "-hmac-sha2-512*" },
      passwordAuthentication: false,
    });
  });

  it("lets every flag beat the file", () => {
    const file = configFile(
      "Host box\n  User boxuser\n  Port 2022\n  IdentityFile ~/.ssh/box_key\n  UserKnownHostsFile ~/kh1\n  StrictHostKeyChecking no\n  Ciphers aes128-ctr\n  ServerAliveInterval 20\n  ConnectTimeout 5\n",
    );
    const d = resolveDestination({
      destination: "cli@box:2200",
      sshConfig: file,
      context: ctx,
      identity: "/keys/cli",
      knownHosts: "/kh/cli",
      hostKeyCheck: "yes",
      ciphers: "aes256-ctr",
      keepaliveMs: 0,
      connectTimeoutMs: 1000,
    });
    expect(d).toMatchObject({
      user: "cli",
      port: 2200,
      identityFiles: ["/keys/cli", path.join(home, ".ssh", "box_key")],
      userKnownHosts: ["/kh/cli"],
      globalKnownHosts: [],
      hostKeyCheck: "yes",
      algorithms: { ciphers: "aes256-ctr" },
      keepaliveMs: 0,
      connectTimeoutMs: 1000,
    });
  });

  it("names the line of an algorithm list with nothing we implement", () => {
    const file = configFile("Ciphers aes128-cbc,3des-cbc\n");
    expect(() => resolveDestination({ destination: "box", sshConfig: file, context: ctx })).toThrow(
      new RegExp(`Ciphers \\(${file}:1\\) lists only algorithms tunnel does not implement`),
    );
  });

  it("without a configuration means what it always meant", () => {
    const d = resolveDestination({ destination: "box" });
    expect(d).toMatchObject({
      host: "box",
      port: 22,
      identityFiles: undefined,
      globalKnownHosts: [],
      config: undefined,
    });
    expect(d.userKnownHosts).toEqual([path.join(os.homedir(), ".ssh", "known_hosts")]);
  });
});

describe("host keys over several known_hosts files and HostKeyAlias", () => {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(12);
  const blob = Buffer.concat([lengthPrefixed(Buffer.from("ssh-ed25519")), lengthPrefixed(raw)]);
  const line = (host: string) => `${host} ssh-ed25519 ${blob.toString("base64")}\n`;
  const info = {
    host: "ignored",
    port: 1,
    algorithm: "ssh-ed25519",
    key: { type: "ssh-ed25519", blob: new Uint8Array(blob) },
    fingerprint: "SHA256:test",
    serverHostKeyAlgorithms: ["ssh-ed25519"],
  } as unknown as Parameters<ReturnType<typeof destinationVerifier>>[0];

  it("accepts a key found in the global file, under the alias with no port", async () => {
    const global = write(path.join(root, "global_known_hosts"), line("myalias"));
    const user = path.join(root, "user_known_hosts");
    const file = configFile(
      `Host box\n  HostName 127.0.0.1\n  Port 2222\n  HostKeyAlias myalias\n  UserKnownHostsFile ${user}\n  GlobalKnownHostsFile ${global}\n`,
    );
    const d = resolveDestination({ destination: "box", sshConfig: file, context: ctx });
    expect(d.hostKeyName).toEqual({ host: "myalias", port: 22 });
    await expect(destinationVerifier(d, "yes")(info)).resolves.toBe(true);
    expect(fs.existsSync(user)).toBe(false);
  });

  it("records a new key in the first user file, under the alias", async () => {
    const user1 = path.join(root, "kh-first");
    const user2 = path.join(root, "kh-second");
    const file = configFile(`Host box\n  HostKeyAlias alias2\n  UserKnownHostsFile ${user1} ${user2}\n`);
    const d = resolveDestination({ destination: "box", sshConfig: file, context: ctx });
    await expect(destinationVerifier(d, "yes")(info)).rejects.toThrow(/host key for alias2 is not known/);
    await expect(destinationVerifier(d, "accept-new")(info)).resolves.toBe(true);
    expect(fs.readFileSync(user1, "utf8")).toMatch(/^alias2 ssh-ed25519 /);
    expect(fs.existsSync(user2)).toBe(false);
  });
});

function lengthPrefixed(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
