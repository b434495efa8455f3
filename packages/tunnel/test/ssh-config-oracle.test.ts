/**
 * ssh_config resolution against the oracle, OpenSSH's own `ssh -G` (it prints the settings
 * ssh would use for a destination and exits; no network). For every configuration of the
 * corpus and every destination, the settings we honour must equal what `ssh -G -F FILE`
 * prints, and a file ssh refuses we refuse at the same line. Needs the `ssh` binary (the
 * test command installs Debian's).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalContext, localContext, resolveHostConfig, type SshHostConfig } from "../src/ssh-config/index.ts";
import { homeOfUser } from "../src/ssh-config/tokens.ts";

interface Destination {
  host: string;
  user?: string;
  port?: number;
}

interface Case {
  name: string;
  /** File name → text; `config` is the one given with -F. `@DIR@` stands for the case's directory. */
  files: Record<string, string>;
  destinations: (string | Destination)[];
}

let root: string;
let ctx: LocalContext;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-ssh-config-oracle-"));
  const base = localContext();
  // ssh takes ~ and %d from the passwd entry, not from $HOME.
  ctx = { ...base, home: homeOfUser(base.localUser) ?? base.home };
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function writeCase(c: Case): string {
  const dir = fs.mkdtempSync(path.join(root, "case-"));
  for (const [name, text] of Object.entries(c.files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text.replaceAll("@DIR@", dir), { mode: 0o644 });
  }
  return path.join(dir, "config");
}

function sshArgs(file: string, d: Destination): string[] {
  return [
    "-G",
    "-F",
    file,
    ...(d.user !== undefined ? ["-l", d.user] : []),
    ...(d.port !== undefined ? ["-p", String(d.port)] : []),
    d.host,
  ];
}

/** `ssh -G` output as keyword → values (several for identityfile and the like). */
function sshG(file: string, d: Destination): { code: number | null; values: Map<string, string[]>; stderr: string } {
  const r = spawnSync("ssh", sshArgs(file, d), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.error) throw new Error(`cannot run ssh -G: ${r.error.message}`);
  const values = new Map<string, string[]>();
  for (const line of r.stdout.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp <= 0) continue;
    const k = line.slice(0, sp).toLowerCase();
    values.set(k, [...(values.get(k) ?? []), line.slice(sp + 1)]);
  }
  return { code: r.status, values, stderr: r.stderr };
}

let sshDefaults: Map<string, string[]> | undefined;
/** What ssh prints with no configuration at all: its defaults. */
function defaults(): Map<string, string[]> {
  sshDefaults ??= sshG("/dev/null", { host: "defaults.invalid" }).values;
  return sshDefaults;
}

const one = (m: Map<string, string[]>, k: string): string | undefined => m.get(k)?.[0];

/** OpenSSH's list syntax applied to its own default list (kex.c's kex_assemble_names). */
function applyList(spec: string | undefined, def: string): string {
  if (spec === undefined) return def;
  const base = def.split(",");
  const names = spec.slice(/^[-+^]/.test(spec) ? 1 : 0).split(",");
  const glob = (p: string) => new RegExp(`^${p.replace(/[.+]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".")}$`);
  let out: string[];
  if (spec.startsWith("+")) out = [...base, ...names];
  else if (spec.startsWith("^")) out = [...names, ...base];
  else if (spec.startsWith("-")) out = base.filter((a) => !names.some((p) => glob(p).test(a)));
  else out = names;
  return [...new Set(out)].join(",");
}

function formatJump(c: SshHostConfig): string | undefined {
  if (c.proxy?.kind !== "jump") return undefined;
  const last = c.proxy.hops[c.proxy.hops.length - 1]!;
  const host = last.host.includes(":") ? `[${last.host}]` : last.host;
  const fmt = `${last.user !== undefined ? `${last.user}@` : ""}${host}${last.port !== undefined ? `:${last.port}` : ""}`;
  const comma = c.proxy.spec.lastIndexOf(",");
  return comma > 0 ? `${c.proxy.spec.slice(0, comma)},${fmt}` : fmt;
}

const yesNo = (b: boolean) => (b ? "yes" : "no");
const STRICT: Record<string, string> = { yes: "true", no: "false", ask: "ask", "accept-new": "accept-new" };

/** Our resolution in `ssh -G`'s words, ssh's defaults filled in where we have no value. */
function ours(c: SshHostConfig): Record<string, string | undefined> {
  const d = defaults();
  return {
    hostname: c.hostname,
    user: c.user,
    port: String(c.port),
    identityfile:
      c.identityFiles.length > 0 ? c.identityFiles.map((f) => f.raw).join(" | ") : d.get("identityfile")?.join(" | "),
    certificatefile: c.certificateFiles.length > 0 ? c.certificateFiles.map((f) => f.raw).join(" | ") : undefined,
    identitiesonly: yesNo(c.identitiesOnly ?? false),
    identityagent: c.identityAgent,
    proxyjump: formatJump(c),
    proxycommand: c.proxy?.kind === "command" ? c.proxy.command : undefined,
    userknownhostsfile: c.userKnownHostsFiles?.join(" ") ?? one(d, "userknownhostsfile")?.replaceAll("~", ctx.home),
    globalknownhostsfile: c.globalKnownHostsFiles?.join(" ") ?? one(d, "globalknownhostsfile"),
    stricthostkeychecking: STRICT[c.strictHostKeyChecking ?? "ask"],
    hostkeyalias: c.hostKeyAlias,
    // Debian's ssh turns keepalives on (300 s) in batch mode unless told otherwise.
    serveraliveinterval: String(c.serverAliveInterval ?? (c.batchMode ? 300 : 0)),
    serveralivecountmax: String(c.serverAliveCountMax ?? 3),
    connecttimeout: c.connectTimeout === undefined ? "none" : String(c.connectTimeout),
    ciphers: applyList(c.ciphers, one(d, "ciphers")!),
    kexalgorithms: applyList(c.kexAlgorithms, one(d, "kexalgorithms")!),
    hostkeyalgorithms: applyList(c.hostKeyAlgorithms, one(d, "hostkeyalgorithms")!),
    macs: applyList(c.macs, one(d, "macs")!),
    pubkeyacceptedalgorithms: applyList(c.pubkeyAcceptedAlgorithms, one(d, "pubkeyacceptedalgorithms")!),
    preferredauthentications: c.preferredAuthentications,
    passwordauthentication: yesNo(c.passwordAuthentication ?? true),
    kbdinteractiveauthentication: yesNo(c.kbdInteractiveAuthentication ?? true),
    batchmode: yesNo(c.batchMode ?? false),
    addressfamily: c.addressFamily ?? "any",
  };
}

/** ssh -G's values for the same keywords. */
function theirs(m: Map<string, string[]>, keys: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k of keys) {
    const v = m.get(k);
    out[k] = v === undefined ? undefined : k === "identityfile" || k === "certificatefile" ? v.join(" | ") : v[0];
  }
  return out;
}

/** `${NAME}` as written in a configuration file. */
const env = (name: string) => `$\{${name}}`;

const asDestination = (d: string | Destination): Destination => (typeof d === "string" ? { host: d } : d);
const label = (d: Destination) =>
  `${d.user !== undefined ? `${d.user}@` : ""}${d.host}${d.port !== undefined ? ` -p ${d.port}` : ""}`;

const CORPUS: Case[] = [
  {
    name: "aliases: Host gives HostName, User, Port, IdentityFile; other hosts keep the defaults",
    files: {
      config: [
        "Host myalias",
        "  HostName 127.0.0.1",
        "  User deploy",
        "  Port 2222",
        "  IdentityFile ~/.ssh/deploy_key",
        "Host db prod-db",
        "  HostName db.internal.example.com",
        "",
      ].join("\n"),
    },
    destinations: ["myalias", "db", "prod-db", "other", { host: "myalias", user: "cli", port: 2200 }],
  },
  {
    name: "wildcards: * and ? in Host patterns, case-sensitive against the host as typed",
    files: {
      config: [
        "Host *.prod.example.com",
        "  User produser",
        "Host db?.internal",
        "  Port 5022",
        "Host FOO*",
        "  HostKeyAlias upper",
        "Host *",
        "  User everyone",
        "  ConnectTimeout 7",
      ].join("\n"),
    },
    destinations: ["web.prod.example.com", "db1.internal", "db10.internal", "FOO.example", "foo.example", "x"],
  },
  {
    name: "negation: a matching !pattern vetoes the Host line; a line of negations alone never matches",
    files: {
      config: [
        "Host *.example.com !bastion.example.com",
        "  ProxyJump jump@bastion.example.com:2222",
        "Host !nomatch",
        "  Port 1111",
        "Host * !*.example.com",
        "  User outsider",
      ].join("\n"),
    },
    destinations: ["app.example.com", "bastion.example.com", "example.org"],
  },
  {
    name: "Match host sees HostName; originalhost the name as typed; both case-insensitive",
    files: {
      config: [
        "Host alias1",
        "  HostName Real.Example.COM",
        "Match host real.example.com",
        "  Port 1111",
        "Match originalhost ALIAS1",
        "  ConnectTimeout 7",
        "Match !host real.*",
        "  ServerAliveCountMax 9",
        "Match host !real.example.com,*.com",
        "  HostKeyAlias never",
      ].join("\n"),
    },
    destinations: ["alias1", "ALIAS1", "other.com"],
  },
  {
    name: "Match user (the command line's, else the configured one, else local) and localuser",
    files: {
      config: [
        "Host alias1",
        "  User cfguser",
        "Match user cfguser",
        "  ServerAliveInterval 11",
        "Match user bob",
        "  ServerAliveCountMax 9",
        "Match user BOB",
        "  HostKeyAlias case-sensitive",
        "Match localuser *",
        "  AddressFamily inet",
        "Match localuser nobody-at-all",
        "  Port 9",
      ].join("\n"),
    },
    destinations: ["alias1", { host: "alias1", user: "bob" }, "other"],
  },
  {
    name: "Match all, !all, combined criteria, a comment ending the line",
    files: {
      config: [
        "Match host foo all",
        "  Port 4001",
        "Match !all",
        "  User never",
        "Match host=bar user *  # a comment",
        "  Port 4002",
        "Match all",
        "  BatchMode yes",
      ].join("\n"),
    },
    destinations: ["foo", "bar", "baz"],
  },
  {
    name: "Match final reads the files again: Host then matches HostName, canonical and final are true",
    files: {
      config: [
        "Host alias2",
        "  HostName target.example",
        "Match final host target.example",
        "  HostKeyAlias finalpass",
        "  Port 3333",
        "Host target.example",
        "  User second-reading",
        "Match canonical",
        "  AddressFamily inet6",
        "Match final",
        "  HostName ignored-in-final.example",
      ].join("\n"),
    },
    destinations: ["alias2", "target.example", "other"],
  },
  {
    name: "Include with globs: sorted, hidden files skipped, blocks inside, nothing from an inactive block",
    files: {
      config: [
        "Host nothere",
        "  Include @DIR@/conf.d/*.conf",
        "Host inc",
        "  Include @DIR@/conf.d/?.conf @DIR@/missing/*.conf @DIR@/more/[xy]*.conf",
        "  HostKeyAlias after-include",
        "Host *",
        "  IdentityFile ~/.ssh/last",
      ].join("\n"),
      "conf.d/a.conf": "ConnectTimeout 5\nMatch all\n  BatchMode yes\n",
      "conf.d/b.conf": "Port 2002\nHost inc\n  User incuser\n  IdentityFile ~/.ssh/from-b\n",
      "conf.d/.hidden.conf": "ServerAliveCountMax 77\n",
      "conf.d/long.conf": "PreferredAuthentications never\n",
      "more/x1.conf": "Include @DIR@/more/nested.inc\n",
      "more/nested.inc": "Host inc\n  Ciphers aes256-ctr\n",
      "more/z.conf": "MACs hmac-sha1\n",
    },
    destinations: ["inc", "nothere", "elsewhere"],
  },
  {
    name: "tokens: %h in HostName; %C %d %h %i %k %L %l %n %p %r %u %% and environment variables in paths",
    files: {
      config: [
        "Host tok",
        "  HostName %h.Example.com",
        "  User tokuser",
        "  Port 2345",
        "  HostKeyAlias alias-%h",
        `  UserKnownHostsFile /kh/%C/%d/%h/%i/%k/%L/%l/%n/%p/%r/%u/%%/${env("HOME")} ~/kh2/%h`,
        "  IdentityAgent ~/agent/%r@%h:%p",
        "  IdentityFile ~/.ssh/id_%r_%h",
        "  CertificateFile ~/.ssh/%n-cert.pub",
        "Host lit",
        "  HostName a%%b",
        "  UserKnownHostsFile ~ ~/ ~//x %%literal",
      ].join("\n"),
    },
    destinations: ["tok", "lit", { host: "tok", user: "override", port: 2200 }],
  },
  {
    name: "ProxyJump chains and ProxyCommand: first one wins, none included",
    files: {
      config: [
        "Host j-chain",
        "  ProxyJump a@j1:23,j2,ssh://u@j3:2022",
        "Host j-uri",
        "  ProxyJump ssh://u;param@h.example:1",
        "Host j-v6",
        "  ProxyJump [::1]:2200",
        "Host j-none",
        "  ProxyJump none",
        "  ProxyCommand nc %h %p",
        "Host c-first",
        '  ProxyCommand ssh -W %h:%p "jump host" # kept as written',
        "  ProxyJump ignored",
        "Host c-none",
        "  ProxyCommand none",
        "  ProxyJump ignored",
        "Host *",
        "  ProxyJump fallback",
      ].join("\n"),
    },
    destinations: ["j-chain", "j-uri", "j-v6", "j-none", "c-first", "c-none", "plain"],
  },
  {
    name: "first value wins, IdentityFile and CertificateFile accumulate without duplicates",
    files: {
      config: [
        "Host *",
        "  IdentityFile ~/.ssh/first",
        "  CertificateFile ~/.ssh/first-cert.pub",
        "Host multi",
        "  Port 1001",
        "  User first",
        "  IdentityFile ~/.ssh/second",
        "  IdentityFile ~/.ssh/first",
        "  CertificateFile ~/.ssh/second-cert.pub",
        "  StrictHostKeyChecking accept-new",
        "Host multi",
        "  Port 1002",
        "  User second",
        "  StrictHostKeyChecking no",
        '  IdentityFile "~/.ssh/with space"',
      ].join("\n"),
    },
    destinations: ["multi", "single"],
  },
  {
    name: "syntax: Key=Value, quotes, escapes, comments, CRLF, keyword case, aliases of keywords",
    files: {
      config: [
        "# a comment",
        "   ",
        "HOSTNAME=h.example",
        'User = "some user"',
        "Port\t=2222",
        '\tIdentityFile a"b c"d',
        'IdentityFile x\\ y\\"z',
        "PreferredAuthentications publickey,password # trailing comment",
        "ChallengeResponseAuthentication no\r",
        "PubkeyAcceptedKeyTypes ssh-ed25519,rsa-sha2-512\r",
        "IdentityFile2 legacy",
        "ProtocolKeepAlives 33",
        "",
      ].join("\n"),
    },
    destinations: ["syntax"],
  },
  {
    name: "values: times, integers, ports by service name, multi-state words in any case",
    files: {
      config: [
        "Host t1",
        "  ConnectTimeout 1m30s",
        "  ServerAliveInterval 1h",
        "  ServerAliveCountMax 010",
        "  Port ssh",
        "  StrictHostKeyChecking off",
        "  BatchMode TRUE",
        "  IdentitiesOnly yes",
        "  PasswordAuthentication False",
        "  AddressFamily inet6",
        "Host t2",
        "  ConnectTimeout 1w2d3h4m5s",
        "  ServerAliveCountMax +5",
        "  StrictHostKeyChecking YES",
        "  BatchMode yes",
        "  ServerAliveInterval 0",
        "Host t3",
        "  StrictHostKeyChecking ask",
        "  ConnectTimeout 0",
        "  GlobalKnownHostsFile /etc/ssh/one ~/two",
        "  UserKnownHostsFile none",
        "  KbdInteractiveAuthentication no",
      ].join("\n"),
    },
    destinations: ["t1", "t2", "t3"],
  },
  {
    name: "algorithm lists: replace, +append, -remove with wildcards, ^prepend",
    files: {
      config: [
        "Host a1",
        "  Ciphers aes128-ctr,aes256-gcm@openssh.com",
        "  KexAlgorithms -diffie-hellman*,sntrup*",
        "  MACs ^hmac-sha2-512",
        "  HostKeyAlgorithms +ssh-rsa",
        "  PubkeyAcceptedAlgorithms ssh-ed25519",
        "Host a2",
        "  Ciphers -*cbc,aes128*",
        "  KexAlgorithms +diffie-hellman-group14-sha1",
        "  MACs hmac-sha2-256-etm@openssh.com",
        "  HostKeyAlgorithms ^ecdsa-sha2-nistp256",
      ].join("\n"),
    },
    destinations: ["a1", "a2"],
  },
  {
    name: "host names: lower-cased; numeric addresses in canonical form",
    files: {
      config: [
        "Host v4short",
        "  HostName 127.1",
        "Host v4octal",
        "  HostName 010.0x1.1.1",
        "Host v4int",
        "  HostName 12345",
        "Host v6",
        "  HostName FE80::0001",
        "Host v6mapped",
        "  HostName ::FFFF:1.2.3.4",
        "Host v6tail",
        "  HostName 1:0:0:0:0:0:0:0",
      ].join("\n"),
    },
    destinations: ["v4short", "v4octal", "v4int", "v6", "v6mapped", "v6tail", "Mixed.Case.Example"],
  },
  {
    name: "ignored keywords are accepted; IgnoreUnknown skips unknown ones that follow it",
    files: {
      config: [
        "IgnoreUnknown UseKeychain,Foo*",
        "UseKeychain yes",
        "foobar anything",
        "ForwardAgent yes",
        "SendEnv LANG LC_*",
        "HashKnownHosts yes",
        "GSSAPIAuthentication yes",
        "ControlMaster auto",
        "ControlPath ~/.ssh/cm-%C",
        "LocalForward 8080 localhost:80",
        "Compression yes",
        "Protocol 2",
        "Host *",
        "  Port 2022",
      ].join("\n"),
    },
    destinations: ["any"],
  },
];

describe("ssh_config resolution equals ssh -G", () => {
  for (const c of CORPUS) {
    it(c.name, () => {
      const file = writeCase(c);
      for (const dd of c.destinations) {
        const d = asDestination(dd);
        const g = sshG(file, d);
        expect(g.code, `ssh -G ${label(d)} failed:\n${g.stderr}`).toBe(0);
        const mine = ours(resolveHostConfig({ host: d.host, user: d.user, port: d.port }, { file }, ctx));
        expect(mine, `destination ${label(d)}`).toEqual(theirs(g.values, Object.keys(mine)));
      }
    });
  }
});

const BAD: { name: string; text: string; host?: string }[] = [
  { name: "an unknown keyword", text: "Host x\n  Colour blue\n" },
  { name: "an unknown keyword before IgnoreUnknown names it", text: "Foo 1\nIgnoreUnknown Foo\n" },
  { name: "a keyword with no argument", text: "Port\n" },
  { name: "an empty Key= value", text: "User=\n" },
  { name: "a port that is not one (in a block that does not apply)", text: "Host other\n  Port abc\n" },
  { name: "port 0", text: "Port 0\n" },
  { name: "a port above 65535", text: "Port 70000\n" },
  { name: "extra arguments", text: "Host x\nIdentityFile a b\n" },
  { name: "an unclosed quote", text: 'HostName "abc\n' },
  { name: "a bad flag", text: "BatchMode maybe\n" },
  { name: "a bad StrictHostKeyChecking", text: "StrictHostKeyChecking sometimes\n" },
  { name: "a bad time", text: "ConnectTimeout 5x\n" },
  { name: "a negative count", text: "ServerAliveCountMax -1\n" },
  { name: "a Match criterion without its argument", text: "Match host\n" },
  { name: "an unknown Match criterion", text: "Match colour blue\n" },
  { name: "Match all combined with another criterion after it", text: "Match all host foo\n" },
  { name: "Match with a comment where its argument should be", text: "Match host # nothing\n" },
  { name: "Host with an empty pattern", text: 'Host ""\n' },
  { name: "ProxyJump with an empty hop", text: "ProxyJump a,,b\n" },
  { name: "ProxyJump with port 0", text: "ProxyJump u@h:0\n" },
  { name: "ProxyJump with a path", text: "ProxyJump ssh://h/path\n" },
  { name: "UserKnownHostsFile none among others", text: "UserKnownHostsFile a none\n" },
  { name: "an unknown token in HostName", text: "HostName %x\n", host: "foo" },
  {
    name: "an unset variable in UserKnownHostsFile",
    text: `UserKnownHostsFile ${env("TUNNEL_TEST_UNSET_VARIABLE")}\n`,
  },
];

describe("a file ssh refuses is refused at the same line", () => {
  for (const b of BAD) {
    it(`refuses ${b.name}`, () => {
      const file = writeCase({ name: b.name, files: { config: `# line 1\n${b.text}` }, destinations: [] });
      const host = b.host ?? "x";
      const g = sshG(file, { host });
      expect(g.code, `ssh -G accepted it:\n${[...g.values.keys()].length} settings`).not.toBe(0);
      let err: unknown;
      try {
        resolveHostConfig({ host }, { file }, ctx);
      } catch (e) {
        err = e;
      }
      expect(err, "we accepted it").toBeInstanceOf(TypeError);
      const message = (err as Error).message;
      expect(message.split("\n")).toHaveLength(1);
      const sshLine = /line (\d+)/.exec(g.stderr)?.[1];
      // ssh names the line for most errors; where it does not (a bad token), we still do.
      expect(message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${sshLine ?? "\\d+"}: `));
    });
  }
});
