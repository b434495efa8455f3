/**
 * Host-key verification against an OpenSSH known_hosts file, with the policies of ssh(1)'s
 * StrictHostKeyChecking: `yes` (unknown hosts refused), `accept-new` (unknown hosts added,
 * changed keys refused), `no` (anything accepted, loudly).
 *
 * Pinning is per host, not per key type: a host with any key in the file is not new, so a
 * server that shows a key of a type the file does not hold for it is refused under `yes` and
 * `accept-new` alike (ssh(1)'s accept-new would add it; a machine in the middle need only
 * offer another type). The client offers the pinned types first (`knownHostKeyTypesIn`, then
 * `resolveAlgorithms`), so an honest server negotiates a pinned key.
 *
 * A host certificate is trusted through a `@cert-authority` line naming the host (or its
 * HostKeyAlias): signed by that CA, a host certificate, valid now, the name among its
 * principals. Refused outright when revoked or invalid; when no line holds its CA, the key
 * inside is checked as a plain key, as ssh(1) does.
 *
 * The file is appended to atomically enough for its format: one whole line per write, with
 * the file created mode 0600 if absent. A changed key is never overwritten.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import {
  fingerprintSha256,
  formatKnownHostsLine,
  type HostKeyInfo,
  type HostKeyLookup,
  type HostKeyVerifier,
  hostKeyChangedMessage,
  isCertificateType,
  knownHostKeyTypes,
  lookupHostCertificate,
  lookupHostKey,
  nobleProvider,
  parseKnownHosts,
  parsePublicKeyBlob,
  peerText,
  SshError,
} from "@tunnel/ssh";
import { hostKeyTypeOf } from "./algorithms.ts";
import { hostPortLabel } from "./destination.ts";
import { unreadableFile } from "./named-file.ts";
import { type OptionNames, optionName } from "./option-names.ts";

/** What to do with a host key known_hosts does not vouch for (ssh's StrictHostKeyChecking). */
export type HostKeyPolicy = "yes" | "accept-new" | "no";

/** Every `HostKeyPolicy`, for option parsing. */
export const HOST_KEY_POLICIES: readonly HostKeyPolicy[] = ["yes", "accept-new", "no"];

export interface VerifierEvents {
  /** A first-seen key was added to the file. */
  added?(info: HostKeyInfo, file: string): void;
  /** Policy `no`: a key was accepted without a check. */
  unchecked?(info: HostKeyInfo): void;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw unreadableFile("known_hosts file", file, err);
  }
}

/**
 * Checks a host key against `file` under `policy`; refusals that say what to change name the
 * options as `names` says (option-names.ts).
 */
export function knownHostsVerifier(
  file: string,
  policy: HostKeyPolicy,
  events: VerifierEvents = {},
  names?: OptionNames,
): HostKeyVerifier {
  return (shown) => {
    let info = shown;
    const label = hostPortLabel(info.host, info.port);
    if (policy === "no") {
      events.unchecked?.(info);
      return true;
    }
    const { entries, unreadable } = parseKnownHosts(readText(file));
    if (isCertificateType(info.key.type)) {
      const plain = checkHostCertificate(file, entries, info);
      if (plain === true) return true;
      info = plain;
    }
    const found = lookupHostKey(entries, info.host, info.port, info.key, nobleProvider, unreadable);
    if (found.status === "match") return true;
    if (found.status === "revoked") {
      throw new SshError(
        "HOST_KEY_REJECTED",
        `host key for ${label} (${info.fingerprint}) is marked @revoked in ${file}`,
      );
    }
    if (found.status === "mismatch") {
      const known = found.knownKeys[0];
      throw new SshError(
        "HOST_KEY_CHANGED",
        hostKeyChangedMessage(
          info.host,
          info.port,
          info.fingerprint,
          known ? fingerprintOf(known.key.blob) : "(unknown)",
          file,
          known?.line ?? 0,
        ),
      );
    }
    if (found.status === "other-types") throw otherTypesError(info, found, file, names);
    if (policy === "accept-new") {
      const line = formatKnownHostsLine(info.host, info.port, info.key);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const existing = readText(file);
      const sep = existing.length > 0 && !existing.endsWith("\n") ? "\n" : "";
      fs.appendFileSync(file, `${sep}${line}\n`, { mode: 0o600 });
      events.added?.(info, file);
      return true;
    }
    throw new SshError(
      "HOST_KEY_UNKNOWN",
      `host key for ${label} is not known (${info.key.type} ${info.fingerprint}); verify the fingerprint, then rerun with ${optionName(names, "hostKeyCheck")} accept-new or add it to ${file}`,
    );
  };
}

/**
 * A host certificate against one file's lines: true when a `@cert-authority` line for the
 * host trusts it; an error when it, its key or its CA is revoked, or when its CA is trusted
 * but the certificate is not valid for this host now; otherwise (no line holds its CA) the
 * key inside, to be checked as a plain key, as ssh(1) falls back to it.
 */
function checkHostCertificate(
  file: string,
  entries: ReturnType<typeof parseKnownHosts>["entries"],
  info: HostKeyInfo,
  now = Date.now() / 1000,
): true | HostKeyInfo {
  const label = hostPortLabel(info.host, info.port);
  let found: ReturnType<typeof lookupHostCertificate>;
  try {
    found = lookupHostCertificate(entries, info.host, info.port, info.key.blob, nobleProvider, now);
  } catch (err) {
    throw new SshError("HOST_KEY_REJECTED", `host certificate for ${label} refused: ${(err as Error).message}`);
  }
  const cert = found.certificate;
  const ca = `CA ${fingerprintOf(cert.signatureKey)}`;
  if (found.status === "revoked") {
    const what = found.what === "certificate authority" ? `its certificate authority (${ca})` : `its ${found.what}`;
    throw new SshError(
      "HOST_KEY_REJECTED",
      `host certificate for ${label} (${fingerprintOf(cert.keyBlob)}) refused: ${what} is marked @revoked in ${file}:${found.line}`,
    );
  }
  if (found.status === "invalid") {
    throw new SshError(
      "HOST_KEY_REJECTED",
      `host certificate for ${label} (key ${fingerprintOf(cert.keyBlob)}, id ${JSON.stringify(peerText(cert.keyId, { max: 80 }))}) signed by ${ca} (@cert-authority at ${file}:${found.line}) refused: ${found.problem}`,
    );
  }
  if (found.status === "trusted") return true;
  const key = parsePublicKeyBlob(cert.keyBlob);
  return { ...info, key, fingerprint: fingerprintOf(cert.keyBlob) };
}

/**
 * The key types `file` pins for host:port, to offer first. A file that cannot be read pins
 * nothing here; the verifier reports it when it reads the file itself.
 */
export function knownHostKeyTypesIn(file: string, host: string, port: number): string[] {
  let text: string;
  try {
    text = readText(file);
  } catch {
    return [];
  }
  return knownHostKeyTypes(parseKnownHosts(text).entries, host, port, nobleProvider);
}

/** The host is pinned, but not with a key of the type the server showed: one line, both sides named. */
function otherTypesError(info: HostKeyInfo, found: HostKeyLookup, file: string, names?: OptionNames): SshError {
  const label = hostPortLabel(info.host, info.port);
  const pins = [
    ...found.knownKeys.map((k) => ({ type: k.key.type as string, line: k.line })),
    ...found.unreadable.map((u) => ({ type: `${u.type} (unreadable)`, line: u.line })),
  ].sort((a, b) => a.line - b.line);
  const types = [...new Set(pins.map((k) => k.type))];
  const lines = pins.map((k) => k.line).join(",");
  const where = `${file}:${lines}`;
  const offered = info.serverHostKeyAlgorithms;
  const pinnedOffered = offered.filter((a) => types.includes(hostKeyTypeOf(a) ?? ""));
  const head =
    `host key for ${label} cannot be verified: known hosts pin it with ${types.join(", ")} (${where}), ` +
    `the server offers ${offered.length > 0 ? offered.join(",") : "nothing"} and showed ${info.key.type} ${info.fingerprint}`;
  // The server could show a pinned key, but our own list left it out (hostKeyAlgorithms).
  if (pinnedOffered.length > 0) {
    const option = optionName(names, "hostKeyAlgorithms");
    return new SshError("HOST_KEY_CHANGED", `${head}; allow ${pinnedOffered.join(",")} in ${option}`);
  }
  return new SshError(
    "HOST_KEY_CHANGED",
    `${head}. Someone could be eavesdropping on you (a man-in-the-middle attack offering only an unpinned type), ` +
      `or the host's keys were replaced; if you know they were, remove line${pins.length > 1 ? "s" : ""} ${lines} from ${file}`,
  );
}

function fingerprintOf(blob: Uint8Array): string {
  return fingerprintSha256(nobleProvider, blob);
}
