/**
 * Turns any error into the CLI's one-line form. Recognises the protocol's `SshError` by its
 * name rather than by class, so that the entry (which prints errors) loads no protocol code:
 * `tunnel --help` stays fast.
 */
export function formatError(err: unknown): string {
  if (err instanceof Error && err.name === "SshError") return `tunnel: ${err.message}`;
  if (err instanceof Error) {
    // citty's usage errors and our TypeError/RangeError are already one line for people.
    return `tunnel: ${err.message.split("\n")[0]}`;
  }
  return `tunnel: ${String(err)}`;
}
