/**
 * The local user's name, the default SSH user name — what OpenSSH takes from
 * getpwuid(getuid()). Node's `os.userInfo()` asks the passwd database too; Bun's answers
 * "unknown" when $USER is unset (containers, CI), so then the passwd file is read for our uid.
 * The passwd file is read here for ssh_config's `~user` too (ssh-config/tokens.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";

/** A passwd(5) entry: login name, numeric user id, home directory. */
interface PasswdEntry {
  name: string;
  uid: number;
  home: string;
}

/**
 * The first entry of the passwd file that `matches` (what getpwuid and getpwnam answer from
 * files), or undefined: no such entry, or no readable file.
 */
export function findPasswdEntry(matches: (entry: PasswdEntry) => boolean): PasswdEntry | undefined {
  let text: string;
  try {
    text = fs.readFileSync("/etc/passwd", "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const [name, , uid, , , home] = line.split(":");
    if (!name || uid === undefined || home === undefined) continue;
    const entry = { name, uid: Number(uid), home };
    if (matches(entry)) return entry;
  }
  return undefined;
}

/** The local user's name: the SSH user when a destination names none. */
export function localUserName(): string {
  let name: string | undefined;
  try {
    name = os.userInfo().username;
  } catch {
    name = undefined;
  }
  if (name && name !== "unknown") return name;
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  const found =
    (uid === undefined ? undefined : findPasswdEntry((e) => e.uid === uid)?.name) ??
    process.env.USER ??
    process.env.LOGNAME;
  if (found) return found;
  if (name) return name;
  throw new TypeError("cannot tell the local user name; give one as user@host");
}
