/**
 * Turns any error into the CLI's one-line form and its exit status. Recognises the protocol's
 * `SshError` by its name rather than by class, so that the entry (which prints errors) loads
 * no protocol code: `tunnel --help` stays fast.
 *
 * Exit status: 0 done, 1 failed, 2 the command line was wrong (an unknown option or command,
 * a stray or missing argument, a flag's value that is not what it takes) — as the shell and
 * most Unix tools use them.
 */

/** The command line itself is wrong: exit status 2. */
export class UsageError extends TypeError {
  override readonly name = "UsageError";
}

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * A flag's value refused by its parser: by convention (parseSeconds, parseSize, parsePort and
 * the verbs' own checks) such messages start with the flag they are about, `--grace: …`.
 */
const FLAG_VALUE_MESSAGE = /^--[a-z][a-z0-9-]*: /;

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT_USAGE;
  // citty's own argument errors (a missing positional) carry its CLIError name.
  if (err instanceof Error && err.name === "CLIError") return EXIT_USAGE;
  if ((err instanceof TypeError || err instanceof RangeError) && FLAG_VALUE_MESSAGE.test(err.message)) {
    return EXIT_USAGE;
  }
  return EXIT_FAILURE;
}

export function formatError(err: unknown): string {
  if (err instanceof Error && err.name === "SshError") return `tunnel: ${err.message}`;
  if (err instanceof Error) {
    // citty's usage errors and our TypeError/RangeError are already one line for people.
    return `tunnel: ${err.message.split("\n")[0]}`;
  }
  return `tunnel: ${String(err)}`;
}
