/**
 * known_hosts (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT): `[marker] hostpatterns keytype base64
 * [comment]`, host patterns as comma lists with `*`, `?` and `!negation`, `[host]:port` for
 * ports other than 22, hashed entries `|1|base64(salt)|base64(HMAC-SHA1(salt, host))`, and the
 * markers `@revoked` and `@cert-authority`. Lines that cannot be read are skipped and reported.
 * Host certificates (OpenSSH PROTOCOL.certkeys) are trusted through `@cert-authority` lines
 * (`lookupHostCertificate`), as sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" describes.
 */
import { SIGNATURE_ALGORITHMS } from "../algorithms/hostkey.ts";
import { matchesPattern } from "../algorithms/select.ts";
import type { CryptoProvider, RandomSource } from "../crypto/provider.ts";
import { equalBytes } from "../crypto/provider.ts";
import { decodeBase64, encodeBase64 } from "../wire/base64.ts";
import {
  CERTIFICATE_TYPES,
  type Certificate,
  certificateProblem,
  isCertificateType,
  parseCertificate,
} from "./certificate.ts";
import { formatPublicKeyLine, parsePublicKeyLine } from "./public-key.ts";
import type { PublicKey, PublicKeyType } from "./types.ts";

/** One usable known_hosts line: its marker, host patterns (plain or hashed) and key. */
export interface KnownHostsEntry {
  /** `@revoked` (the key is refused), `@cert-authority` (the key is a CA for host certificates), "" for neither. */
  marker: "" | "@revoked" | "@cert-authority";
  /** The comma-separated patterns as written; empty for a hashed entry. */
  patterns: string[];
  /** For a `|1|salt|hash` host field: the salt, and the 20-byte HMAC-SHA1 of the name `knownHostsName` gives. */
  hashed: { salt: Uint8Array; hash: Uint8Array } | undefined;
  /** The key (or CA key) the line gives. */
  key: PublicKey;
  /** Its line number in the file, from 1. */
  line: number;
}

/**
 * A line naming hosts whose key we cannot read (ssh-dss, a security-key type, a damaged key).
 * It still pins those hosts: whoever wrote it meant them to be known.
 */
export interface KnownHostsUnreadable {
  marker: KnownHostsEntry["marker"];
  patterns: string[];
  hashed: KnownHostsEntry["hashed"];
  /** The key type as written. */
  type: string;
  line: number;
}

/** A known_hosts file, parsed: its entries, the lines that could not be read, warnings. */
export interface KnownHostsFile {
  /** The lines read, in file order. */
  entries: KnownHostsEntry[];
  /** Lines whose host field was read but whose key was not; they still pin their hosts. */
  unreadable: KnownHostsUnreadable[];
  /** One message per line not used, `line N: why` (unreadable keys included). */
  warnings: string[];
}

/** Parses a known_hosts file as sshd(8) describes it; a bad line is reported, never fatal. */
export function parseKnownHosts(text: string): KnownHostsFile {
  const entries: KnownHostsEntry[] = [];
  const unreadable: KnownHostsUnreadable[] = [];
  const warnings: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostsEntry["marker"] = "";
    if (fields[0]?.startsWith("@")) {
      const m = fields.shift() as string;
      if (m !== "@revoked" && m !== "@cert-authority") {
        warnings.push(`line ${i + 1}: unknown marker ${m}`);
        continue;
      }
      marker = m;
    }
    const hostField = fields.shift();
    if (!hostField || fields.length < 2) {
      warnings.push(`line ${i + 1}: expected "hosts keytype base64"`);
      continue;
    }
    let hashed: KnownHostsEntry["hashed"];
    if (hostField.startsWith("|1|")) {
      const parts = hostField.split("|");
      try {
        hashed = { salt: decodeBase64(parts[2] ?? ""), hash: decodeBase64(parts[3] ?? "") };
      } catch {
        warnings.push(`line ${i + 1}: malformed hashed host name`);
        continue;
      }
      if (parts.length !== 4 || hashed.hash.length !== 20) {
        warnings.push(`line ${i + 1}: malformed hashed host name`);
        continue;
      }
    }
    const patterns = hashed ? [] : hostField.split(",");
    let key: PublicKey;
    try {
      key = parsePublicKeyLine(fields.join(" "));
    } catch (err) {
      warnings.push(`line ${i + 1}: ${(err as Error).message}`);
      unreadable.push({ marker, patterns, hashed, type: (fields[0] as string).slice(0, 64), line: i + 1 });
      continue;
    }
    entries.push({ marker, patterns, hashed, key, line: i + 1 });
  }
  return { entries, unreadable, warnings };
}

/** `host` for port 22, `[host]:port` otherwise — how OpenSSH names a host in the file. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Does the entry name this host? Negated patterns veto (sshd(8)). */
export function entryMatches(
  e: Pick<KnownHostsEntry, "patterns" | "hashed">,
  host: string,
  port: number,
  provider: CryptoProvider,
): boolean {
  const name = knownHostsName(host, port);
  if (e.hashed) {
    const mac = provider.hmac("sha1", e.hashed.salt, new TextEncoder().encode(name));
    return equalBytes(mac, e.hashed.hash);
  }
  let matched = false;
  for (const p of e.patterns) {
    const neg = p.startsWith("!");
    const pat = neg ? p.slice(1) : p;
    if (matchesPattern(pat, name, true)) {
      if (neg) return false;
      matched = true;
    }
  }
  return matched;
}

/** What known_hosts says about a host's key (`lookupHostKey`). */
export interface HostKeyLookup {
  /**
   * `match`: this very key is listed for the host. `mismatch`: the host is listed with other
   * keys of the presented key's type (a changed key). `other-types`: the host is listed, but
   * only with keys of other types — it is still a known host, and the presented key proves
   * nothing about it. `unknown`: no key at all for the host. `revoked`: the key is @revoked.
   */
  status: "match" | "mismatch" | "other-types" | "unknown" | "revoked";
  /** Keys known for this host of the presented key's type (for "mismatch"), or all (otherwise). */
  knownKeys: { key: PublicKey; line: number }[];
  /** For "other-types": lines pinning the host with keys we cannot read. */
  unreadable: { type: string; line: number }[];
}

/** Entries that pin a key for this host: plain lines (not @revoked, not @cert-authority) naming it. */
function pinnedFor<E extends KnownHostsUnreadable | KnownHostsEntry>(
  entries: readonly E[],
  host: string,
  port: number,
  provider: CryptoProvider,
): E[] {
  return entries.filter((e) => e.marker === "" && entryMatches(e, host, port, provider));
}

/**
 * A revoked key is refused wherever it appears; a host with the same key is a match; a host
 * known with other keys of the same type has a changed key. Unlike ssh(1), which matches per
 * key type and so treats a host known only by its ed25519 key as new when it presents an
 * ECDSA one, a host with any key in the file is never new: `other-types` tells the caller so.
 * Pass the file's `unreadable` lines so that a host pinned only by a key we cannot read
 * (ssh-dss, say) is not new either.
 */
export function lookupHostKey(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  key: PublicKey,
  provider: CryptoProvider,
  unreadable: readonly KnownHostsUnreadable[] = [],
): HostKeyLookup {
  if (entries.some((e) => e.marker === "@revoked" && equalBytes(e.key.blob, key.blob))) {
    return { status: "revoked", knownKeys: [], unreadable: [] };
  }
  const forHost = pinnedFor(entries, host, port, provider);
  const all = forHost.map((e) => ({ key: e.key, line: e.line }));
  if (forHost.some((e) => equalBytes(e.key.blob, key.blob))) return { status: "match", knownKeys: all, unreadable: [] };
  const sameType = forHost.filter((e) => e.key.type === key.type);
  if (sameType.length > 0)
    return { status: "mismatch", knownKeys: sameType.map((e) => ({ key: e.key, line: e.line })), unreadable: [] };
  const others = pinnedFor(unreadable, host, port, provider).map((u) => ({ type: u.type, line: u.line }));
  if (forHost.length > 0 || others.length > 0) return { status: "other-types", knownKeys: all, unreadable: others };
  return { status: "unknown", knownKeys: [], unreadable: [] };
}

/**
 * The key types the file pins for this host, in file order, each once: what the client should
 * ask for first in its KEXINIT (as ssh(1) orders its host key algorithms). When a
 * `@cert-authority` line names the host, every certificate type comes first: ssh(1) then
 * asks for a host certificate before any plain key (sshconnect2.c order_hostkeyalgs).
 */
export function knownHostKeyTypes(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  provider: CryptoProvider,
): PublicKeyType[] {
  const certs =
    certificateAuthoritiesFor(entries, host, port, provider).length > 0 ? [...CERTIFICATE_TYPES.keys()] : [];
  return [...new Set([...certs, ...pinnedFor(entries, host, port, provider).map((e) => e.key.type)])];
}

/** The `@cert-authority` lines naming this host (patterns, hashed names and negation as for other lines). */
export function certificateAuthoritiesFor(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  provider: CryptoProvider,
): KnownHostsEntry[] {
  return entries.filter(
    (e) => e.marker === "@cert-authority" && !isCertificateType(e.key.type) && entryMatches(e, host, port, provider),
  );
}

/** What known_hosts says about a host certificate (`lookupHostCertificate`). */
export type HostCertificateLookup =
  /** The certificate, the key inside it or its CA is @revoked (`line`). */
  | { status: "revoked"; what: "certificate" | "key" | "certificate authority"; line: number; certificate: Certificate }
  /** A @cert-authority line for the host holds the CA, and the certificate is valid for the host now. */
  | { status: "trusted"; line: number; certificate: Certificate }
  /** A @cert-authority line for the host holds the CA, but the certificate is not valid: `problem` says why. */
  | { status: "invalid"; line: number; certificate: Certificate; problem: string }
  /** No @cert-authority line for the host holds its CA: ssh(1) then checks the key inside as a plain key. */
  | { status: "no-authority"; certificate: Certificate };

/**
 * A host certificate (OpenSSH PROTOCOL.certkeys) against the file: revoked if the certificate,
 * the key it certifies or the CA that signed it is @revoked; trusted when a `@cert-authority`
 * line naming the host holds its CA, its CA signature verifies, it is a host certificate,
 * valid at `now` (seconds) and lists `host` among its principals (an empty list: any host, as
 * ssh(1) accepts). `host` is the name looked up (HostKeyAlias, else the host as given).
 * Throws `SshError` KEY_FORMAT / BAD_SIGNATURE for a malformed or badly signed certificate.
 */
export function lookupHostCertificate(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  blob: Uint8Array,
  provider: CryptoProvider,
  now: number,
): HostCertificateLookup {
  const certificate = parseCertificate(blob, provider, SIGNATURE_ALGORITHMS);
  for (const e of entries) {
    if (e.marker !== "@revoked") continue;
    if (equalBytes(e.key.blob, blob)) return { status: "revoked", what: "certificate", line: e.line, certificate };
    if (equalBytes(e.key.blob, certificate.keyBlob))
      return { status: "revoked", what: "key", line: e.line, certificate };
    if (equalBytes(e.key.blob, certificate.signatureKey))
      return { status: "revoked", what: "certificate authority", line: e.line, certificate };
  }
  const ca = certificateAuthoritiesFor(entries, host, port, provider).find((e) =>
    equalBytes(e.key.blob, certificate.signatureKey),
  );
  if (!ca) return { status: "no-authority", certificate };
  const problem = certificateProblem(certificate, { role: "host", principal: host, requirePrincipal: false, now });
  if (problem) return { status: "invalid", line: ca.line, certificate, problem };
  return { status: "trusted", line: ca.line, certificate };
}

/** A known_hosts line for the host and port, hashed as `ssh-keygen -H` would when `hashed`. */
export function formatKnownHostsLine(
  host: string,
  port: number,
  key: PublicKey,
  options: { hashed?: boolean; random?: RandomSource; provider?: CryptoProvider } = {},
): string {
  const name = knownHostsName(host, port);
  const bare = formatPublicKeyLine({ ...key, comment: "" });
  if (!options.hashed) return `${name} ${bare}`;
  if (!options.random || !options.provider)
    throw new TypeError("hashed known_hosts lines need options.random and options.provider");
  const salt = options.random(20);
  const hash = options.provider.hmac("sha1", salt, new TextEncoder().encode(name));
  return `|1|${encodeBase64(salt)}|${encodeBase64(hash)} ${bare}`;
}

/** The first line is the whole story; the rest says what to do, as OpenSSH's warning does. */
export function hostKeyChangedMessage(
  host: string,
  port: number,
  presented: string,
  known: string,
  file: string,
  line: number,
): string {
  const name = knownHostsName(host, port);
  return (
    `host key for ${name} has changed: server presented ${presented}, ${file}:${line} has ${known}. ` +
    "Someone could be eavesdropping on you (a man-in-the-middle attack), or the host key was replaced; " +
    `if you know it was replaced, remove line ${line} from ${file}`
  );
}
