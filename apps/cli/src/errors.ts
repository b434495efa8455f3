/** Turns any error into the CLI's one-line form. */
import { SshError } from "@tunnel/ssh";

export function formatError(err: unknown): string {
  if (err instanceof SshError) return `tunnel: ${err.message}`;
  if (err instanceof Error) {
    // citty's usage errors and our TypeError/RangeError are already one line for people.
    return `tunnel: ${err.message.split("\n")[0]}`;
  }
  return `tunnel: ${String(err)}`;
}
