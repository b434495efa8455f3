/**
 * How the engine's messages name the caller's options. The engine knows its options by their
 * fields (`ciphers`, `port`, `allowRemote`); a caller with its own names for them (the CLI's
 * flags, `--ciphers`, `--port`, `--allow-remote`) passes them in `optionNames`, and the
 * messages use those. A caller that passes none sees the fields (`hostKeyCheck accept-new`).
 * Every message of the engine that names an option goes through `optionName`: the engine
 * never spells a flag of its own.
 */

/** The options some message names, each a field of the engine's options. */
export type OptionField =
  // Algorithms and crypto (AlgorithmOptions).
  | "kexAlgorithms"
  | "hostKeyAlgorithms"
  | "ciphers"
  | "macs"
  | "crypto"
  | "sockets"
  // The destination and how to log in to it (DestinationOptions, OpenOptions).
  | "sshConfig"
  | "jump"
  | "identity"
  | "hostKeyCheck"
  // Tunnels: their local ports, names (HostOptions) and targets' environment (loadEnvironment).
  | "port"
  | "name"
  | "envFile"
  // The bench through a bastion: the bench target's address (benchVia).
  | "benchTarget"
  // The forwarding server (ForwardingServerOptions).
  | "allow"
  | "allowRemote"
  | "maxStartups"
  | "trustedUserCaKeys";

/** The options whose messages name them, each with the caller's name for it. */
export type OptionNames = Partial<Record<OptionField, string>>;

/** The caller's name for `field`, else the field's own. */
export function optionName(names: OptionNames | undefined, field: OptionField): string {
  return names?.[field] ?? field;
}
