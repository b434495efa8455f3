/** Quantities on the command line: seconds, counts and sizes, each refused with its flag named. */

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Sizes: `16M`, `16MiB`, `512K`, `1G` or plain bytes (powers of 1024). */
export function parseSize(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i.exec(value);
  const unit = UNITS[(m?.[2] ?? "").toLowerCase()];
  if (!m || unit === undefined) {
    throw new TypeError(
      `${flag}: "${value}" is not a size; expected bytes or a number with K, M or G, e.g. ${flag} 16M`,
    );
  }
  const n = Math.round(Number(m[1]) * unit);
  if (n < 1 || n > 0xffffffff) throw new TypeError(`${flag}: ${value} is out of range; expected 1 byte to 4 GiB`);
  return n;
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
