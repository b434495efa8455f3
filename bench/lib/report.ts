/** Formatting for the benchmark report. */

/** Bytes per second as MB/s (10^6), as the figures are given. */
export function mb(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(0)} MB/s`;
}

/** a / b to two places; `inverse` for times, where the ratio is ours over theirs. */
export function ratio(ours: number, theirs: number, mode: "normal" | "inverse" = "normal"): string {
  if (!(ours > 0) || !(theirs > 0)) return "";
  return (mode === "normal" ? ours / theirs : theirs / ours).toFixed(2);
}

export function markdownTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}
