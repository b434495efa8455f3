/**
 * Host keys for `tunnel serve`: given files, or an ed25519 key created once in the user's
 * state directory ($XDG_STATE_HOME/tunnel, else ~/.local/state/tunnel) and reused. The file is
 * written to a temporary name and renamed, so a crash never leaves half a key behind.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { encodeEd25519PrivateKey, nobleProvider, type PrivateKey, systemRandom } from "@tunnel/ssh";
import { loadIdentity } from "./identity.ts";

export function stateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const base =
    env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)
      ? env.XDG_STATE_HOME
      : path.join(os.homedir(), ".local", "state");
  return path.join(base, "tunnel");
}

export function loadOrCreateHostKey(dir = stateDir()): { key: PrivateKey; file: string; created: boolean } {
  const file = path.join(dir, "ssh_host_ed25519_key");
  if (fs.existsSync(file)) return { key: loadIdentity(file), file, created: false };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const seed = systemRandom(32);
  const text = encodeEd25519PrivateKey(nobleProvider, systemRandom, seed, `tunnel serve host key ${os.hostname()}`);
  seed.fill(0);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return { key: loadIdentity(file), file, created: true };
}
