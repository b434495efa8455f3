/**
 * The verbs of `tunnel`, each with its one-line description. `tunnel --help` prints this table
 * without loading any verb (start-up stays short); each command's own `meta.description` comes
 * from here too. A module of its own: the commands import it, and verbs.ts imports them.
 */
export const VERB_DESCRIPTIONS = {
  check: "Connect to an SSH server, verify and authenticate, and report what was negotiated",
  open: "Open local ports that reach services behind an SSH bastion",
  run: "Run a command with its service URLs pointing through tunnels, closed when it exits",
  expose: "Make a local port reachable on the bastion's side (a reverse tunnel)",
  socks: "Run a SOCKS5 proxy whose connections go out through the bastion",
  list: "List the running tunnels: address, state, connections, bytes (and those found dead)",
  info: "Show running tunnels' details; --encode: base64 JSON for an environment variable",
  env: "Print export lines that point each tunnel's variable at its local address",
  logs: "Print a tunnel's events (connections, reconnections, errors); -f to follow",
  close: "Close running tunnels gracefully (NAME… or --all) and wait for them to exit",
  pause: "Stop accepting local connections on a tunnel's port; open ones go on",
  resume: "Accept local connections again on a paused tunnel's port",
  demo: "Run an SSH server, an echo target and a tunnel in this process, and measure them",
  bench: "Measure throughput and round trip: over loopback through our own server, or --via your bastion",
  serve: "Run a forwarding-only SSH server (no shells, only TCP forwarding)",
  completion: "Print a completion script for bash, zsh or fish",
} as const;

export type Verb = keyof typeof VERB_DESCRIPTIONS;

export function isVerb(name: string): name is Verb {
  return Object.hasOwn(VERB_DESCRIPTIONS, name);
}
