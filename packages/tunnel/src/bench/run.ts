/**
 * `tunnel bench`: the benchmark for users, on their machine.
 *
 * - Loopback (default): a forwarding-only server with a fresh host key, a bench target and a
 *   tunnel to it in this one process — both SSH ends share one thread, so the figures are a
 *   floor for what one end alone carries — measured per cipher against direct TCP.
 * - `--via`: through the user's own bastion to a bench target they run on the far side
 *   (`tunnel bench --serve-target PORT` there), with their keys and known_hosts.
 * - `--rtt MS` (loopback): a delay relay (delay-relay.ts) in this process holds every chunk
 *   MS/2 each way between the tunnel and the server, and between the load generator and the
 *   target for the direct TCP row: a long link, where the channel window is what limits.
 */
import { generateEd25519, nobleProvider, publicKeyEquals } from "@tunnel/ssh";
import { type Runtime, runtime } from "@tunnel/ssh/runtime";
import { type AlgorithmOptions, providerFor, resolveAlgorithms } from "../algorithms.ts";
import type { HostKeyPolicy } from "../known-hosts-file.ts";
import { TunnelSession } from "../open.ts";
import { optionName } from "../option-names.ts";
import { startForwardingServer } from "../serve.ts";
import { resolveTarget } from "../target.ts";
import { type DelayRelay, startDelayRelay } from "./delay-relay.ts";
import { download, type LoadEnv, roundTrip, upload } from "./load.ts";
import { startTarget } from "./target.ts";

/** One measured path: throughput each way and round trip, for one cipher. */
export interface BenchRow {
  /** The path: `direct TCP`, `tunnel (loopback)`, `tunnel (N ms)` or `tunnel via BASTION`. */
  through: string;
  /** The cipher negotiated, client to server (`-` for direct TCP, `?` if unknown). */
  cipher: string;
  /** Bytes per second. */
  up: number;
  /** Bytes per second, target to client. */
  down: number;
  /** Microseconds, median of the round trips. */
  rtt: number;
  /** Milliseconds from start to an authenticated connection with its listener (tunnels only). */
  connectMs?: number;
}

/** What `benchLoopback` and `benchVia` measure, how much, and how. */
export interface BenchOptions extends AlgorithmOptions {
  /** Bytes each way per measurement (the CLI's `--megabytes` × 1 MiB; default there 64 MiB). */
  bytes: number;
  /** Round trips timed per row, after 20 warm-up ones; `BenchRow.rtt` is their median. */
  rounds: number;
  /** Ciphers to measure one by one (loopback); with `via`, the `ciphers` option applies. */
  cipherList?: readonly string[];
  /** `benchVia`: the bastion, `[user@]host[:port]`; the CLI's `--via`. */
  via?: string;
  /** `benchVia`: `host:port` of a bench target behind the bastion; the CLI's `--target`. */
  target?: string;
  /** `benchVia`: a private key file to log in to the bastion with; the CLI's `--identity`. */
  identity?: string | undefined;
  /** `benchVia`: the one known_hosts file to check host keys against and record new ones in; `--known-hosts`. */
  knownHosts?: string | undefined;
  /** `benchVia`: what to do with a host key known_hosts does not vouch for (default `accept-new`). */
  hostKeyCheck?: HostKeyPolicy;
  /** Loopback: round-trip time in ms of a delay relay in front of the server and the target. */
  rttMs?: number | undefined;
  /** The largest the tunnel's receive windows may grow to (downloads; default 16 MiB). */
  maxWindow?: number | undefined;
  /** Receives a line per tunnel measured: its cipher and MB/s each way. */
  log?(line: string): void;
}

const now = () => performance.now();
const envFor = (port: number, sockets: Runtime): LoadEnv => ({ runtime: sockets, now, host: "127.0.0.1", port });

async function measure(port: number, o: BenchOptions): Promise<{ up: number; down: number; rtt: number }> {
  const env = envFor(port, o.sockets ?? runtime);
  const up = await upload(env, o.bytes);
  const down = await download(env, o.bytes);
  const rtt = await roundTrip(env, o.rounds);
  return { up: up.rate, down: down.rate, rtt: rtt.median };
}

async function throughSession(session: TunnelSession, label: string, o: BenchOptions): Promise<BenchRow> {
  const t0 = now();
  try {
    const [opened] = await session.start();
    if (!opened) throw new Error("internal error: no listener");
    const connectMs = now() - t0;
    const m = await measure(opened.localPort, o);
    const cipher = session.clientInfo?.negotiated?.cipherC2S ?? "?";
    o.log?.(`  ${label} ${cipher}: up ${(m.up / 1e6).toFixed(0)} MB/s, down ${(m.down / 1e6).toFixed(0)} MB/s`);
    return { through: label, cipher, ...m, connectMs };
  } finally {
    await session.stop(0, true);
  }
}

/** Loopback: our server, a bench target and a tunnel in this process. */
export async function benchLoopback(o: BenchOptions): Promise<BenchRow[]> {
  const hostKey = generateEd25519(nobleProvider, "tunnel bench host key");
  const userKey = generateEd25519(nobleProvider, "tunnel bench user key");
  const target = await startTarget(o.sockets ?? runtime);
  const server = await startForwardingServer("127.0.0.1", 0, {
    sockets: o.sockets,
    hostKeys: [hostKey],
    auth: { publicKey: (_user, key) => (publicKeyEquals(key, userKey.publicKey) ? {} : false) },
    allow: (host, port) => host === "127.0.0.1" && port === target.port,
    crypto: o.crypto,
  });
  const rows: BenchRow[] = [];
  const relays: DelayRelay[] = [];
  try {
    // With --rtt, the paths go through delay relays: the same relay code, in this process.
    const relayed = async (port: number) => {
      if (o.rttMs === undefined) return port;
      const r = await startDelayRelay("127.0.0.1", 0, "127.0.0.1", port, {
        sockets: o.sockets ?? runtime,
        delayMs: o.rttMs / 2,
      });
      relays.push(r);
      return r.port;
    };
    const directPort = await relayed(target.port);
    const serverPort = await relayed(server.listener.port);
    const direct = await measure(directPort, o);
    rows.push({ through: "direct TCP", cipher: "-", ...direct });
    const label = o.rttMs === undefined ? "tunnel (loopback)" : `tunnel (${o.rttMs} ms)`;
    for (const cipher of o.cipherList ?? []) {
      const session = new TunnelSession({
        ...o,
        targets: [resolveTarget(`127.0.0.1:${target.port}`, {})],
        via: `bench@127.0.0.1:${serverPort}`,
        port: 0,
        ciphers: cipher,
        keys: [userKey],
        verifier: (info) => publicKeyEquals(info.key, hostKey.publicKey),
      });
      rows.push(await throughSession(session, label, o));
    }
  } finally {
    for (const r of relays) await r.close();
    await server.close();
    await target.close();
    hostKey.dispose();
    userKey.dispose();
  }
  return rows;
}

/** Through the user's bastion to a bench target on the far side. */
export async function benchVia(
  o: BenchOptions & { via: string; target: string; jump?: string | undefined },
): Promise<BenchRow[]> {
  // An address, not a variable: the bench reads no environment, and a bare name would be
  // reported as an unset variable with advice the caller cannot take.
  if (!o.target.includes(":"))
    throw new TypeError(
      `${optionName(o.optionNames, "benchTarget")}: "${o.target}" is not host:port; expected the address of a bench target behind the bastion, e.g. 10.0.0.5:9000`,
    );
  const session = new TunnelSession({
    ...o,
    targets: [resolveTarget(o.target, {}, o.optionNames)],
    via: o.via,
    port: 0,
  });
  return [await throughSession(session, `tunnel via ${o.via}`, o)];
}

/** The bench target on `host:port` (for `tunnel bench --serve-target`). */
export function listenBenchTarget(host: string, port: number, sockets: Runtime = runtime) {
  return startTarget(sockets, host, port);
}

/**
 * The ciphers the loopback bench measures: the user's list (OpenSSH syntax) resolved against
 * the defaults, or the AEADs in this runtime's preferred order.
 */
export function preferredCipherList(o: Pick<AlgorithmOptions, "ciphers" | "crypto" | "optionNames">): string[] {
  const { ciphers, crypto, optionNames } = o;
  const list = [...resolveAlgorithms({ ciphers, crypto, optionNames }, providerFor(crypto, optionNames)).cipher];
  return o.ciphers === undefined ? list.filter((c) => c.includes("gcm") || c.includes("chacha")).slice(0, 3) : list;
}
