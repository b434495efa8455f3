/**
 * A tunnel's event log (`NAME.log` next to its record): one line per event, with its time —
 * connects, reconnections, errors, each connection with its bytes. Bounded: once the file
 * passes `maxBytes` it becomes `NAME.log.1` (replacing the previous one) and a new file starts,
 * so a tunnel left running for months holds at most twice that on disk.
 */
import * as fs from "node:fs";

/** Where the log turns over. */
export const LOG_ROTATE_BYTES = 1024 * 1024;

/** Appends timestamped events to a tunnel's log file, turning it over at `maxBytes`. */
export class EventLog {
  private size: number;

  constructor(
    /** The log file. */
    readonly file: string,
    private readonly maxBytes = LOG_ROTATE_BYTES,
  ) {
    this.size = fileSize(file);
  }

  /** Appends `line` with the time in front; never throws (a full disk must not end the tunnel). */
  write(line: string): void {
    const text = `${new Date().toISOString()} ${line.replace(/\n/g, " ")}\n`;
    try {
      if (this.size > 0 && this.size + text.length > this.maxBytes) {
        fs.renameSync(this.file, `${this.file}.1`);
        this.size = 0;
      }
      fs.appendFileSync(this.file, text, { mode: 0o600 });
      this.size += new TextEncoder().encode(text).length;
    } catch {
      // nowhere to say it: the tunnel goes on
    }
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** The log's text: the turned-over part first, then the current file. */
export function readLog(file: string): string {
  let out = "";
  for (const f of [`${file}.1`, file]) {
    try {
      out += fs.readFileSync(f, "utf8");
    } catch {
      // not there
    }
  }
  return out;
}
