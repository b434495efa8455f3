/**
 * Loading the user's identity keys: an explicit `--identity PATH`, or the first existing of
 * ~/.ssh/id_ed25519, id_ecdsa, id_rsa (ssh(1)'s defaults, minus the ones we do not support).
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

/** Reads and parses one key file; errors name the file. */
export function loadIdentity(file: string): PrivateKey {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TypeError(
      code === "ENOENT"
        ? `identity file ${file} does not exist`
        : `cannot read identity file ${file}: ${(err as Error).message}`,
    );
  }
  try {
    return parsePrivateKey(text, nobleProvider);
  } catch (err) {
    if (err instanceof SshError) throw new SshError(err.code, `identity file ${file}: ${err.message}`);
    throw err;
  }
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
