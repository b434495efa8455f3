/**
 * Files the user named (an identity, a certificate, an env file, an authorized_keys file): one
 * way to read them, and one wording when they cannot be read — "… does not exist" for a
 * missing file, "cannot read … : reason" for anything else — each naming what the file was for.
 */
import * as fs from "node:fs";

/** The one-line error for `file` (a `what`, e.g. "identity file") that could not be read. */
export function unreadableFile(what: string, file: string, err: unknown): TypeError {
  return new TypeError(
    (err as NodeJS.ErrnoException).code === "ENOENT"
      ? `${what} ${file} does not exist`
      : `cannot read ${what} ${file}: ${(err as Error).message}`,
  );
}

/** The text of `file`, a `what` the user named; `unreadableFile`'s error if it cannot be read. */
export function readNamedFile(what: string, file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw unreadableFile(what, file, err);
  }
}
