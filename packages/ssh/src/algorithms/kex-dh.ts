/**
 * diffie-hellman-group14-sha256, -group16-sha512 and -group18-sha512 (RFC 8268) over the
 * MODP groups of RFC 3526 §3 (2048-bit), §5 (4096-bit) and §7 (8192-bit), generator 2 (RFC 4253 §8).
 *
 * The private exponent has twice the group's security strength in bits (RFC 8268 §4:
 * 2048-bit group ~112 bits → we use 256; 4096-bit ~152 → 512), from the injected RandomSource.
 * `dhValueExchange` is shared with group exchange (kex-gex.ts), whose group comes from the server.
 * The peer's value must satisfy 1 < f < p − 1 (RFC 4253 §8); anything else is refused, and a
 * value longer than p is refused from its length alone, before it is converted.
 */
import { bytesToBigint, modPow } from "../crypto/bigint.ts";
import type { CryptoProvider, HashName, RandomSource } from "../crypto/provider.ts";
import { mpintEncode, Writer } from "../wire/writer.ts";
import { kexFailed } from "./kex-method-errors.ts";
import { KEX_NAME } from "./kex-names.ts";
import { type OneRoundKex, oneRound } from "./kex-one-round.ts";
import { MODP_2048, MODP_4096, MODP_8192 } from "./modp-groups.ts";
import type { KexAlgorithm } from "./types.ts";

export { MODP_2048, MODP_4096 } from "./modp-groups.ts";

export { modPow };

/** The length in bytes of a positive bigint. */
export const byteLength = (n: bigint) => (n.toString(16).length + 1) >> 1;

/**
 * Parses and range-checks the peer's public value (mpint contents). Its length is checked
 * first, against p's: a value below p takes at most p's bytes plus the sign pad, and nothing
 * longer is converted or computed with (issue 12, item 1: a 256 KiB value was seconds of CPU).
 */
export function checkPeerValue(value: Uint8Array, p: bigint, who: string): bigint {
  const pBytes = byteLength(p);
  if (value.length > pBytes + 1 || (value.length === pBytes + 1 && value[0] !== 0)) {
    throw kexFailed(
      `${who}'s DH value is ${value.length} bytes long; a value below p (${pBytes * 8} bits) takes at most ${pBytes + 1}`,
    );
  }
  if (value.length > 0 && ((value[0] as number) & 0x80) !== 0) throw kexFailed(`${who}'s DH value is negative`);
  const v = bytesToBigint(value);
  if (v <= 1n || v >= p - 1n) throw kexFailed(`${who}'s DH value is out of range: expected 1 < value < p-1`);
  return v;
}

/** The DH value exchange over group (p, g): x from the injected randomness, e = g^x mod p. */
export function dhValueExchange(
  name: string,
  p: bigint,
  g: bigint,
  hash: HashName,
  exponentBits: number,
): KexAlgorithm {
  const pBytes = byteLength(p);
  const secret = (random: RandomSource): bigint => {
    const x = bytesToBigint(random(exponentBits / 8));
    // 1 < x: set the top bit so the exponent has its full size.
    return x | (1n << BigInt(exponentBits - 1));
  };
  const shared = (x: bigint, peer: bigint) => new Writer(pBytes + 8).mpint(modPow(peer, x, p)).bytes();
  return {
    name,
    hash,
    createClient(_provider: CryptoProvider, random: RandomSource) {
      let x = secret(random);
      return {
        clientValue: mpintEncode(modPow(g, x, p)),
        finish: (f: Uint8Array) => shared(x, checkPeerValue(f, p, "server")),
        dispose: () => {
          x = 0n;
        },
      };
    },
    createServer(_provider: CryptoProvider, random: RandomSource) {
      let y = secret(random);
      return {
        respond: (e: Uint8Array) => {
          const ev = checkPeerValue(e, p, "client");
          return { serverValue: mpintEncode(modPow(g, y, p)), sharedSecret: shared(y, ev) };
        },
        dispose: () => {
          y = 0n;
        },
      };
    },
  };
}

export const DH_KEX: readonly OneRoundKex[] = [
  oneRound(dhValueExchange(KEX_NAME.DH_GROUP16_SHA512, MODP_4096, 2n, "sha512", 512)),
  // 8192 bits, ~200-bit strength (RFC 3526 §8): 512 bits is over twice that, and SHA-512's size.
  oneRound(dhValueExchange(KEX_NAME.DH_GROUP18_SHA512, MODP_8192, 2n, "sha512", 512)),
  oneRound(dhValueExchange(KEX_NAME.DH_GROUP14_SHA256, MODP_2048, 2n, "sha256", 256)),
];
