/**
 * User-facing algorithm options (`--kex-algorithms`, `--host-key-algorithms`, `--ciphers`,
 * `--macs`) resolved against the defaults and what is supported, in OpenSSH's syntax.
 */
import {
  type AlgorithmLists,
  CIPHERS,
  type CryptoProvider,
  DEFAULT_CIPHERS,
  DEFAULT_HOST_KEY_ALGORITHMS,
  DEFAULT_KEX,
  DEFAULT_MACS,
  KEX_ALGORITHMS,
  MACS,
  nobleProvider,
  preferredCiphers,
  SIGNATURE_ALGORITHMS,
  selectAlgorithms,
} from "@tunnel/ssh";
import { nativeProvider, type Runtime } from "@tunnel/ssh/runtime";

export interface AlgorithmOptions {
  kexAlgorithms?: string | undefined;
  hostKeyAlgorithms?: string | undefined;
  ciphers?: string | undefined;
  macs?: string | undefined;
  /** `auto`: the runtime's verified accelerators where faster; `noble`: pure noble (accelerators off). */
  crypto?: CryptoMode | undefined;
  /**
   * The socket adapter to connect and listen with; default: this runtime's own
   * (`@tunnel/ssh/runtime`). Benchmarks pass the others; embedders may pass their own.
   */
  sockets?: Runtime | undefined;
}

export const CRYPTO_MODES = ["auto", "noble"] as const;
export type CryptoMode = (typeof CRYPTO_MODES)[number];

/** The crypto provider for a mode; a one-line error for an unknown mode. */
export function providerFor(mode: string | undefined): CryptoProvider {
  if (mode === undefined || mode === "auto") return nativeProvider();
  if (mode === "noble") return nobleProvider;
  throw new TypeError(`--crypto: "${mode}" is not a mode; expected auto or noble`);
}

export function resolveAlgorithms(o: AlgorithmOptions, provider?: CryptoProvider): AlgorithmLists {
  const cipherDefaults = provider ? preferredCiphers(provider) : DEFAULT_CIPHERS;
  return {
    kex: selectAlgorithms("--kex-algorithms", o.kexAlgorithms, DEFAULT_KEX, [...KEX_ALGORITHMS.keys()]),
    hostKey: selectAlgorithms("--host-key-algorithms", o.hostKeyAlgorithms, DEFAULT_HOST_KEY_ALGORITHMS, [
      ...SIGNATURE_ALGORITHMS.keys(),
    ]),
    cipher: selectAlgorithms("--ciphers", o.ciphers, cipherDefaults, [...CIPHERS.keys()]),
    mac: selectAlgorithms("--macs", o.macs, DEFAULT_MACS, [...MACS.keys()]),
  };
}
