/**
 * Groups for diffie-hellman-group-exchange (RFC 4419): reading a moduli(5) file, the server's
 * choice for a request (§3), and the client's checks on the group it is given (§3, §6).
 *
 * Everything here costs little: sizes are checked before any conversion, and the client's
 * "looks like a safe prime" test is residues and trial division, not a primality proof (the
 * server could hand us a weak group whatever we test: RFC 4419 §6 leaves trust in the group to
 * the server, which is authenticated by the signature over H, which covers p and g).
 */
import { bytesToBigint } from "../crypto/bigint.ts";
import type { RandomSource } from "../crypto/provider.ts";
import { kexFailed } from "./kex-method-errors.ts";
import { MODP_GROUPS } from "./modp-groups.ts";

/** A finite-field Diffie-Hellman group: prime `p` and generator `g` (RFC 4253 §8, RFC 4419). */
export interface DhGroup {
  /** p's size in bits. */
  readonly bits: number;
  /** The prime modulus. */
  readonly p: bigint;
  /** The generator, 1 < g < p − 1. */
  readonly g: bigint;
}

/** RFC 4419 §3 and OpenSSH: groups under 2048 bits are refused; 8192 is the largest asked for. */
export const GEX_MIN_BITS = 2048;
export const GEX_MAX_BITS = 8192;

/** The built-in list: RFC 3526's groups 14–18 (2048 to 8192 bits). */
export const BUILT_IN_GROUPS: readonly DhGroup[] = MODP_GROUPS;

const bitLength = (n: bigint) => (n === 0n ? 0 : n.toString(2).length);

/** The odd primes below 2000, for trial division of p and (p−1)/2. */
const SMALL_PRIMES: readonly bigint[] = (() => {
  const out: bigint[] = [];
  for (let n = 3; n < 2000; n += 2) {
    let prime = true;
    for (let d = 3; d * d <= n; d += 2) if (n % d === 0) prime = false;
    if (prime) out.push(BigInt(n));
  }
  return out;
})();

/**
 * Whether p looks like a safe prime p = 2q + 1: a safe prime above 7 is 11 mod 12 (q odd and
 * not 1 mod 3), and neither p nor q has a factor below 2000.
 */
export function looksLikeSafePrime(p: bigint): boolean {
  if (p % 12n !== 11n) return false;
  const q = p >> 1n;
  for (const s of SMALL_PRIMES) if (p % s === 0n || q % s === 0n) return false;
  return true;
}

/**
 * Client, RFC 4419 §3: the server's group must lie within what we asked (min..max bits), be at
 * least 2048 bits, look like a safe prime, and have 1 < g < p − 1.
 */
export function checkServerGroup(p: bigint, g: bigint, min: number, max: number): DhGroup {
  if (p <= 0n) throw kexFailed("server's DH group modulus is not positive");
  const bits = bitLength(p);
  if (bits < Math.max(min, GEX_MIN_BITS) || bits > max) {
    throw kexFailed(`server's DH group is ${bits} bits; expected ${Math.max(min, GEX_MIN_BITS)} to ${max}`);
  }
  if (!looksLikeSafePrime(p)) throw kexFailed(`server's ${bits}-bit DH group modulus is not a safe prime`);
  if (g <= 1n || g >= p - 1n) throw kexFailed(`server's DH generator is out of range: expected 1 < g < p-1`);
  return { bits, p, g };
}

/**
 * Server, RFC 4419 §3: checks a request's min ≤ n ≤ max (with max at least 2048, as OpenSSH),
 * clamps it to 2048..8192, and picks a group of the smallest size ≥ n within range (or the
 * largest below n), at random among those of that size.
 */
export function chooseGroup(
  groups: readonly DhGroup[],
  min: number,
  n: number,
  max: number,
  random: RandomSource,
): DhGroup {
  if (max < min || n < min || max < n || max < GEX_MIN_BITS) {
    throw kexFailed(
      `client's group exchange request min ${min}, n ${n}, max ${max} is invalid: expected min ≤ n ≤ max and max ≥ ${GEX_MIN_BITS}`,
    );
  }
  const lo = Math.max(min, GEX_MIN_BITS);
  const hi = Math.min(max, GEX_MAX_BITS);
  const want = Math.min(Math.max(n, GEX_MIN_BITS), GEX_MAX_BITS);
  const fit = groups.filter((g) => g.bits >= lo && g.bits <= hi);
  if (fit.length === 0) throw kexFailed(`no DH group between ${lo} and ${hi} bits for the client's request`);
  const above = fit.filter((g) => g.bits >= want);
  const size = above.length > 0 ? Math.min(...above.map((g) => g.bits)) : Math.max(...fit.map((g) => g.bits));
  const pool = fit.filter((g) => g.bits === size);
  const r = random(2);
  return pool[(((r[0] as number) << 8) | (r[1] as number)) % pool.length] as DhGroup;
}

/** What parseModuli found: the usable groups, and one line per line it skipped. */
export interface ModuliFile {
  /** The lines kept, in file order: tested safe primes of 2048 to 8192 bits. */
  groups: DhGroup[];
  /** One message per line not kept, naming its line number and why; blank and `#` lines are not listed. */
  skipped: string[];
}

/** A moduli line is 7 fields; a 8192-bit modulus is 2048 hex digits. Longer lines are skipped unread. */
const MAX_LINE = 4096;

/**
 * moduli(5): `time type tests tries size generator modulus`, size being the modulus' bits − 1,
 * generator and modulus hexadecimal. Kept: safe primes (type 2) that passed a test beyond
 * sieving (tests has a bit besides 0x01, which marks a composite) with tries > 0, of 2048 to
 * 8192 bits, the size field agreeing with the modulus.
 */
export function parseModuli(text: string): ModuliFile {
  const groups: DhGroup[] = [];
  const skipped: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `moduli line ${i + 1}`;
    if (line.length > MAX_LINE) {
      skipped.push(`${where}: ${line.length} characters; expected at most ${MAX_LINE}`);
      continue;
    }
    const f = line.split(/\s+/);
    if (f.length !== 7) {
      skipped.push(`${where}: ${f.length} fields; expected 7 (time type tests tries size generator modulus)`);
      continue;
    }
    const [, type, tests, tries, size, gen, mod] = f as [string, string, string, string, string, string, string];
    if (!/^\d+$/.test(type) || !/^\d+$/.test(tests) || !/^\d+$/.test(tries) || !/^\d{1,5}$/.test(size)) {
      skipped.push(`${where}: type, tests, tries and size must be decimal numbers`);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,2048}$/.test(gen) || !/^[0-9a-fA-F]{1,2048}$/.test(mod)) {
      skipped.push(`${where}: generator and modulus must be hexadecimal, at most 2048 digits`);
      continue;
    }
    const t = Number(tests);
    if (Number(type) !== 2 || (t & 1) !== 0 || (t & ~1) === 0 || Number(tries) === 0) {
      skipped.push(`${where}: not a tested safe prime (type ${type}, tests ${tests}, tries ${tries}); expected type 2`);
      continue;
    }
    const bits = Number(size) + 1;
    if (bits < GEX_MIN_BITS || bits > GEX_MAX_BITS) {
      skipped.push(`${where}: ${bits}-bit modulus; expected ${GEX_MIN_BITS} to ${GEX_MAX_BITS} bits`);
      continue;
    }
    const p = bytesToBigint(hexBytes(mod));
    const g = bytesToBigint(hexBytes(gen));
    if (bitLength(p) !== bits) {
      skipped.push(`${where}: the modulus has ${bitLength(p)} bits, the size field says ${bits}`);
      continue;
    }
    if (g <= 1n || g >= p - 1n) {
      skipped.push(`${where}: generator out of range; expected 1 < g < p-1`);
      continue;
    }
    groups.push({ bits, p, g });
  }
  return { groups, skipped };
}

function hexBytes(hex: string): Uint8Array {
  const h = hex.length % 2 === 1 ? `0${hex}` : hex;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}
