/**
 * Findings the fuzzer made in files other engineers are changing right now: described here and
 * in test/fuzz/pending/<target>/ (their inputs), to be fixed there. The short fixed-seed run in
 * test/fuzz.test.ts tolerates exactly these (by message) and fails on anything else; the corpus
 * replay does not read pending/. Once fixed, move the inputs to corpus/ and delete the entry.
 */
export interface PendingFinding {
  target: string;
  /** Matches the finding's message. */
  message: RegExp;
  /** Where the root cause is. */
  where: string;
  what: string;
}

export const PENDING: readonly PendingFinding[] = [];

export function pendingFor(target: string, message: string): PendingFinding | undefined {
  return PENDING.find((p) => p.target === target && p.message.test(message));
}
