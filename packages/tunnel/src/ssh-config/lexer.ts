/**
 * ssh_config(5) lines into words, the way OpenSSH's readconf.c reads them: a keyword, then
 * its arguments separated by whitespace or one `=`, with `"`/`'` quoting, backslash escapes
 * and `#` comments that start a word. Three splitters because ssh uses three: the keyword
 * (strdelim), the argument vector every keyword gets (argv_split), and the `Match` criteria,
 * which ssh reads word by word from the raw rest of the line (strdelim again).
 */

const WHITESPACE = " \t\r\n";

function isWhitespace(c: string | undefined): boolean {
  return c !== undefined && c !== "" && WHITESPACE.includes(c);
}

function skipWhitespace(s: string, i: number): number {
  while (i < s.length && isWhitespace(s[i])) i++;
  return i;
}

/**
 * One word from the front of `s` — ssh's strdelim: whitespace (and, with `splitEquals`, a
 * single `=`) ends it; a `"` starts a quoted part running to the next `"`. Returns the word
 * and what follows (with leading whitespace and at most one `=` skipped), `rest` undefined at
 * the end of the line, or undefined when a quote is never closed.
 */
export function nextWord(s: string, splitEquals = true): { word: string; rest: string | undefined } | undefined {
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (isWhitespace(c) || c === '"' || (splitEquals && c === "=")) break;
    i++;
  }
  if (i === s.length) return { word: s, rest: undefined };
  if (s[i] === '"') {
    // The quote is removed and the word runs to the next quote, which is removed too.
    const joined = s.slice(0, i) + s.slice(i + 1);
    const close = joined.indexOf('"', i);
    if (close < 0) return undefined;
    return { word: joined.slice(0, close), rest: joined.slice(skipWhitespace(joined, close + 1)) };
  }
  const sawEquals = splitEquals && s[i] === "=";
  let next = skipWhitespace(s, i + 1);
  if (splitEquals && !sawEquals && s[next] === "=") next = skipWhitespace(s, next + 1);
  return { word: s.slice(0, i), rest: s.slice(next) };
}

/** A line cut into its keyword (lower-cased) and the raw text after it. */
export interface KeywordLine {
  keyword: string;
  /** As the user wrote it, keyword, separators and trailing whitespace removed; may be "". */
  rest: string;
}

/**
 * The keyword of a line, or undefined for a blank or comment line (which ssh skips). Trailing
 * whitespace and form feeds go first, as ssh strips them.
 */
export function splitKeyword(line: string): KeywordLine | undefined {
  let end = line.length;
  while (end > 1 && (isWhitespace(line[end - 1]) || line[end - 1] === "\f")) end--;
  let s = line.slice(0, end);
  if (s === "") return undefined;
  let first = nextWord(s);
  if (first === undefined) return undefined;
  if (first.word === "") {
    // The line started with whitespace: the keyword is the next word.
    if (first.rest === undefined) return undefined;
    s = first.rest;
    first = nextWord(s);
    if (first === undefined) return undefined;
  }
  const keyword = first.word;
  if (keyword === "" || keyword.startsWith("#") || keyword.startsWith("\n")) return undefined;
  const rest = first.rest === undefined ? "" : first.rest.slice(skipWhitespace(first.rest, 0));
  return { keyword: keyword.toLowerCase(), rest };
}

/**
 * The argument vector of a line — ssh's argv_split with comments on: words split on spaces
 * and tabs; `"…"` and `'…'` quote (also inside a word: `a"b c"d` is `ab cd`); a backslash
 * escapes a quote, a backslash, or (outside quotes) a space; a word starting with `#` ends
 * the line. Throws `RangeError("invalid quotes")` for a quote never closed.
 */
export function splitArguments(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (c === "#") break;
    let quote = "";
    let word = "";
    for (; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === "\\") {
        const nx = s[i + 1];
        if (nx === "'" || nx === '"' || nx === "\\" || (quote === "" && nx === " ")) {
          i++;
          word += nx;
        } else {
          word += ch;
        }
      } else if (quote === "" && (ch === " " || ch === "\t")) {
        break;
      } else if (quote === "" && (ch === '"' || ch === "'")) {
        quote = ch;
      } else if (quote !== "" && ch === quote) {
        quote = "";
      } else {
        word += ch;
      }
    }
    if (quote !== "") throw new RangeError("invalid quotes");
    out.push(word);
  }
  return out;
}
