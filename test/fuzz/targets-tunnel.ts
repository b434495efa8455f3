/**
 * Fuzz targets, the engine's local inputs (packages/tunnel/src): known_hosts files through the
 * verifier (known-hosts-file.ts), authorized_keys with OpenSSH's options (authorized-keys.ts,
 * sshd(8) AUTHORIZED_KEYS FILE FORMAT), service URLs (target.ts, RFC 3986 §3.2), destinations
 * (destination.ts, ssh(1) `[user@]host[:port]`) and .env files (env.ts).
 *
 * These are the user's own files and arguments: the documented refusal is a `TypeError` whose
 * message says what was wrong (checked by its opening words), or an `SshError` for a host key
 * the verifier refuses; an authorized_keys file never throws (a bad line is a warning). No
 * message, and no masked URL, may show a password.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { nobleProvider } from "../../packages/ssh/src/crypto/noble.ts";
import { SshError } from "../../packages/ssh/src/errors.ts";
import { fingerprintSha256 } from "../../packages/ssh/src/keys/fingerprint.ts";
import { formatPublicKeyLine } from "../../packages/ssh/src/keys/public-key.ts";
import type { PublicKey } from "../../packages/ssh/src/keys/types.ts";
import {
  fromAllows,
  matchAuthorizedKey,
  parseAllowList,
  parseAuthorizedKeys,
  permitListenAllows,
  permitOpenAllows,
} from "../../packages/tunnel/src/authorized-keys.ts";
import { parseDestination, parsePort } from "../../packages/tunnel/src/destination.ts";
import { loadEnvironment } from "../../packages/tunnel/src/env.ts";
import {
  type HostKeyPolicy,
  knownHostKeyTypesIn,
  knownHostsVerifier,
} from "../../packages/tunnel/src/known-hosts-file.ts";
import { mask, parseEnvFile, resolveTarget, rewriteUrl } from "../../packages/tunnel/src/target.ts";
import { Finding, type FuzzTarget } from "./engine.ts";
import { concatBytes, type Rng } from "./mutate.ts";
import { clientKey } from "./targets-auth.ts";

const utf8 = new TextDecoder();
const encode = (s: string) => new TextEncoder().encode(s);
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** A TypeError whose message opens with one of these: the documented refusal of a user's input. */
function typeErrorOpening(...openings: string[]): (err: unknown) => boolean {
  return (err) => err instanceof TypeError && openings.some((o) => err.message.startsWith(o));
}

let scratch: string | undefined;
/** One scratch directory per process, removed when it exits. */
function scratchDir(): string {
  if (!scratch) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-fuzz-"));
    scratch = dir;
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

/** A password marker: wherever it sits in a URL's password, no message may show it. */
const MARK = "Pw0rdX";

/** Is the marker (once in the text) in the password's place: after the user name's colon, before the last "@"? */
function markedPassword(text: string): boolean {
  const at = text.indexOf(MARK);
  if (at < 0 || text.indexOf(MARK, at + 1) >= 0) return false;
  const sep = text.indexOf("://");
  const start = sep < 0 ? 0 : sep + 3;
  const colon = text.indexOf(":", start);
  const last = text.lastIndexOf("@");
  return colon >= 0 && colon < at && at + MARK.length <= last;
}

function noPassword(shown: string, text: string, where: string): void {
  if (markedPassword(text) && shown.includes(MARK))
    throw new Finding(`${where} shows the password: ${shown.slice(0, 200)}`);
}

// ---- known_hosts through the verifier ----------------------------------------------------------------

const HOSTS: [string, number][] = [
  ["example.com", 22],
  ["example.com", 2222],
  ["10.0.0.1", 22],
  ["::1", 22],
];

export const knownHostsFile: FuzzTarget = {
  name: "known-hosts-file",
  describe:
    "knownHostsVerifier and knownHostKeyTypesIn (packages/tunnel/src/known-hosts-file.ts) over a known_hosts file holding the input: a byte choosing policy (yes, accept-new, no) and host, then the text; refusals: SshError HOST_KEY_*; invariants: a key accept-new added is then accepted under yes, a matched key's type is among the pinned types",
  maxLength: 16_384,
  seeds: () => {
    const line = formatPublicKeyLine({ ...clientKey.publicKey, comment: "" });
    return [
      `example.com ${line}\n`,
      `[example.com]:2222 ${line}\n10.0.0.1 ${line}\n`,
      "example.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBA==\n",
      `@revoked * ${line}\n`,
      "example.com ssh-dss AAAAB3NzaC1kc3M=\n",
      "",
    ].flatMap((t, i) => [0, 1, 2, 5, 7].map((b) => concatBytes(Uint8Array.of(b + i), encode(t))));
  },
  accepts: (err) => err instanceof SshError && err.code.startsWith("HOST_KEY_"),
  run(input) {
    if (input.length === 0) return;
    const choice = input[0] as number;
    const file = path.join(scratchDir(), "known_hosts");
    fs.writeFileSync(file, input.subarray(1));
    const policy = (["yes", "accept-new", "no"] as HostKeyPolicy[])[choice % 3] as HostKeyPolicy;
    const [host, port] = HOSTS[(choice >> 2) % HOSTS.length] as [string, number];
    const key: PublicKey = clientKey.publicKey;
    const info = {
      host,
      port,
      algorithm: "ssh-ed25519",
      key,
      fingerprint: fingerprintSha256(nobleProvider, key.blob),
      serverHostKeyAlgorithms: ["ssh-ed25519"],
    };
    const types = knownHostKeyTypesIn(file, host, port);
    let added = false;
    const ok = knownHostsVerifier(file, policy, { added: () => (added = true) })(info);
    if (ok !== true) throw new Finding(`the verifier returned ${String(ok)} instead of true or a throw`);
    if (added) {
      if (knownHostsVerifier(file, "yes")(info) !== true)
        throw new Finding("a key accept-new added is not accepted under yes");
    } else if (policy !== "no" && !types.includes(key.type)) {
      throw new Finding(`the key matched, but the pinned types are ${JSON.stringify(types)}`);
    }
  },
  quick: 300,
};

// ---- authorized_keys ---------------------------------------------------------------------------------

const ADDRESSES = ["127.0.0.1", "::1", "::ffff:10.1.2.3", "10.1.2.3", "192.168.1.20", "fe80::1%eth0", "2001:db8::7"];
const NOW = Date.UTC(2026, 0, 1);

const AK_TOKENS = [
  "restrict",
  "port-forwarding",
  "no-port-forwarding",
  'permitopen="',
  'permitlisten="',
  'from="',
  'expiry-time="',
  'command="',
  "no-pty",
  '"',
  '\\"',
  ",",
  " ",
  "\t",
  "\n",
  "*",
  "?",
  "!",
  "/",
  ":",
  "[",
  "]",
  "10.0.0.0/8",
  "::1",
  "localhost",
  "8000",
  "20300101",
  "Z",
  "ssh-ed25519",
];

export const authorizedKeys: FuzzTarget = {
  name: "authorized-keys",
  describe:
    'parseAuthorizedKeys (packages/tunnel/src/authorized-keys.ts) on any text, then matchAuthorizedKey, fromAllows, permitOpenAllows and permitListenAllows per key and address, and parseAllowList on the first line; refusals: only parseAllowList\'s documented TypeError ("allow: …", the option named by its field); invariants: warnings carry no raw control characters, a match is admitted by its own from= and not expired',
  maxLength: 16_384,
  seeds: () => {
    const line = formatPublicKeyLine({ ...clientKey.publicKey, comment: "fuzz" });
    return [
      `restrict,port-forwarding,permitopen="db.internal:5432",permitopen="[::1]:*" ${line}`,
      `from="10.0.0.0/8,!10.1.2.3,*.example.com",expiry-time="20300101" ${line}`,
      `permitlisten="localhost:8000",permitlisten="*" ${line}\n# comment\nno-pty,no-agent-forwarding ${line}`,
      `command="echo \\"x\\"" ${line}\nexpiry-time="20200229Z" ${line}\nfrom="::ffff:0:0/96,fe80::/10" ${line}`,
      "db.internal:5432,*:443,[::1]:*",
    ].map(encode);
  },
  generate(rng: Rng) {
    const line = formatPublicKeyLine({ ...clientKey.publicKey, comment: "fuzz" });
    let s = "";
    const n = 1 + rng.below(24);
    for (let i = 0; i < n; i++) s += rng.pick(AK_TOKENS);
    return encode(`${s} ${line}`);
  },
  accepts: typeErrorOpening("allow: "),
  run(input) {
    const text = utf8.decode(input);
    const warnings: string[] = [];
    const keys = parseAuthorizedKeys(text, "authorized_keys", (w) => warnings.push(w), NOW);
    for (const w of warnings)
      if (CONTROL.test(w)) throw new Finding(`a warning keeps a control character: ${JSON.stringify(w)}`);
    for (const k of keys.slice(0, 8)) {
      for (const address of ADDRESSES) {
        const m = matchAuthorizedKey(keys, k.key, address, NOW);
        if (m.entry) {
          if (!fromAllows(m.entry.from, address))
            throw new Finding(`a key matched from ${address}, which its from= refuses`);
          if (m.entry.expiresAt !== undefined && m.entry.expiresAt <= NOW) throw new Finding("an expired key matched");
        }
        for (const r of m.refusals)
          if (CONTROL.test(r)) throw new Finding(`a refusal keeps a control character: ${JSON.stringify(r)}`);
      }
      permitOpenAllows(k.permitOpen, "db.internal", 5432);
      permitListenAllows(k.permitListen, "localhost", 8080);
    }
    parseAllowList(text.split("\n")[0] ?? "");
  },
  quick: 2000,
};

// ---- service URLs ------------------------------------------------------------------------------------

const URL_TOKENS = [
  "postgres://",
  "mysql://",
  "redis://",
  "x+y://",
  "user",
  ":",
  MARK,
  "@",
  "/",
  "?",
  "#",
  "%",
  "%40",
  "%2F",
  "%zz",
  "[",
  "]",
  "::1",
  "%25eth0",
  "host",
  ".",
  ",",
  "5432",
  "65536",
  "?password=",
  "&",
  ";",
  " ",
  "\x00",
  "é",
];

export const targetUrl: FuzzTarget = {
  name: "target-url",
  describe:
    "resolveTarget (packages/tunnel/src/target.ts) on a TARGET (mode 0), on DATABASE_URL's value (mode 1), and mask (mode 2); rewriteUrl masked and not; refusals: the documented TypeError; invariants: one host and a port in 1..65535, a password in the URL never shows in an error, in mask() or in the masked rewrite",
  maxLength: 4096,
  seeds: () =>
    [
      `postgres://app:${MARK}@10.0.0.12:5432/app`,
      `postgres://app:${MARK}/x#y@db.internal/app?sslmode=require`,
      `mysql://u:p%40${MARK}@[::1]:3306/db`,
      `redis://:${MARK}@cache`,
      `postgres://app:${MARK}@h1,h2/app`,
      "db.internal:5432",
      "[fe80::1%25eth0]:8080",
      `https://u:${MARK}@example.com/path?password=${MARK}&x=1`,
      `mongodb+srv://u:${MARK}@cluster/db`,
      "DATABASE_URL",
    ].flatMap((s) => [0, 1, 2].map((m) => concatBytes(Uint8Array.of(m), encode(s)))),
  generate(rng: Rng) {
    let s = "";
    const n = 1 + rng.below(20);
    for (let i = 0; i < n; i++) s += rng.pick(URL_TOKENS);
    return concatBytes(Uint8Array.of(rng.below(3)), encode(s));
  },
  accepts: typeErrorOpening("empty target", "environment variable ", "DATABASE_URL:", 'target "'),
  run(input) {
    if (input.length === 0) return;
    const mode = (input[0] as number) % 3;
    const text = utf8.decode(input.subarray(1));
    noPassword(mask(text), text, "mask()");
    if (mode === 2) return;
    let t: ReturnType<typeof resolveTarget>;
    try {
      t = mode === 0 ? resolveTarget(text, {}) : resolveTarget("DATABASE_URL", { DATABASE_URL: text });
    } catch (err) {
      if (err instanceof Error) noPassword(err.message, text, "the error");
      throw err;
    }
    if (t.host === "") throw new Finding("an empty host was accepted");
    if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw new Finding(`port ${t.port} was accepted`);
    const url = t.url;
    if (!url) return;
    const masked = rewriteUrl(t, "127.0.0.1", 12345, true) ?? "";
    const full = rewriteUrl(t, "127.0.0.1", 12345, false) ?? "";
    noPassword(masked, text, "the masked URL");
    if (!full.startsWith(`${url.scheme}://`))
      throw new Finding(`the rewritten URL ${full.slice(0, 80)} lost its scheme`);
    const pw = url.password;
    if (pw && pw.length >= 6) {
      const elsewhere = `${url.scheme}|${url.user ?? ""}|${url.tail}|127.0.0.1:12345`;
      if (masked.includes(pw) && !elsewhere.includes(pw)) throw new Finding("the masked URL shows the password");
    }
  },
  quick: 2000,
};

// ---- destinations ------------------------------------------------------------------------------------

export const destination: FuzzTarget = {
  name: "destination",
  describe:
    "parseDestination and parsePort (packages/tunnel/src/destination.ts); refusals: the documented TypeError; invariants: a non-empty host without spaces or slashes, a port in 1..65535, a user that is absent or non-empty",
  maxLength: 1024,
  seeds: () =>
    [
      "deploy@bastion.example.com:2222",
      "[::1]:22",
      "fe80::1",
      "user@[2001:db8::1]",
      "a@b@c:0",
      "host:65536",
      " x ",
    ].map(encode),
  accepts: typeErrorOpening("empty destination", 'destination "', "fuzz: port"),
  run(input) {
    const text = utf8.decode(input);
    const d = parseDestination(text, 22);
    if (d.host === "" || /[\s/]/.test(d.host)) throw new Finding(`host ${JSON.stringify(d.host)} was accepted`);
    if (!Number.isInteger(d.port) || d.port < 1 || d.port > 65535) throw new Finding(`port ${d.port} was accepted`);
    if (d.user === "") throw new Finding("an empty user was accepted");
    const p = parsePort(text.trim(), "fuzz");
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Finding(`parsePort accepted ${p}`);
  },
  quick: 2000,
};

// ---- .env files ----------------------------------------------------------------------------------------

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const envFile: FuzzTarget = {
  name: "env-file",
  describe:
    "loadEnvironment (packages/tunnel/src/env.ts) with a .env in the working directory and --env-file both holding the input, and parseEnvFile on it; refusals: the documented TypeError naming file:line; invariants: names are valid variable names, explicit --env-file values win, no message shows a password",
  maxLength: 8192,
  seeds: () =>
    [
      `DATABASE_URL=postgres://app:${MARK}@db:5432/app\nexport REDIS_URL='redis://:x@cache' # comment\n`,
      `A="multi\\nline \\"quoted\\""\n# c\n\nB = spaced value # trailing\n`,
      `DATABASE_URL postgres://app:${MARK}@db/app\n`,
      `1BAD=x\n`,
      `X="unterminated\nY=ok\r\n`,
    ].map(encode),
  accepts: (err) =>
    err instanceof TypeError &&
    (err.message.startsWith(`${path.join(scratchDir(), ".env")}:`) ||
      err.message.startsWith(`${path.join(scratchDir(), "fuzz.env")}:`) ||
      err.message.startsWith(".env:")),
  run(input) {
    const text = utf8.decode(input);
    let parsed: Record<string, string>;
    try {
      parsed = parseEnvFile(text, ".env");
    } catch (err) {
      // Judged on the line the error names: a file's lines are separate values.
      if (err instanceof Error) {
        const n = Number(/^\.env:(\d+):/.exec(err.message)?.[1] ?? 0);
        noPassword(err.message, (text.split(/\r?\n/)[n - 1] ?? "").trim(), "the error");
      }
      throw err;
    }
    for (const k of Object.keys(parsed)) if (!ENV_NAME.test(k)) throw new Finding(`variable name ${JSON.stringify(k)}`);
    const dir = scratchDir();
    fs.writeFileSync(path.join(dir, ".env"), input);
    fs.writeFileSync(path.join(dir, "fuzz.env"), input);
    const env = loadEnvironment({ FROM_PROCESS: "1" }, { cwd: dir, envFile: "fuzz.env" });
    for (const [k, v] of Object.entries(parsed)) {
      if (env[k] !== v) throw new Finding(`--env-file's ${k} did not win`);
    }
  },
  quick: 300,
};
