/**
 * Finding and reading ssh_config files as ssh(1) does: `Include` paths (relative ones under
 * ~/.ssh for the user's configuration and /etc/ssh for the system's; `~` only in the user's),
 * expanded with glob(3)'s rules — `*`, `?`, `[…]` in any path component, hidden files only by
 * an explicit `.`, results sorted — and the owner/permission check ssh makes on the user's
 * file and every included one (owned by us or root, writable by no one else).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expandTilde } from "./tokens.ts";

/** More nested Includes than this is an error (readconf.c's READCONF_MAX_DEPTH). */
export const MAX_INCLUDE_DEPTH = 16;

export const SYSTEM_CONFIG_DIR = "/etc/ssh";
export const SYSTEM_CONFIG_FILE = "/etc/ssh/ssh_config";

/** The user's configuration file: ~/.ssh/config. */
export function userConfigFile(home: string): string {
  return path.join(home, ".ssh", "config");
}

/**
 * Where an `Include` argument points, before globbing. Throws `RangeError` for `~` in a
 * system file, which ssh refuses.
 */
export function includePattern(arg: string, userConfig: boolean, home: string): string {
  if (arg.startsWith("~")) {
    if (!userConfig) throw new RangeError(`bad include path "${arg}": "~" is not allowed in a system file`);
    return expandTilde(arg, home);
  }
  if (path.isAbsolute(arg)) return arg;
  return userConfig ? path.join(home, ".ssh", arg) : path.join(SYSTEM_CONFIG_DIR, arg);
}

const GLOB_MAGIC = /[*?[]/;

/** One path component's glob pattern as a regular expression (fnmatch without FNM_PERIOD tricks). */
function componentRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\" && i + 1 < pattern.length) {
      re += escapeRegExp(pattern[++i]!);
    } else if (c === "*") {
      re += "[^/]*";
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close < 0) {
        re += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negated = body.startsWith("!") || body.startsWith("^");
      if (negated) body = body.slice(1);
      re += `[${negated ? "^" : ""}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = close;
    } else {
      re += escapeRegExp(c);
    }
  }
  return new RegExp(`^${re}$`, "s");
}

function escapeRegExp(c: string): string {
  return c.replace(/[.+^${}()|[\]\\*?]/g, "\\$&");
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** The existing paths a glob pattern names, sorted as glob(3) sorts them; none: []. */
export function expandGlob(pattern: string): string[] {
  if (!GLOB_MAGIC.test(pattern)) return fs.existsSync(pattern) ? [pattern] : [];
  const absolute = pattern.startsWith("/");
  const parts = pattern.split("/").filter((p) => p !== "");
  let found = [absolute ? "/" : "."];
  for (const part of parts) {
    const next: string[] = [];
    if (!GLOB_MAGIC.test(part)) {
      for (const dir of found) {
        const p = path.join(dir, part.replace(/\\(.)/g, "$1"));
        if (fs.existsSync(p)) next.push(p);
      }
    } else {
      const re = componentRegExp(part);
      for (const dir of found) {
        for (const name of listDir(dir)) {
          // A leading dot is matched only by a leading dot in the pattern.
          if (name.startsWith(".") && !part.startsWith(".")) continue;
          if (re.test(name)) next.push(path.join(dir, name));
        }
      }
    }
    found = next;
    if (found.length === 0) return [];
  }
  return found.map((p) => (absolute ? p : path.relative(".", p))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A configuration file's text, or undefined when it does not exist. A directory reads as
 * empty (ssh reads nothing from one). With `checkPermissions`, a file owned by someone other
 * than us or root, or writable by group or others, is refused as ssh refuses it.
 */
export function readConfigFile(file: string, checkPermissions: boolean): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new TypeError(`cannot read ssh configuration file ${file}: ${(err as Error).message}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (checkPermissions) {
      const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
      if ((uid !== undefined && st.uid !== 0 && st.uid !== uid) || (st.mode & 0o022) !== 0) {
        const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
        throw new TypeError(
          `bad owner or permissions on ssh configuration file ${file} (mode ${mode}, owner uid ${st.uid}); it must be yours or root's and writable only by its owner (fix: chmod go-w ${file})`,
        );
      }
    }
    if (st.isDirectory()) return "";
    return fs.readFileSync(fd, "utf8");
  } finally {
    fs.closeSync(fd);
  }
}
