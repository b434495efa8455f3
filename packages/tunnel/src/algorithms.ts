/**
 * User-facing algorithm options (`kexAlgorithms`, `hostKeyAlgorithms`, `ciphers`, `macs`)
 * resolved against the defaults and what is supported, in OpenSSH's syntax. Errors name the
 * option as the caller calls it (`optionNames`: the CLI passes its flags), else by its field.
 */
import {
  type AlgorithmLists,
  CERT_HOST_KEY_ALGORITHMS,
  CIPHERS,
  type CryptoProvider,
  DEFAULT_CIPHERS,
  DEFAULT_HOST_KEY_ALGORITHMS,
  DEFAULT_KEX,
  DEFAULT_MACS,
  isCertificateType,
  KEX_METHODS,
  MACS,
  nobleProvider,
  preferredCiphers,
  SIGNATURE_ALGORITHMS,
  selectAlgorithms,
} from "@tunnel/ssh";
import { nativeProvider, type Runtime, runtime } from "@tunnel/ssh/runtime";
import { type OptionField, type OptionNames, optionName } from "./option-names.ts";

/**
 * The algorithms, crypto mode and sockets of a connection (`runCheck`, `TunnelSession`, the
 * bench). Each list is in OpenSSH's syntax: `a,b` (that list), `+a` (appended to the defaults),
 * `-a` (removed from them), `^a` (put first), names with `*` and `?` as wildcards. A list left
 * undefined is ssh_config's where one is read, else the defaults.
 */
export interface AlgorithmOptions {
  /** Key exchange methods; the CLI's `--kex-algorithms`. */
  kexAlgorithms?: string | undefined;
  /** Host key algorithms to accept, in order of preference; the CLI's `--host-key-algorithms`. */
  hostKeyAlgorithms?: string | undefined;
  /** Ciphers (the default order depends on what this runtime accelerates); the CLI's `--ciphers`. */
  ciphers?: string | undefined;
  /** MACs (unused with an AEAD cipher, which authenticates itself); the CLI's `--macs`. */
  macs?: string | undefined;
  /** `auto`: the runtime's verified accelerators where faster; `noble`: pure noble (accelerators off). */
  crypto?: CryptoMode | undefined;
  /** How errors name each option (option-names.ts; default: its field's name); a CLI passes its flags. */
  optionNames?: OptionNames | undefined;
  /**
   * The socket adapter to connect and listen with; default: this runtime's own
   * (`@tunnel/ssh/runtime`). Benchmarks pass the others; embedders may pass their own.
   */
  sockets?: Runtime | undefined;
}

/** Every `CryptoMode`, for option parsing (the CLI's `--crypto`). */
export const CRYPTO_MODES = ["auto", "noble"] as const;
/** Which primitives carry the crypto: `auto` (the runtime's accelerators, checked against noble) or `noble` alone. */
export type CryptoMode = (typeof CRYPTO_MODES)[number];

/** The crypto provider for a mode; a one-line error, naming the option as `names` says, for an unknown mode. */
export function providerFor(mode: string | undefined, names?: OptionNames): CryptoProvider {
  if (mode === undefined || mode === "auto") return nativeProvider();
  if (mode === "noble") return nobleProvider;
  throw new TypeError(`${optionName(names, "crypto")}: "${mode}" is not a mode; expected auto or noble`);
}

/**
 * The lists to offer. `knownKeyTypes`: the key types known_hosts pins for the host we connect
 * to; host key algorithms for those types move to the front (keeping their relative order),
 * so that an honest server holding several keys negotiates the pinned one.
 */
export function resolveAlgorithms(
  o: AlgorithmOptions,
  provider?: CryptoProvider,
  knownKeyTypes: readonly string[] = [],
): AlgorithmLists {
  // The runtime whose crypto runs here (chosen by export condition), whatever `sockets` says.
  const cipherDefaults = provider ? preferredCiphers(provider, runtime.name) : DEFAULT_CIPHERS;
  const name = (field: OptionField) => optionName(o.optionNames, field);
  const hostKey = selectAlgorithms(name("hostKeyAlgorithms"), o.hostKeyAlgorithms, CLIENT_HOST_KEY_ALGORITHMS, [
    ...SIGNATURE_ALGORITHMS.keys(),
  ]);
  // As ssh(1): a list the user wrote out in full (or put at the head with ^) is their order;
  // the defaults, and defaults with + or - applied, are reordered.
  const spec = o.hostKeyAlgorithms?.trim() ?? "";
  const userOrdered = spec !== "" && spec[0] !== "+" && spec[0] !== "-";
  return {
    kex: selectAlgorithms(name("kexAlgorithms"), o.kexAlgorithms, DEFAULT_KEX, [...KEX_METHODS.keys()]),
    hostKey: userOrdered ? hostKey : preferKnownHostKeyTypes(hostKey, knownKeyTypes),
    cipher: selectAlgorithms(name("ciphers"), o.ciphers, cipherDefaults, [...CIPHERS.keys()]),
    mac: selectAlgorithms(name("macs"), o.macs, DEFAULT_MACS, [...MACS.keys()]),
  };
}

/** The key type a host key algorithm signs with (rsa-sha2-512 → ssh-rsa), if we know the algorithm. */
export function hostKeyTypeOf(algorithm: string): string | undefined {
  return SIGNATURE_ALGORITHMS.get(algorithm)?.keyType;
}

/**
 * The client's default host key algorithms: the plain ones, then their certificate forms
 * (PROTOCOL.certkeys). A host that known_hosts trusts through a `@cert-authority` line gets
 * the certificate forms first (`knownKeyTypes` then names the certificate types).
 */
export const CLIENT_HOST_KEY_ALGORITHMS: readonly string[] = [
  ...DEFAULT_HOST_KEY_ALGORITHMS,
  ...CERT_HOST_KEY_ALGORITHMS,
];

/**
 * Algorithms whose key type is in `knownKeyTypes` first — certificate types before plain ones,
 * as ssh(1) orders them — each group in its original order.
 */
export function preferKnownHostKeyTypes(algorithms: readonly string[], knownKeyTypes: readonly string[]): string[] {
  const known = (a: string) => knownKeyTypes.includes(hostKeyTypeOf(a) ?? "");
  const cert = (a: string) => isCertificateType(hostKeyTypeOf(a) ?? "");
  return [
    ...algorithms.filter((a) => known(a) && cert(a)),
    ...algorithms.filter((a) => known(a) && !cert(a)),
    ...algorithms.filter((a) => !known(a)),
  ];
}
