/**
 * Loading private keys from files: the user's identity (an explicit `--identity PATH`, or the
 * first existing of ~/.ssh/id_ed25519, id_ecdsa, id_rsa: ssh(1)'s defaults, minus the ones we
 * do not support) and `tunnel serve`'s host keys. As ssh(1) and sshd(8) do, a key file of ours
 * that group or others may access is refused (issue 12, item 8): whoever else can read it can
 * be us.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { nobleProvider, type PrivateKey, parsePrivateKey, SshError } from "@tunnel/ssh";

export const DEFAULT_IDENTITY_FILES = ["id_ed25519", "id_ecdsa", "id_rsa"];

export function defaultIdentityPaths(home = os.homedir()): string[] {
  return DEFAULT_IDENTITY_FILES.map((f) => path.join(home, ".ssh", f));
}

export function expandHome(p: string): string {
  return p === "~" ? os.homedir() : p.startsWith("~/") ? path.join(os.homedir(), p.slice(2)) : p;
}

/**
 * OpenSSH's rule for private key files: one owned by the user running us must grant nothing
 * to group or others (mode & 077 == 0). A file owned by someone else (root reading a service's
 * key) is not judged, as OpenSSH does not; nor is anything where there are no POSIX owners.
 * Throws a one-line `TypeError` naming the file, its mode and the fix.
 */
export function checkPrivateKeyMode(file: string, stat: { mode: number; uid: number }): void {
  if (typeof process.getuid !== "function" || stat.uid !== process.getuid()) return;
  const loose = stat.mode & 0o077;
  if (loose === 0) return;
  const mode = (stat.mode & 0o7777).toString(8).padStart(4, "0");
  const who = loose & 0o070 ? (loose & 0o007 ? "group and others" : "group") : "others";
  throw new TypeError(
    `private key file ${file} has mode ${mode}, open to ${who}; keys must be accessible only by you (fix: chmod 600 ${file})`,
  );
}

/**
 * Reads and parses one key file; errors name the file. The mode is checked on the open file,
 * so what is checked is what is read.
 */
export function loadIdentity(file: string): PrivateKey {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    throw unreadable(file, err);
  }
  let text: string;
  try {
    checkPrivateKeyMode(file, fs.fstatSync(fd));
    text = fs.readFileSync(fd, "utf8");
  } catch (err) {
    throw err instanceof TypeError ? err : unreadable(file, err);
  } finally {
    fs.closeSync(fd);
  }
  try {
    return parsePrivateKey(text, nobleProvider);
  } catch (err) {
    if (err instanceof SshError) throw new SshError(err.code, `identity file ${file}: ${err.message}`);
    throw err;
  }
}

function unreadable(file: string, err: unknown): TypeError {
  const code = (err as NodeJS.ErrnoException).code;
  return new TypeError(
    code === "ENOENT"
      ? `identity file ${file} does not exist`
      : `cannot read identity file ${file}: ${(err as Error).message}`,
  );
}

/** The explicit identity, or the first default that exists (none: an empty list). */
export function resolveIdentities(explicit: string | undefined): { keys: PrivateKey[]; files: string[] } {
  if (explicit) {
    const file = expandHome(explicit);
    return { keys: [loadIdentity(file)], files: [file] };
  }
  for (const file of defaultIdentityPaths()) {
    if (fs.existsSync(file)) return { keys: [loadIdentity(file)], files: [file] };
  }
  return { keys: [], files: [] };
}
