/**
 * The argument definitions the verbs share, each written once; a verb lists them in the
 * order its help shows them and may say one differently (`{ ...identityArg, description }`).
 * Options with a fixed set of values are citty enums: argv.ts refuses any other value with
 * `--NAME: "VALUE" is not a VALUEHINT; expected …`.
 */
import {
  type AlgorithmOptions,
  CRYPTO_MODES,
  type CryptoMode,
  HOST_KEY_POLICIES,
  type OptionNames,
} from "@tunnel/core";

export const viaArg = {
  type: "string",
  description: "bastion [user@]host[:port], or a Host from ssh_config (default: $TUNNEL_VIA)",
} as const;

/** How the destination is reached: jump hosts, and the ssh_config that resolves it. */
export const routeArgs = {
  jump: {
    type: "string",
    alias: "J",
    description:
      "jump hosts [user@]host[:port],… to pass through first, each resolved through ssh_config (none: not the config's ProxyJump)",
  },
  config: {
    type: "string",
    alias: "F",
    description: "ssh_config file to read instead of ~/.ssh/config and /etc/ssh/ssh_config (none: no file)",
  },
} as const;

export const identityArg = {
  type: "string",
  alias: "i",
  description: "private key file, tried before ssh_config's IdentityFile ones",
} as const;

export const knownHostsArg = {
  type: "string",
  description: "the known_hosts file (default: ssh_config's, else ~/.ssh/known_hosts and the system's)",
} as const;

// Enums are not `as const`: citty takes their options as a mutable array.
export const hostKeyCheckArg = {
  type: "enum" as const,
  options: [...HOST_KEY_POLICIES],
  valueHint: "POLICY",
  description: "yes | accept-new | no (default: ssh_config's StrictHostKeyChecking, else accept-new)",
};

const cryptoArg = {
  type: "enum" as const,
  options: [...CRYPTO_MODES],
  valueHint: "MODE",
  description: "auto (runtime accelerators, verified) | noble (pure noble)",
};

/** Arguments shared by the verbs that open SSH connections (OpenSSH list syntax). */
export const algorithmArgs = {
  "kex-algorithms": { type: "string", description: "KEX algorithms (comma list; +append, -remove, ^prepend)" },
  "host-key-algorithms": { type: "string", description: "host key algorithms (same syntax)" },
  ciphers: { type: "string", description: "ciphers (same syntax)" },
  macs: { type: "string", description: "MACs (same syntax)" },
  crypto: cryptoArg,
} as const;

/**
 * How the engine's messages name its options: by these flags (the user sees the CLI's words).
 * Every field the engine may name has one, so no message shows a field's name instead; each
 * verb passes them as `optionNames` (here through `algorithmOptions`).
 */
export const FLAG_NAMES: Required<OptionNames> = {
  kexAlgorithms: "--kex-algorithms",
  hostKeyAlgorithms: "--host-key-algorithms",
  ciphers: "--ciphers",
  macs: "--macs",
  crypto: "--crypto",
  sockets: "--sockets",
  sshConfig: "--config",
  jump: "--jump",
  identity: "--identity",
  hostKeyCheck: "--host-key-check",
  port: "--port",
  name: "--name",
  envFile: "--env-file",
  benchTarget: "--target",
  allow: "--allow",
  allowRemote: "--allow-remote",
  maxStartups: "--max-startups",
  trustedUserCaKeys: "--trusted-user-ca-keys",
};

/** The parsed `algorithmArgs`, as citty gives them. */
export interface AlgorithmArgValues {
  "kex-algorithms"?: string | undefined;
  "host-key-algorithms"?: string | undefined;
  ciphers?: string | undefined;
  macs?: string | undefined;
  crypto?: CryptoMode | undefined;
}

/** The engine's options from `algorithmArgs`, its messages naming the flags. */
export function algorithmOptions(args: AlgorithmArgValues): AlgorithmOptions {
  return {
    kexAlgorithms: args["kex-algorithms"],
    hostKeyAlgorithms: args["host-key-algorithms"],
    ciphers: args.ciphers,
    macs: args.macs,
    crypto: args.crypto,
    optionNames: FLAG_NAMES,
  };
}

/** The keepalive and reconnection of a session to a bastion. */
export const keepaliveArgs = {
  keepalive: {
    type: "string",
    description:
      "seconds of silence before an SSH keepalive is sent (default: ssh_config's ServerAliveInterval, else 15; 0 turns them off)",
  },
  "keepalive-count": {
    type: "string",
    description: "silent keepalive intervals before the bastion counts as gone (default: ServerAliveCountMax, else 3)",
  },
  reconnect: {
    type: "boolean",
    default: true,
    description: "reconnect when the connection to the bastion is lost (--no-reconnect: exit instead)",
  },
  "connect-timeout": {
    type: "string",
    description:
      "seconds to wait for the bastion (default: ssh_config's ConnectTimeout, else 15), and a connection to wait during an outage (default 15)",
  },
  "max-window": {
    type: "string",
    description:
      "largest receive window a connection may grow to on long links (default 16M; 8M at most toward OpenSSH)",
  },
} as const;

export const graceArg = {
  type: "string",
  description: "on stop, seconds open connections may finish in (default 3)",
} as const;

export const verboseArg = {
  type: "boolean",
  alias: "v",
  description: "log each connection and the ssh_config lines that applied",
} as const;

export const bindArg = { type: "string", description: "local address to listen on (default 127.0.0.1)" } as const;
export const envFileArg = { type: "string", description: "read variables from this file" } as const;

/**
 * Arguments of the verbs that keep a connection to a bastion open (`run`, `expose`, `socks`):
 * the bastion (resolved through ssh_config, as `tunnel open` does), how to trust and log in
 * to it, and the keepalive, reconnection and stop behaviour they share with `tunnel open`.
 */
export const bastionArgs = {
  via: viaArg,
  ...routeArgs,
  identity: identityArg,
  "known-hosts": knownHostsArg,
  "host-key-check": hostKeyCheckArg,
  ...algorithmArgs,
  ...keepaliveArgs,
  grace: graceArg,
  verbose: verboseArg,
} as const;
