/**
 * `tunnel demo`: the whole product in one process with nothing installed — a forwarding-only
 * SSH server on a loopback port with a fresh host key, a local echo target, and a tunnel to it
 * through the real TCP path (local socket → channel → SSH over TCP → server → target and
 * back). Pushes data both ways, checks every byte, and reports what was negotiated, MB/s and
 * the round-trip time — with the load tools of `tunnel bench` (`./bench/`), on the sockets of
 * the runtime layer, loaded only when the demo runs.
 */
import { generateEd25519, nobleProvider, publicKeyEquals } from "@tunnel/ssh";
import { runtime } from "@tunnel/ssh/runtime";
import { TunnelSession } from "./open.ts";
import { startForwardingServer } from "./serve.ts";
import { resolveTarget } from "./target.ts";

/**
 * What `runDemo` negotiated and measured, and whether every byte came back intact. A negotiated
 * value the session could not give reads `?`.
 */
export interface DemoReport {
  /** `127.0.0.1:port` the demo's SSH server listened on. */
  serverAddress: string;
  /** `host:port` the tunnel's local end listened on. */
  localAddress: string;
  /** The key exchange method negotiated. */
  kex: string;
  /** The host key algorithm negotiated. */
  hostKeyAlgorithm: string;
  /** The `SHA256:` fingerprint of the server's fresh host key. */
  hostKeyFingerprint: string;
  /** The cipher negotiated, client to server. */
  cipher: string;
  /** The MAC negotiated, client to server; `implicit` with an AEAD cipher. */
  mac: string;
  /** Both sides agreed on strict key exchange (kex-strict, the fix for CVE-2023-48795). */
  strictKex: boolean;
  /** Bytes sent through the tunnel to the echo target, and back (`megabytes` × 1 MiB; default 64 MiB). */
  bytes: number;
  /** MiB per second each way: `bytes` over the time from the first byte sent to the last one back. */
  mbPerSecond: number;
  /** Median of 200 round trips of 64 bytes through the tunnel, in microseconds. */
  rttMicros: number;
  /** Every byte came back, in order, and nothing more. */
  verified: boolean;
}

/** Runs a server, a target and a tunnel through them in this process, and checks every byte. */
export async function runDemo(options: { megabytes?: number; log?(line: string): void } = {}): Promise<DemoReport> {
  const log = options.log ?? (() => {});
  const hostKey = generateEd25519(nobleProvider, "tunnel demo host key");
  const userKey = generateEd25519(nobleProvider, "tunnel demo user key");
  const { echoTransfer, roundTrip } = await import("./bench/load.ts");
  const { startTarget } = await import("./bench/target.ts");
  // The bench target: the demo uses its echo (`E`), which it ends when the client does.
  const echo = await startTarget(runtime);
  const echoPort = echo.port;
  const server = await startForwardingServer("127.0.0.1", 0, {
    hostKeys: [hostKey],
    auth: { publicKey: (_user, key) => (publicKeyEquals(key, userKey.publicKey) ? {} : false) },
    allow: (host, port) => (host === "127.0.0.1" || host === "localhost") && port === echoPort,
  });
  const serverAddress = `127.0.0.1:${server.listener.port}`;
  log(`SSH server listening on ${serverAddress}`);
  const session = new TunnelSession({
    targets: [resolveTarget(`127.0.0.1:${echoPort}`, {})],
    via: `demo@${serverAddress}`,
    port: 0,
    keys: [userKey],
    // The demo knows its own server's key: pin it exactly.
    verifier: (info) => publicKeyEquals(info.key, hostKey.publicKey),
  });
  try {
    const [opened] = await session.start();
    if (!opened) throw new Error("internal error: no listener");
    const localAddress = `${opened.localHost}:${opened.localPort}`;
    log(`tunnel listening on ${localAddress}, target echo server on 127.0.0.1:${echoPort}`);
    const bytes = Math.round((options.megabytes ?? 64) * 1024 * 1024);
    const env = { runtime, now: () => performance.now(), host: "127.0.0.1", port: opened.localPort };
    const push = await echoTransfer(env, bytes);
    // 200 round trips of 64 bytes, the first one timed too (no warm-up).
    const rtt = await roundTrip(env, 200, 64, 0);
    const info = session.clientInfo;
    const neg = info?.negotiated;
    return {
      serverAddress,
      localAddress,
      kex: neg?.kex ?? "?",
      hostKeyAlgorithm: neg?.hostKey ?? "?",
      hostKeyFingerprint: info?.hostKeyFingerprint ?? "?",
      cipher: neg?.cipherC2S ?? "?",
      mac: neg?.macC2S ?? "?",
      strictKex: info?.strictKex ?? false,
      bytes,
      // both directions carried `bytes` each
      mbPerSecond: bytes / (1024 * 1024) / push.seconds,
      rttMicros: rtt.median,
      verified: push.intact,
    };
  } finally {
    await session.stop(0, true);
    await server.close();
    await echo.close();
    hostKey.dispose();
    userKey.dispose();
  }
}
