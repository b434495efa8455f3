/**
 * The one place the CLI listens for Ctrl+C and SIGTERM. The first signal asks for a graceful
 * stop; a second one (either signal) asks to stop at once. Used by every long-running verb.
 */

export interface Interrupts {
  /** Stop listening (the command is over). */
  dispose(): void;
}

export function onInterrupt(graceful: () => void, atOnce: () => void): Interrupts {
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) graceful();
    else atOnce();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

/** `--grace SECONDS` (and friends): a non-negative number of seconds, as milliseconds. */
export function parseSeconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback * 1000;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new TypeError(`${flag}: "${value}" is not a number of seconds; expected 0 or more, e.g. ${flag} ${fallback}`);
  }
  return Math.round(n * 1000);
}

/** A positive whole number (`--keepalive-count`). */
export function parseCount(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1) {
    throw new TypeError(`${flag}: "${value}" is not a count; expected a whole number of at least 1`);
  }
  return n;
}
