/**
 * Host-key verification against an OpenSSH known_hosts file, with the policies of ssh(1)'s
 * StrictHostKeyChecking: `yes` (unknown keys refused), `accept-new` (unknown keys added,
 * changed keys refused), `no` (anything accepted, loudly).
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
  type HostKeyVerifier,
  hostKeyChangedMessage,
  lookupHostKey,
  nobleProvider,
  parseKnownHosts,
  SshError,
} from "@tunnel/ssh";
import { hostPortLabel } from "./destination.ts";

export type HostKeyPolicy = "yes" | "accept-new" | "no";

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
    throw new TypeError(`cannot read known_hosts file ${file}: ${(err as Error).message}`);
  }
}

export function knownHostsVerifier(file: string, policy: HostKeyPolicy, events: VerifierEvents = {}): HostKeyVerifier {
  return (info) => {
    const label = hostPortLabel(info.host, info.port);
    if (policy === "no") {
      events.unchecked?.(info);
      return true;
    }
    const entries = parseKnownHosts(readText(file)).entries;
    const found = lookupHostKey(entries, info.host, info.port, info.key, nobleProvider);
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
      `host key for ${label} is not known (${info.key.type} ${info.fingerprint}); verify the fingerprint, then rerun with --host-key-check accept-new or add it to ${file}`,
    );
  };
}

function fingerprintOf(blob: Uint8Array): string {
  return fingerprintSha256(nobleProvider, blob);
}
