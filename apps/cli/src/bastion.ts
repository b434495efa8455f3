/**
 * What `run`, `expose` and `socks` share with `tunnel open`: the session options read from
 * `bastionArgs` (shared-args.ts), the people-oriented lines on stderr, and the stop on Ctrl+C
 * (graceful first, at once on the second).
 */
import { type CryptoMode, HOST_KEY_POLICIES, type HostKeyPolicy, type OpenOptions } from "@tunnel/core";
import { UsageError } from "./errors.ts";
import { onInterrupt, parseCount, parseSeconds } from "./signals.ts";
import { parseSize } from "./units.ts";

export const err = (line: string) => process.stderr.write(`${line}\n`);

export type BastionOptions = Omit<OpenOptions, "targets">;

/** The parsed `bastionArgs`, as citty gives them. */
export interface BastionArgValues {
  via?: string | undefined;
  jump?: string | undefined;
  config?: string | undefined;
  identity?: string | undefined;
  "known-hosts"?: string | undefined;
  "host-key-check"?: string | undefined;
  "kex-algorithms"?: string | undefined;
  "host-key-algorithms"?: string | undefined;
  ciphers?: string | undefined;
  macs?: string | undefined;
  crypto?: string | undefined;
  keepalive?: string | undefined;
  "keepalive-count"?: string | undefined;
  reconnect?: boolean | undefined;
  "connect-timeout"?: string | undefined;
  "max-window"?: string | undefined;
  grace?: string | undefined;
  verbose?: boolean | undefined;
}

/** Session options and the stop grace from the flags; every flag is checked before anything connects. */
export function bastionOptions(args: BastionArgValues): { options: BastionOptions; via: string; graceMs: number } {
  const policy = args["host-key-check"] as HostKeyPolicy | undefined;
  if (policy !== undefined && !HOST_KEY_POLICIES.includes(policy)) {
    throw new UsageError(`--host-key-check: "${policy}" is not a policy; expected yes, accept-new or no`);
  }
  const via = args.via ?? process.env.TUNNEL_VIA;
  if (!via) {
    throw new UsageError("no bastion given; expected --via [user@]host[:port] or the TUNNEL_VIA environment variable");
  }
  const graceMs = parseSeconds(args.grace, "--grace", 3);
  // Absent flags stay undefined: ssh_config's values, then the session's defaults, apply.
  const seconds = (value: string | undefined, flag: string, fallback: number) =>
    value === undefined ? undefined : parseSeconds(value, flag, fallback);
  const options: BastionOptions = {
    via,
    jump: args.jump,
    sshConfig: args.config ?? true,
    identity: args.identity,
    knownHosts: args["known-hosts"],
    hostKeyCheck: policy,
    kexAlgorithms: args["kex-algorithms"],
    hostKeyAlgorithms: args["host-key-algorithms"],
    ciphers: args.ciphers,
    macs: args.macs,
    crypto: args.crypto as CryptoMode | undefined,
    password: process.env.TUNNEL_PASSWORD,
    keepaliveMs: seconds(args.keepalive, "--keepalive", 15),
    keepaliveCountMax:
      args["keepalive-count"] === undefined ? undefined : parseCount(args["keepalive-count"], "--keepalive-count", 3),
    connectTimeoutMs: seconds(args["connect-timeout"], "--connect-timeout", 15),
    reconnect: args.reconnect !== false,
    maxWindow: parseSize(args["max-window"], "--max-window", 16 * 1024 * 1024),
    events: {
      info: err,
      ...(args.verbose ? { verbose: err } : {}),
      added: (info, file) =>
        err(`Added ${info.key.type} host key ${info.fingerprint} for ${hostPort(info.host, info.port)} to ${file}`),
      unchecked: (info) => err(`WARNING: accepted ${info.key.type} host key ${info.fingerprint} without checking`),
    },
  };
  if (policy === "no") {
    err("WARNING: host key checking is OFF (--host-key-check no): anyone in the path can impersonate the bastion");
  }
  return { options, via, graceMs };
}

/** What `tunnel open` does on Ctrl+C, for any session with `stop` and `forceStop`. */
export function stopOnInterrupt(
  session: { activeConnections: number; stop(graceMs: number): Promise<number>; forceStop(): void },
  graceMs: number,
): { dispose(): void } {
  return onInterrupt(
    () => {
      const n = session.activeConnections;
      if (n === 0) err("Closing");
      else
        err(`Closing: waiting up to ${graceMs / 1000} s for ${n} open connection(s) (Ctrl+C again to close at once)`);
      void session.stop(graceMs).then((cut) => {
        if (cut > 0) err(`Closed ${cut} connection(s) still open after ${graceMs / 1000} s`);
      });
    },
    () => {
      err("Closing at once");
      session.forceStop();
    },
  );
}

/** After the session ended: sockets lingering over their last bytes must not hold the exit up. */
export function exitSoon(): void {
  const t = setTimeout(() => process.exit(), 500);
  (t as { unref?: () => void }).unref?.();
}

/** `host:port` for people, IPv6 in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
