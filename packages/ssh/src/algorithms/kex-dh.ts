/**
 * diffie-hellman-group14-sha256 and diffie-hellman-group16-sha512 (RFC 8268) over the
 * MODP groups of RFC 3526 §3 (2048-bit) and §5 (4096-bit), generator 2 (RFC 4253 §8).
 *
 * The private exponent has twice the group's security strength in bits (RFC 8268 §4:
 * 2048-bit group ~112 bits → we use 256; 4096-bit ~152 → 512), from the injected RandomSource.
 * The peer's value must satisfy 1 < f < p − 1 (RFC 4253 §8); anything else is refused, and a
 * value longer than p is refused from its length alone, before it is converted.
 */
import { bytesToBigint, modPow } from "../crypto/bigint.ts";
import type { CryptoProvider, HashName, RandomSource } from "../crypto/provider.ts";
import { DisconnectReason, SshError } from "../errors.ts";
import { mpintEncode, Writer } from "../wire/writer.ts";
import type { KexAlgorithm } from "./types.ts";

/** RFC 3526 §3: p = 2^2048 − 2^1984 − 1 + 2^64 · ([2^1918 π] + 124476). Checked in kex-dh.test.ts. */
export const MODP_2048 = BigInt(
  "0x" +
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF",
);

/** RFC 3526 §5: p = 2^4096 − 2^4032 − 1 + 2^64 · ([2^3966 π] + 240904). Checked in kex-dh.test.ts. */
export const MODP_4096 = BigInt(
  "0x" +
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7" +
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8DBBBC2DB04DE8EF92E8EFC141FBECAA6" +
    "287C59474E6BC05D99B2964FA090C3A2233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9" +
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF",
);

const kexFailed = (m: string) => new SshError("KEX_FAILED", m, { reason: DisconnectReason.KEY_EXCHANGE_FAILED });

export { modPow };

/** The length in bytes of a positive bigint. */
const byteLength = (n: bigint) => (n.toString(16).length + 1) >> 1;

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

function make(name: string, p: bigint, hash: HashName, exponentBits: number): KexAlgorithm {
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
        clientValue: mpintEncode(modPow(2n, x, p)),
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
          return { serverValue: mpintEncode(modPow(2n, y, p)), sharedSecret: shared(y, ev) };
        },
        dispose: () => {
          y = 0n;
        },
      };
    },
  };
}

export const DH_KEX: readonly KexAlgorithm[] = [
  make("diffie-hellman-group16-sha512", MODP_4096, "sha512", 512),
  make("diffie-hellman-group14-sha256", MODP_2048, "sha256", 256),
];
