/**
 * Loading private keys from files: the user's identities (an explicit `--identity PATH`, or
 * those of ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exist: ssh(1)'s defaults, minus the ones
 * we do not support) and `tunnel serve`'s host keys. As ssh(1) and sshd(8) do, a key file of
 * ours that group or others may access is refused (issue 12, item 8): whoever else can read it
 * can be us.
 *
 * An encrypted key is opened as ssh(1) opens it (sshconnect2.c load_identity_file): its
 * passphrase asked up to NumberOfPasswordPrompts (3) times, on the terminal or through
 * SSH_ASKPASS (passphrase.ts); an empty answer, or no way to ask, gives up at once. Asked once
 * per key per process: the outcome, key or failure, is kept (a reconnecting `tunnel open`
 * does not ask again). A key that stays locked is skipped with the reason kept for the final
 * error message; it never stops the other keys being tried (issue 15, item 3).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  nobleProvider,
  openSshPublicKeyBlob,
  type PrivateKey,
  parsePrivateKey,
  parsePublicKeyLine,
  SshError,
} from "@tunnel/ssh";
import { unreadableFile } from "./named-file.ts";
import { defaultPassphrasePrompter, type PassphrasePrompter } from "./passphrase.ts";

export const DEFAULT_IDENTITY_FILES = ["id_ed25519", "id_ecdsa", "id_rsa"];

/** ssh_config's NumberOfPasswordPrompts default: how many times a passphrase is asked. */
export const DEFAULT_PASSPHRASE_PROMPTS = 3;

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

/** How `loadIdentity` asks for an encrypted key's passphrase. */
export interface LoadIdentityOptions {
  /**
   * Asks for an encrypted key's passphrase. Default: as ssh asks (the terminal, or SSH_ASKPASS
   * as SSH_ASKPASS_REQUIRE and DISPLAY say); `false`: never ask (BatchMode), the key stays locked.
   */
  passphrase?: PassphrasePrompter | false | undefined;
  /** How many times to ask (NumberOfPasswordPrompts; default 3). */
  passphrasePrompts?: number | undefined;
}

const defaultPrompter = defaultPassphrasePrompter();

/** Keys opened (or given up on) after asking, per prompter, by file: asked once per key. */
const asked = new WeakMap<PassphrasePrompter, Map<string, { stamp: string; key?: PrivateKey; error?: SshError }>>();

/** Reads a key file, its mode checked on the open file (so what is checked is what is read). */
function readKeyFile(file: string): { text: string; stamp: string } {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    throw unreadableFile("identity file", file, err);
  }
  try {
    const st = fs.fstatSync(fd);
    checkPrivateKeyMode(file, st);
    return { text: fs.readFileSync(fd, "utf8"), stamp: `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}` };
  } catch (err) {
    throw err instanceof TypeError ? err : unreadableFile("identity file", file, err);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads and parses one key file; errors name the file. An encrypted key's passphrase is asked
 * for (`options.passphrase`); if it stays locked, SshError KEY_ENCRYPTED says why ("incorrect
 * passphrase for FILE (3 tries)", "… is encrypted and no passphrase was given").
 */
export function loadIdentity(file: string, options: LoadIdentityOptions = {}): PrivateKey {
  const { text, stamp } = readKeyFile(file);
  try {
    return parsePrivateKey(text, nobleProvider, { name: `identity file ${file}` });
  } catch (err) {
    if (!(err instanceof SshError)) throw err;
    if (err.code !== "KEY_ENCRYPTED") throw new SshError(err.code, `identity file ${file}: ${err.message}`);
  }
  return unlock(file, text, stamp, options);
}

function unlock(file: string, text: string, stamp: string, o: LoadIdentityOptions): PrivateKey {
  const locked = (why: string) => new SshError("KEY_ENCRYPTED", `identity file ${file} is encrypted and ${why}`);
  if (o.passphrase === false) throw locked("asking for passphrases is off (BatchMode)");
  const prompter = o.passphrase ?? defaultPrompter;
  let cache = asked.get(prompter);
  if (!cache) {
    cache = new Map();
    asked.set(prompter, cache);
  }
  const id = path.resolve(file);
  const seen = cache.get(id);
  if (seen && seen.stamp === stamp) {
    if (seen.key) return seen.key;
    throw seen.error;
  }
  const tries = o.passphrasePrompts ?? DEFAULT_PASSPHRASE_PROMPTS;
  let wrong = 0;
  let why: string | undefined;
  for (let i = 0; i < tries; i++) {
    const answer = prompter(`Enter passphrase for key '${file}': `);
    if (answer.passphrase === undefined) {
      why = answer.why;
      break;
    }
    try {
      const key = parsePrivateKey(text, nobleProvider, { passphrase: answer.passphrase, name: file });
      cache.set(id, { stamp, key });
      return key;
    } catch (err) {
      if (!(err instanceof SshError)) throw err;
      // Given a passphrase, KEY_ENCRYPTED can only mean it was not the right one.
      if (err.code !== "KEY_ENCRYPTED") throw new SshError(err.code, `identity file ${file}: ${err.message}`);
      wrong++;
    }
  }
  const error =
    why === undefined
      ? new SshError("KEY_ENCRYPTED", `incorrect passphrase for ${file} (${wrong} ${wrong === 1 ? "try" : "tries"})`)
      : locked(wrong > 0 ? `${why}, after ${wrong} incorrect` : why);
  cache.set(id, { stamp, error });
  throw error;
}

/**
 * A key file's public key without its private half — from `<file>.pub`, else from an
 * openssh-key-v1 file's clear header — so nothing is decrypted (or asked for) to learn it:
 * how ssh matches key files to the agent's keys. Undefined when neither says.
 */
export function identityPublicBlob(file: string): Uint8Array | undefined {
  try {
    return parsePublicKeyLine(fs.readFileSync(`${file}.pub`, "utf8")).blob;
  } catch {
    // No usable .pub: the key file's header, if it has one.
  }
  try {
    return openSshPublicKeyBlob(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

export interface ResolvedIdentities {
  keys: PrivateKey[];
  /** The files `keys` came from, in the same order. */
  files: string[];
  /** Keys left out and why, one line each, for a failure message (`ClientAuthOptions.notes`). */
  notes: string[];
}

/**
 * The explicit identity, or every default that exists, in order. A file the user named must
 * exist, be private and well-formed — else an error before anything connects — but one that
 * stays locked (wrong or no passphrase) is skipped as ssh skips it: other keys, or a password,
 * may still get in. Defaults that cannot be used are skipped, each with its reason in `notes`.
 */
export function resolveIdentities(
  explicit: string | undefined,
  options: LoadIdentityOptions & { home?: string } = {},
): ResolvedIdentities {
  const named = explicit !== undefined && explicit !== "";
  const candidates = named
    ? [expandHome(explicit)]
    : defaultIdentityPaths(options.home).filter((f) => fs.existsSync(f));
  const out: ResolvedIdentities = { keys: [], files: [], notes: [] };
  for (const file of candidates) {
    try {
      out.keys.push(loadIdentity(file, options));
      out.files.push(file);
    } catch (err) {
      if (named && !(err instanceof SshError && err.code === "KEY_ENCRYPTED")) throw err;
      out.notes.push(`skipped: ${file} (${(err as Error).message})`);
    }
  }
  return out;
}
