/**
 * Wire layer, display side: the one rule for showing text a peer chose — banners (RFC 4252
 * §5.4), DISCONNECT descriptions (RFC 4253 §11.1), DEBUG messages (§11.3), lines before the
 * version string (§4.2), channel-open failure reasons (RFC 4254 §5.1) and whatever a peer names
 * that reaches a log (user names, software versions, host names).
 *
 * RFC 4251 §9.2 asks that control characters in displayed text be replaced with safe
 * sequences, so that a peer cannot drive the terminal (`\x1b]0;…\x07` retitles it, `\x1b[2J`
 * clears it) or forge lines in a log. We go further than control characters: anything a
 * terminal or log viewer would not show as itself is written as a visible escape — every
 * Unicode control (Cc: C0, DEL, C1), every format character (Cf: bidi overrides and isolates,
 * zero-width characters, tags; the "Trojan Source" reordering, CVE-2021-42574), the line and
 * paragraph separators U+2028/U+2029, and lone surrogates. The length is capped too: a peer's
 * text costs at most `max` characters of output whatever it sent.
 */

/** Default cap on the escaped output, in UTF-16 code units. */
export const PEER_TEXT_MAX = 512;

/** Appended when the text was cut at the cap. */
export const PEER_TEXT_ELLIPSIS = "…";

/** How `peerText` shows a peer's text: its cap, and whether lines are kept. */
export interface PeerTextOptions {
  /** Cap on the escaped output (the ellipsis not counted). Default `PEER_TEXT_MAX`. */
  max?: number;
  /**
   * Multi-line text (banners, RFC 4252 §5.4: "line breaks indicated by CRLF pairs"): line
   * feeds and tabs stay as they are and CR LF becomes LF, as RFC 4251 §9.2 allows. A CR on its
   * own is still escaped: it would let the next line overwrite this one on a terminal.
   */
  lines?: boolean;
}

/** Characters never shown as themselves (with the `u` flag a lone surrogate is matched as Cs). No `g`: stateless. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

const NAMED: Readonly<Record<string, string>> = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };

function visibleEscape(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const cp = ch.codePointAt(0) as number;
  const hex = cp.toString(16);
  if (cp <= 0xff) return `\\x${hex.padStart(2, "0")}`;
  if (cp <= 0xffff) return `\\u${hex.padStart(4, "0")}`;
  return `\\u{${hex}}`;
}

/**
 * `text` made safe to display on one line (or, with `lines`, as several): every character a
 * terminal would act on or not show is written as a visible escape (`\x1b`, `\n`, `\u202e`,
 * `\u{e0041}`), and the result is cut at `max` characters with `…` appended. Escapes are never
 * cut in half, nor surrogate pairs split. Work is bounded by `max`, not by the input's length
 * (beyond one linear scan when the input is clean).
 */
export function peerText(text: string, options: PeerTextOptions = {}): string {
  const max = options.max ?? PEER_TEXT_MAX;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`peerText: max must be a positive integer, got ${max}`);
  const lines = options.lines === true;
  if (text.length <= max && !UNSAFE.test(text)) return text;
  let out = "";
  let i = 0;
  for (const ch of text) {
    let piece = ch;
    if (lines && (ch === "\n" || ch === "\t")) piece = ch;
    else if (lines && ch === "\r" && text.charCodeAt(i + 1) === 0x0a) piece = "";
    else if (UNSAFE.test(ch)) piece = visibleEscape(ch);
    if (out.length + piece.length > max) return `${out}${PEER_TEXT_ELLIPSIS}`;
    out += piece;
    i += ch.length;
  }
  return out;
}
