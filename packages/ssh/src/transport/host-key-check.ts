/**
 * The client's two checks on the server (RFC 4253 §8): the signature over the exchange hash H
 * with K_S in the negotiated algorithm, then the user's verifier on K_S (RFC 4251 §4.1, §9.3.4:
 * mandatory, before NEWKEYS and so before any user authentication).
 */
import { SIGNATURE_ALGORITHMS } from "../algorithms/hostkey.ts";
import type { CryptoProvider } from "../crypto/provider.ts";
import { DisconnectReason, SshError } from "../errors.ts";
import type { PublicKey } from "../keys/types.ts";
import type { TransportOptions } from "./transport.ts";

export function checkExchangeSignature(
  provider: CryptoProvider,
  algorithm: string,
  ks: Uint8Array,
  h: Uint8Array,
  signature: Uint8Array,
): void {
  if (!SIGNATURE_ALGORITHMS.get(algorithm)?.verify(provider, ks, h, signature)) {
    throw new SshError("BAD_SIGNATURE", `server's ${algorithm} signature over the exchange hash did not verify`, {
      reason: DisconnectReason.KEY_EXCHANGE_FAILED,
    });
  }
}

/** Resolves when the verifier accepts the key; rejects with an `SshError` otherwise. */
export async function askVerifier(
  options: TransportOptions,
  algorithm: string,
  key: PublicKey,
  fingerprint: string,
  serverHostKeyAlgorithms: readonly string[],
): Promise<void> {
  const verify = options.verifyHostKey as NonNullable<TransportOptions["verifyHostKey"]>;
  let ok: boolean;
  try {
    ok = await verify({
      host: options.host ?? "",
      port: options.port ?? 22,
      algorithm,
      key,
      fingerprint,
      serverHostKeyAlgorithms,
    });
  } catch (err) {
    throw err instanceof SshError
      ? err
      : new SshError("HOST_KEY_REJECTED", `host key check failed: ${(err as Error)?.message ?? String(err)}`, {
          reason: DisconnectReason.HOST_KEY_NOT_VERIFIABLE,
        });
  }
  if (ok !== true) {
    throw new SshError("HOST_KEY_REJECTED", `host key ${fingerprint} (${key.type}) was rejected`, {
      reason: DisconnectReason.HOST_KEY_NOT_VERIFIABLE,
    });
  }
}
