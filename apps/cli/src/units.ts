/** Sizes on the command line: `16M`, `16MiB`, `512K`, `1G` or plain bytes (powers of 1024). */

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

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
