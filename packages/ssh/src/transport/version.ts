/**
 * Transport layer: protocol version exchange (RFC 4253 §4.2).
 *
 * The identification string is `SSH-protoversion-softwareversion [SP comments] CR LF`, at most
 * 255 bytes including CR LF. A server may send other lines first (they must not start with
 * "SSH-"); we accept a bounded number of them so a hostile peer cannot make us buffer forever.
 * A bare LF ending is tolerated, as OpenSSH does, for old software. Those lines are the
 * peer's text: they are kept only as `peerText` made them (RFC 4251 §9.2), and so is any piece
 * of a line quoted in an error.
 */
import { DisconnectReason, SshError } from "../errors.ts";
import { peerText } from "../wire/peer-text.ts";

/** RFC 4253 §4.2: maximum identification line length, CR LF included. */
export const MAX_VERSION_LINE = 255;
/** Cap on pre-version lines a server may send (OpenSSH allows 1024 lines; we cap bytes too). */
export const MAX_PREAMBLE_LINES = 64;
export const MAX_PREAMBLE_BYTES = 8192;

export interface ParsedVersion {
  /** The full identification line without CR LF, e.g. "SSH-2.0-OpenSSH_9.2p1 Debian-2". */
  line: string;
  protoVersion: string;
  softwareVersion: string;
  comments: string;
}

function badVersion(message: string): SshError {
  return new SshError("BAD_VERSION", message, { reason: DisconnectReason.PROTOCOL_VERSION_NOT_SUPPORTED });
}

export function parseVersionLine(line: string): ParsedVersion {
  const m = /^SSH-([^-\s]+)-(\S+)(?: (.*))?$/.exec(line);
  if (!m)
    throw badVersion(
      `malformed SSH identification line: expected "SSH-2.0-<software>", got "${peerText(line, { max: 80 })}"`,
    );
  const protoVersion = m[1] as string;
  // RFC 4253 §5.1: "1.99" announces a server that also speaks 2.0.
  if (protoVersion !== "2.0" && protoVersion !== "1.99") {
    throw badVersion(`peer speaks SSH protocol ${peerText(protoVersion, { max: 32 })}; only 2.0 is supported`);
  }
  return { line, protoVersion, softwareVersion: m[2] as string, comments: m[3] ?? "" };
}

/**
 * Incremental reader for the peer's identification line. Feed it bytes; once it returns a
 * version, `rest` holds the bytes after the line (the start of the binary packet stream).
 */
export class VersionReader {
  private buf = new Uint8Array(0);
  private lines = 0;
  private consumed = 0;
  /** Lines before the version line (server banners), escaped by `peerText`, for display. */
  readonly preamble: string[] = [];

  constructor(private readonly allowPreamble: boolean) {}

  push(chunk: Uint8Array): { version: ParsedVersion; rest: Uint8Array } | undefined {
    const next = new Uint8Array(this.buf.length + chunk.length);
    next.set(this.buf);
    next.set(chunk, this.buf.length);
    this.buf = next;
    for (;;) {
      const lf = this.buf.indexOf(0x0a);
      if (lf < 0) {
        if (this.buf.length >= MAX_VERSION_LINE && this.startsWithSsh()) {
          throw badVersion(`identification line longer than ${MAX_VERSION_LINE} bytes`);
        }
        if (this.buf.length > MAX_PREAMBLE_BYTES)
          throw badVersion(`no SSH identification line in the first ${MAX_PREAMBLE_BYTES} bytes`);
        return undefined;
      }
      const lineBytes = this.buf.subarray(0, lf + 1);
      const rest = this.buf.slice(lf + 1);
      let end = lf;
      if (end > 0 && this.buf[end - 1] === 0x0d) end--;
      const text = latin1(this.buf.subarray(0, end));
      if (this.startsWithSsh()) {
        if (lineBytes.length > MAX_VERSION_LINE)
          throw badVersion(`identification line longer than ${MAX_VERSION_LINE} bytes`);
        if (text.includes("\0")) throw badVersion("identification line contains a NUL byte");
        return { version: parseVersionLine(text), rest };
      }
      if (!this.allowPreamble) {
        throw badVersion(`expected an "SSH-" identification line first, got "${peerText(text, { max: 80 })}"`);
      }
      this.lines++;
      this.consumed += lineBytes.length;
      if (this.lines > MAX_PREAMBLE_LINES || this.consumed > MAX_PREAMBLE_BYTES) {
        throw badVersion(
          `peer sent more than ${MAX_PREAMBLE_LINES} lines or ${MAX_PREAMBLE_BYTES} bytes before its SSH identification line`,
        );
      }
      this.preamble.push(peerText(text));
      this.buf = rest;
    }
  }

  private startsWithSsh(): boolean {
    const b = this.buf;
    return b.length >= 4 && b[0] === 0x53 && b[1] === 0x53 && b[2] === 0x48 && b[3] === 0x2d;
  }
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

/** Our identification line, CR LF included. */
export function encodeVersionLine(software: string, comments?: string): Uint8Array {
  const line = `SSH-2.0-${software}${comments ? ` ${comments}` : ""}\r\n`;
  if (line.length > MAX_VERSION_LINE) throw new RangeError(`identification line too long (${line.length} > 255)`);
  return new TextEncoder().encode(line);
}
