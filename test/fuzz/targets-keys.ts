/**
 * Fuzz targets, keys: public key blobs (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4), public key
 * and authorized_keys lines (sshd(8) AUTHORIZED_KEYS FILE FORMAT), signatures (RFC 8332,
 * RFC 5656 §3.1.2, RFC 8709 §6), private key files (OpenSSH PROTOCOL.key, RFC 8017 A.1.2,
 * RFC 5915, RFC 5208 / RFC 8410) and known_hosts (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT).
 *
 * A key or signature from a peer may only be refused with `SshError` KEY_FORMAT (a signature is
 * simply false); a local key file with KEY_FORMAT or KEY_ENCRYPTED; a known_hosts file never
 * throws (unreadable lines become warnings).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { SIGNATURE_ALGORITHMS } from "../../packages/ssh/src/algorithms/hostkey.ts";
import type { SignatureAlgorithm } from "../../packages/ssh/src/algorithms/types.ts";
import { nobleProvider } from "../../packages/ssh/src/crypto/noble.ts";
import { equalBytes } from "../../packages/ssh/src/crypto/provider.ts";
import { SshError } from "../../packages/ssh/src/errors.ts";
import { isCertificateType } from "../../packages/ssh/src/keys/certificate.ts";
import {
  entryMatches,
  formatKnownHostsLine,
  knownHostKeyTypes,
  lookupHostKey,
  parseKnownHosts,
} from "../../packages/ssh/src/keys/known-hosts.ts";
import { parsePrivateKey } from "../../packages/ssh/src/keys/private-key.ts";
import {
  formatPublicKeyLine,
  KEY_TYPES,
  parseAuthorizedKeysLine,
  parsePublicKeyBlob,
  parsePublicKeyLine,
} from "../../packages/ssh/src/keys/public-key.ts";
import type { PrivateKey, PublicKey } from "../../packages/ssh/src/keys/types.ts";
import { decodeBase64, encodeBase64 } from "../../packages/ssh/src/wire/base64.ts";
import { Reader } from "../../packages/ssh/src/wire/reader.ts";
import { Writer } from "../../packages/ssh/src/wire/writer.ts";
import { fuzzCrypto } from "./crypto.ts";
import { Finding, type FuzzTarget } from "./engine.ts";
import { concatBytes, type Rng } from "./mutate.ts";
import { sshErrorWith } from "./targets-wire.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const keyCrypto = fuzzCrypto(nobleProvider, 0x6b65);
const utf8 = new TextDecoder();
const encode = (s: string) => new TextEncoder().encode(s);
const pattern = (n: number, from: number) => Uint8Array.from({ length: n }, (_, i) => (from + i * 7) & 0xff);

function readSeedKeys(): Map<string, string> {
  const dir = path.join(here, "seeds", "private-keys");
  return new Map(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
}

let seedKeysCache: Map<string, string> | undefined;
function seedKeys(): Map<string, string> {
  seedKeysCache ??= readSeedKeys();
  return seedKeysCache;
}

/** Our sample keys, one per signature family, loaded with the fuzz provider. */
export function sampleKeys(): PrivateKey[] {
  const files = seedKeys();
  return ["openssh-ed25519", "openssh-ecdsa256", "openssh-ecdsa384", "openssh-ecdsa521", "openssh-rsa1024"].map((f) =>
    parsePrivateKey(files.get(f) as string, keyCrypto.provider),
  );
}

let samples: PrivateKey[] | undefined;
function keys(): PrivateKey[] {
  samples ??= sampleKeys();
  return samples;
}

// ---- public key blobs and lines ------------------------------------------------------------------

function checkKey(key: PublicKey, what: string): void {
  if (!(KEY_TYPES as readonly string[]).includes(key.type) && !isCertificateType(key.type))
    throw new Finding(`${what}: unknown type ${key.type}`);
  const again = parsePublicKeyBlob(key.blob);
  if (again.type !== key.type) throw new Finding(`${what}: the blob re-parses as ${again.type}`);
  const line = formatPublicKeyLine(key);
  const back = parsePublicKeyLine(line);
  if (!equalBytes(back.blob, key.blob) || back.comment !== key.comment)
    throw new Finding(`${what}: formatting and parsing the line again changes the key or comment`);
}

export const publicKey: FuzzTarget = {
  name: "public-key",
  describe:
    "parsePublicKeyBlob (mode byte 0: the rest is a blob), parsePublicKeyLine (1) and parseAuthorizedKeysLine (2) on the rest as text; refusals: SshError KEY_FORMAT; invariants: the type is one we support, the blob parses again to the same type, a formatted line parses back to the same blob and comment, options survive being written out again",
  maxLength: 8192,
  seeds: () => {
    const out: Uint8Array[] = [];
    for (const k of keys()) {
      out.push(concatBytes(Uint8Array.of(0), k.publicKey.blob));
      out.push(concatBytes(Uint8Array.of(1), encode(formatPublicKeyLine({ ...k.publicKey, comment: "user@host" }))));
      out.push(
        concatBytes(
          Uint8Array.of(2),
          encode(`restrict,permitopen="db:5432",command="echo \\"hi\\"" ${formatPublicKeyLine(k.publicKey)}`),
        ),
      );
    }
    return out;
  },
  accepts: sshErrorWith("KEY_FORMAT"),
  run(input) {
    if (input.length === 0) return;
    const mode = (input[0] as number) % 3;
    const rest = input.subarray(1);
    if (mode === 0) {
      const key = parsePublicKeyBlob(rest);
      if (!equalBytes(key.blob, rest)) throw new Finding("the parsed blob differs from the input");
      checkKey(key, "blob");
      return;
    }
    const text = utf8.decode(rest);
    if (mode === 1) {
      checkKey(parsePublicKeyLine(text), "line");
      return;
    }
    const { options, key } = parseAuthorizedKeysLine(text);
    checkKey(key, "authorized_keys line");
    if (options.length > 0) {
      const again = parseAuthorizedKeysLine(`${options.join(",")} ${formatPublicKeyLine(key)}`);
      if (again.options.join("\n") !== options.join("\n"))
        throw new Finding(`options ${JSON.stringify(options)} read back as ${JSON.stringify(again.options)}`);
    }
  },
  quick: 2000,
};

// ---- signatures ------------------------------------------------------------------------------------

const SIG_NAMES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-256",
  "rsa-sha2-512",
  "ssh-rsa",
];

/** (key blob, message) pairs something was signed for: the only ones a signature may verify for. */
const signedPairs = new Set<string>();
const pairKey = (blob: Uint8Array, data: Uint8Array) => `${encodeBase64(blob)}|${encodeBase64(data)}`;

function signatureInput(alg: number, blob: Uint8Array, data: Uint8Array, sig: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(alg), new Writer(1024).string(blob).string(data).string(sig).bytes());
}

export const signature: FuzzTarget = {
  name: "signature",
  describe:
    "SignatureAlgorithm.verify for every algorithm (sig-ed25519.ts, sig-ecdsa.ts, sig-rsa.ts): an algorithm byte then string key blob, string data, string signature; refusals: SshError KEY_FORMAT, and only when the blob itself is malformed or of another type; invariant: true only for a key and message that were signed, with a signature naming the algorithm",
  maxLength: 4096,
  seeds: () => {
    const out: Uint8Array[] = [];
    for (const k of keys()) {
      for (const alg of k.type === "ssh-rsa" ? ["rsa-sha2-256", "rsa-sha2-512", "ssh-rsa"] : [k.type]) {
        const data = encode(`signed by ${alg}`);
        signedPairs.add(pairKey(k.publicKey.blob, data));
        const sig = k.sign(data, alg);
        out.push(signatureInput(SIG_NAMES.indexOf(alg), k.publicKey.blob, data, sig));
        // The same signature offered under the neighbouring algorithm.
        out.push(signatureInput((SIG_NAMES.indexOf(alg) + 1) % SIG_NAMES.length, k.publicKey.blob, data, sig));
      }
    }
    return out;
  },
  accepts: sshErrorWith("KEY_FORMAT"),
  run(input) {
    if (signedPairs.size === 0) this.seeds(); // records what was signed
    if (input.length === 0) return;
    const name = SIG_NAMES[(input[0] as number) % SIG_NAMES.length] as string;
    const alg = SIGNATURE_ALGORITHMS.get(name) as SignatureAlgorithm;
    let blob: Uint8Array;
    let data: Uint8Array;
    let sig: Uint8Array;
    try {
      const r = new Reader(input, 1);
      blob = r.string();
      data = r.string();
      sig = r.string();
    } catch {
      return; // not a well-formed test case: nothing to verify
    }
    let ok: boolean;
    try {
      ok = alg.verify(keyCrypto.provider, blob, data, sig);
    } catch (err) {
      if (!(err instanceof SshError)) throw err;
      // KEY_FORMAT only when the blob is bad for this algorithm.
      let fine = false;
      try {
        fine = parsePublicKeyBlob(blob).type === alg.keyType;
      } catch {
        fine = false;
      }
      if (fine) throw new Finding(`verify threw ${err.code} (${err.message}) for a well-formed ${alg.keyType} key`);
      throw err;
    }
    if (typeof ok !== "boolean") throw new Finding(`verify returned ${String(ok)}`);
    if (ok) {
      if (!signedPairs.has(pairKey(blob, data)))
        throw new Finding("a signature verified for a key and message never signed");
      let named = "";
      try {
        named = new Reader(sig).ascii();
      } catch {
        named = "";
      }
      if (named !== name) throw new Finding(`a signature naming "${named}" verified as ${name}`);
    }
  },
  budgetMs: 3000,
  quick: 400,
};

// ---- private key files -----------------------------------------------------------------------------

const LABELS = ["OPENSSH PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"];

/** The PEM armour around a binary body: label, line width, line endings, RFC 1421 headers. */
function armour(labelIndex: number, flags: number, body: Uint8Array): string {
  const label = LABELS[labelIndex % LABELS.length] as string;
  const width = [64, 70, 76, 1, 4096][flags % 5] as number;
  const nl = flags & 8 ? "\r\n" : "\n";
  const b64 = encodeBase64(body);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += width) lines.push(b64.slice(i, i + width));
  const headers = flags & 16 ? `Comment: fuzz${nl}${nl}` : "";
  return `-----BEGIN ${label}-----${nl}${headers}${lines.join(nl)}${nl}-----END ${label}-----${nl}`;
}

/** Mode byte 0xff: the rest is the file's text itself; otherwise label, armour flags, then the body. */
function keyText(input: Uint8Array): string {
  if (input.length < 2 || input[0] === 0xff) return utf8.decode(input.subarray(1));
  return armour(input[0] as number, input[1] as number, input.subarray(2));
}

function keyInput(text: string): Uint8Array {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m || /^[A-Za-z-]+:/m.test(m[2] as string)) return concatBytes(Uint8Array.of(0xff), encode(text));
  const label = LABELS.indexOf(m[1] as string);
  return concatBytes(Uint8Array.of(label, 0), decodeBase64((m[2] as string).replace(/\s+/g, "")));
}

export const privateKey: FuzzTarget = {
  name: "private-key",
  describe:
    "parsePrivateKey on openssh-key-v1, PKCS#1, SEC1 and PKCS#8 files (and encrypted ones): the binary body is mutated and armoured again (label, line width, CR LF, headers chosen by the input), or, mode 0xff, the text itself; refusals: SshError KEY_FORMAT / KEY_ENCRYPTED; invariants: a key that loads has a public blob that parses as its type and signs, for each of its algorithms, a message that verifies",
  maxLength: 8192,
  seeds: () => {
    const out: Uint8Array[] = [];
    for (const text of seedKeys().values()) {
      out.push(keyInput(text));
      out.push(concatBytes(Uint8Array.of(0xff), encode(text)));
    }
    return out;
  },
  accepts: sshErrorWith("KEY_FORMAT", "KEY_ENCRYPTED"),
  run(input) {
    const key = parsePrivateKey(keyText(input), keyCrypto.provider);
    const pub = parsePublicKeyBlob(key.publicKey.blob);
    if (pub.type !== key.type) throw new Finding(`a ${key.type} key has a ${pub.type} public blob`);
    const data = encode("private key check");
    for (const alg of key.signatureAlgorithms) {
      let sig: Uint8Array;
      try {
        sig = key.sign(data, alg);
      } catch (err) {
        throw new Finding(`a ${key.type} key that loaded cannot sign with ${alg}: ${(err as Error).message}`);
      }
      if (!SIGNATURE_ALGORITHMS.get(alg)?.verify(keyCrypto.provider, key.publicKey.blob, data, sig))
        throw new Finding(`a ${key.type} key that loaded signs with ${alg}, but the signature does not verify`);
    }
  },
  budgetMs: 3000,
  quick: 300,
};

// ---- known_hosts -----------------------------------------------------------------------------------

function hostsFrom(text: string): [string, number][] {
  const hosts: [string, number][] = [
    ["example.com", 22],
    ["example.com", 2222],
    ["10.0.0.1", 22],
  ];
  // Names built from the file's own patterns: a wildcard filled in, brackets and ports undone.
  for (const line of text.split("\n").slice(0, 8)) {
    const field = line
      .trim()
      .split(/\s+/)
      .find((f) => !f.startsWith("@"));
    for (const p of (field ?? "").split(",").slice(0, 4)) {
      const bare = p.replace(/^!/, "");
      const m = /^\[([^\]]*)\]:(\d+)$/.exec(bare);
      const name = (m ? (m[1] as string) : bare).replace(/\*/g, "a".repeat(40)).replace(/\?/g, "b");
      if (name && !name.startsWith("|")) hosts.push([name, m ? Number(m[2]) : 22]);
    }
  }
  return hosts.slice(0, 8);
}

const TOKENS = [
  "*",
  "?",
  "!",
  ",",
  "a",
  "aaaaaaaa",
  "example.com",
  "[",
  "]",
  ":2222",
  "|1|",
  "=",
  " ",
  "\t",
  "\n",
  "\r\n",
  "#",
  "@revoked",
  "@cert-authority",
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ssh-rsa",
  "ssh-dss",
  "AAAAC3NzaC1lZDI1NTE5AAAAI",
];

export const knownHosts: FuzzTarget = {
  name: "known-hosts",
  describe:
    "parseKnownHosts (keys/known-hosts.ts) on any text, then lookupHostKey, entryMatches and knownHostKeyTypes for hosts named in the text; refusals: none (a line that cannot be read is a warning); invariant: once a host's line is appended (plain or hashed) the key is found for it, unless the file revokes it",
  maxLength: 16_384,
  seeds: () => {
    const [ed, p256, , , rsa] = keys() as PrivateKey[];
    const line = (k: PrivateKey) => formatPublicKeyLine({ ...k.publicKey, comment: "" });
    const hashed = formatKnownHostsLine("hashed.example", 22, (p256 as PrivateKey).publicKey, {
      hashed: true,
      random: (n) => pattern(n, 5),
      provider: nobleProvider,
    });
    return [
      `example.com,10.0.0.1 ${line(ed as PrivateKey)}\n[example.com]:2222 ${line(p256 as PrivateKey)}\n`,
      `# comment\n*.example.com,!bad.example.com ${line(rsa as PrivateKey)} user@host\n${hashed}\n`,
      `@revoked * ${line(ed as PrivateKey)}\n@cert-authority *.example.com ${line(p256 as PrivateKey)}\n`,
      `example.com ssh-dss AAAAB3NzaC1kc3MAAACBAP\nexample.com ${line(ed as PrivateKey)}\r\n`,
      `|1|bad|hash ${line(ed as PrivateKey)}\n*a*a*a*a*a*a*b ${line(ed as PrivateKey)}\n`,
    ].map(encode);
  },
  generate(rng: Rng) {
    let s = "";
    const n = 1 + rng.below(40);
    for (let i = 0; i < n; i++) s += rng.pick(TOKENS);
    return encode(s);
  },
  accepts: () => false,
  run(input) {
    const text = utf8.decode(input);
    const file = parseKnownHosts(text);
    const key = (file.entries[0]?.key ?? (keys()[0] as PrivateKey).publicKey) as PublicKey;
    const revoked = file.entries.some((e) => e.marker === "@revoked" && equalBytes(e.key.blob, key.blob));
    for (const [host, port] of hostsFrom(text)) {
      lookupHostKey(file.entries, host, port, key, nobleProvider, file.unreadable);
      knownHostKeyTypes(file.entries, host, port, nobleProvider);
      for (const e of file.entries.slice(0, 4)) entryMatches(e, host, port, nobleProvider);
      if (/[\s,]/.test(host) || host.startsWith("!") || host.startsWith("@") || host.startsWith("#")) continue;
      for (const hashed of [false, true]) {
        const added = formatKnownHostsLine(host, port, key, {
          hashed,
          random: (n) => pattern(n, 1),
          provider: nobleProvider,
        });
        // The file with this line appended: its entries, then the line's own.
        const line = parseKnownHosts(added);
        const entries = [...file.entries, ...line.entries];
        const found = lookupHostKey(entries, host, port, key, nobleProvider, [...file.unreadable, ...line.unreadable]);
        const want = revoked ? "revoked" : "match";
        if (found.status !== want)
          throw new Finding(
            `after appending ${JSON.stringify(added.slice(0, 60))} the lookup says ${found.status}, not ${want}`,
          );
      }
    }
  },
  quick: 600,
};
