/** Arguments shared by the verbs that open SSH connections (OpenSSH list syntax). */
export const algorithmArgs = {
  "kex-algorithms": { type: "string", description: "KEX algorithms (comma list; +append, -remove, ^prepend)" },
  "host-key-algorithms": { type: "string", description: "host key algorithms (same syntax)" },
  ciphers: { type: "string", description: "ciphers (same syntax)" },
  macs: { type: "string", description: "MACs (same syntax)" },
  crypto: { type: "string", description: "auto (runtime accelerators, verified) | noble (pure noble)" },
} as const;

/**
 * Arguments of the verbs that keep a connection to a bastion open (`run`, `expose`, `socks`):
 * the bastion (resolved through ssh_config, as `tunnel open` does), how to trust and log in
 * to it, and the keepalive, reconnection and stop behaviour they share with `tunnel open`.
 */
export const bastionArgs = {
  via: {
    type: "string",
    description: "bastion [user@]host[:port], or a Host from ssh_config (default: $TUNNEL_VIA)",
  },
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
  identity: {
    type: "string",
    alias: "i",
    description: "private key file, tried before ssh_config's IdentityFile ones",
  },
  "known-hosts": {
    type: "string",
    description: "the known_hosts file (default: ssh_config's, else ~/.ssh/known_hosts and the system's)",
  },
  "host-key-check": {
    type: "string",
    description: "yes | accept-new | no (default: ssh_config's StrictHostKeyChecking, else accept-new)",
  },
  ...algorithmArgs,
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
    description: "largest receive window a connection may grow to on long links (default 16M)",
  },
  grace: { type: "string", description: "on stop, seconds open connections may finish in (default 3)" },
  verbose: { type: "boolean", alias: "v", description: "log each connection and the ssh_config lines that applied" },
} as const;
