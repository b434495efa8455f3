/**
 * What `run`, `expose` and `socks` share with `tunnel open`: the session options read from
 * `bastionArgs` (shared-args.ts), the people-oriented lines on stderr, and the stop on Ctrl+C
 * (graceful first, at once on the second).
 */
import type { OpenOptions } from "@tunnel/core";
import { UsageError } from "./errors.ts";
import { type AlgorithmArgValues, algorithmOptions } from "./shared-args.ts";
import { onInterrupt } from "./signals.ts";
import { parseCount, parseSeconds, parseSize } from "./units.ts";

export const err = (line: string) => process.stderr.write(`${line}\n`);

export type BastionOptions = Omit<OpenOptions, "targets">;

/** The parsed `bastionArgs`, as citty gives them. */
export interface BastionArgValues extends AlgorithmArgValues {
  via?: string | undefined;
  jump?: string | undefined;
  config?: string | undefined;
  identity?: string | undefined;
  "known-hosts"?: string | undefined;
  "host-key-check"?: OpenOptions["hostKeyCheck"] | undefined;
  keepalive?: string | undefined;
  "keepalive-count"?: string | undefined;
  reconnect?: boolean | undefined;
  "connect-timeout"?: string | undefined;
  "max-window"?: string | undefined;
  grace?: string | undefined;
  verbose?: boolean | undefined;
}

/** Where a session's lines for people go: `say` always, `detail` the per-connection ones. */
export interface Sinks {
  say(line: string): void;
  detail?: ((line: string) => void) | undefined;
}

/** The bastion's options as read from the flags, and the warnings they call for (not yet shown). */
export interface ReadBastionArgs {
  options: BastionOptions;
  via: string;
  graceMs: number;
  warnings: string[];
}

/**
 * Session options and the stop grace from the flags; every flag is checked before anything
 * connects. The session's events go to `sinks` (default: stderr, per connection with --verbose).
 */
export function readBastionArgs(
  args: BastionArgValues,
  sinks: Sinks = { say: err, detail: args.verbose ? err : undefined },
): ReadBastionArgs {
  const via = args.via ?? process.env.TUNNEL_VIA;
  if (!via) {
    throw new UsageError("no bastion given; expected --via [user@]host[:port] or the TUNNEL_VIA environment variable");
  }
  const graceMs = parseSeconds(args.grace, "--grace", 3);
  // Absent flags stay undefined: ssh_config's values, then the session's defaults, apply.
  const seconds = (value: string | undefined, flag: string, fallback: number) =>
    value === undefined ? undefined : parseSeconds(value, flag, fallback);
  const { say, detail } = sinks;
  const options: BastionOptions = {
    via,
    jump: args.jump,
    sshConfig: args.config ?? true,
    identity: args.identity,
    knownHosts: args["known-hosts"],
    hostKeyCheck: args["host-key-check"],
    ...algorithmOptions(args),
    password: process.env.TUNNEL_PASSWORD,
    keepaliveMs: seconds(args.keepalive, "--keepalive", 15),
    keepaliveCountMax:
      args["keepalive-count"] === undefined ? undefined : parseCount(args["keepalive-count"], "--keepalive-count", 3),
    connectTimeoutMs: seconds(args["connect-timeout"], "--connect-timeout", 15),
    reconnect: args.reconnect !== false,
    maxWindow: parseSize(args["max-window"], "--max-window", 16 * 1024 * 1024),
    events: {
      info: say,
      ...(detail ? { verbose: detail } : {}),
      added: (info, file) =>
        say(`Added ${info.key.type} host key ${info.fingerprint} for ${hostPort(info.host, info.port)} to ${file}`),
      unchecked: (info) => say(`WARNING: accepted ${info.key.type} host key ${info.fingerprint} without checking`),
    },
  };
  const warnings =
    args["host-key-check"] === "no"
      ? ["WARNING: host key checking is OFF (--host-key-check no): anyone in the path can impersonate the bastion"]
      : [];
  return { options, via, graceMs, warnings };
}

/** `readBastionArgs` with its warnings shown on stderr at once. */
export function bastionOptions(args: BastionArgValues): { options: BastionOptions; via: string; graceMs: number } {
  const read = readBastionArgs(args);
  for (const line of read.warnings) err(line);
  return read;
}

interface Stoppable {
  activeConnections: number;
  stop(graceMs: number): Promise<number>;
  forceStop(): void;
}

/** The graceful stop of `tunnel open` (Ctrl+C, `tunnel close`): open connections get `graceMs`. */
export function gracefulStop(session: Stoppable, graceMs: number, say: (line: string) => void = err): () => void {
  return () => {
    const n = session.activeConnections;
    if (n === 0) say("Closing");
    else say(`Closing: waiting up to ${graceMs / 1000} s for ${n} open connection(s) (Ctrl+C again to close at once)`);
    void session.stop(graceMs).then((cut) => {
      if (cut > 0) say(`Closed ${cut} connection(s) still open after ${graceMs / 1000} s`);
    });
  };
}

/** What `tunnel open` does on Ctrl+C, for any session with `stop` and `forceStop`. */
export function stopOnInterrupt(
  session: Stoppable,
  graceMs: number,
  say: (line: string) => void = err,
  graceful: () => void = gracefulStop(session, graceMs, say),
): { dispose(): void } {
  return onInterrupt(graceful, () => {
    say("Closing at once");
    session.forceStop();
  });
}

/**
 * After the session ended: sockets lingering over their last bytes must not hold the exit up.
 * Without `code`, the exit status is whatever main.ts set (1 after an error line): Node's
 * `process.exit(undefined)` would reset it to 0, so the argument is left out, not passed empty.
 */
export function exitSoon(code?: number, afterMs = 500): void {
  const t = setTimeout(() => (code === undefined ? process.exit() : process.exit(code)), afterMs);
  (t as { unref?: () => void }).unref?.();
}

/** `host:port` for people, IPv6 in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
