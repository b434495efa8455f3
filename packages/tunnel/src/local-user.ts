/**
 * The local user's name, the default SSH user name — what OpenSSH takes from
 * getpwuid(getuid()). Node's `os.userInfo()` asks the passwd database too; Bun's answers
 * "unknown" when $USER is unset (containers, CI), so then the passwd file is read for our uid.
 */
import * as fs from "node:fs";
import * as os from "node:os";

function fromPasswd(uid: number): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync("/etc/passwd", "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const [name, , id] = line.split(":");
    if (name && id !== undefined && Number(id) === uid) return name;
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
  const found = (uid === undefined ? undefined : fromPasswd(uid)) ?? process.env.USER ?? process.env.LOGNAME;
  if (found) return found;
  if (name) return name;
  throw new TypeError("cannot tell the local user name; give one as user@host");
}
