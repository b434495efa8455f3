/**
 * `tunnel demo`: the whole product in one process with nothing installed — a forwarding-only
 * SSH server on a loopback port with a fresh host key, a local echo target, and a tunnel to it
 * through the real TCP path (local socket → channel → SSH over TCP → server → target and
 * back). Pushes data both ways, checks every byte, and reports what was negotiated, MB/s and
 * the round-trip time.
 */
import * as net from "node:net";
import { generateEd25519, nobleProvider, publicKeyEquals } from "@tunnel/ssh";
import { TunnelSession } from "./open.ts";
import { startForwardingServer } from "./serve.ts";
import { resolveTarget } from "./target.ts";

/** What `runDemo` negotiated and measured, and whether every byte came back intact. */
export interface DemoReport {
  serverAddress: string;
  localAddress: string;
  kex: string;
  hostKeyAlgorithm: string;
  hostKeyFingerprint: string;
  cipher: string;
  mac: string;
  strictKex: boolean;
  bytes: number;
  mbPerSecond: number;
  rttMicros: number;
  verified: boolean;
}

function startEchoTarget(): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      // A connection still open when the demo stops is reset (a cut, not an end): expected.
      s.on("error", () => {});
      s.pipe(s);
    });
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/** Sends `total` bytes through the tunnel and checks the echo byte for byte. */
function pushAndVerify(port: number, total: number): Promise<{ ms: number; ok: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: "127.0.0.1" });
    const chunk = new Uint8Array(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
    let received = 0;
    let ok = true;
    let sent = 0;
    const t0 = performance.now();
    sock.on("data", (b: Buffer) => {
      for (let i = 0; i < b.length && ok; i++) {
        if (b[i] !== chunk[(received + i) % chunk.length]) ok = false;
      }
      received += b.length;
      if (received >= total) {
        sock.end();
        resolve({ ms: performance.now() - t0, ok: ok && received === total });
      }
    });
    sock.on("error", reject);
    const pump = () => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!sock.write(chunk.subarray(0, n))) {
          sock.once("drain", pump);
          return;
        }
      }
    };
    sock.on("connect", pump);
  });
}

/** Median round trip of 64-byte messages. */
function measureRtt(port: number, rounds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: "127.0.0.1" });
    sock.setNoDelay(true);
    const msg = Buffer.alloc(64, 1);
    const times: number[] = [];
    let got = 0;
    let t0 = 0;
    sock.on("data", (b: Buffer) => {
      got += b.length;
      if (got < 64) return;
      got -= 64;
      times.push(performance.now() - t0);
      if (times.length >= rounds) {
        sock.end();
        times.sort((a, b) => a - b);
        resolve((times[Math.floor(times.length / 2)] as number) * 1000);
        return;
      }
      t0 = performance.now();
      sock.write(msg);
    });
    sock.on("error", reject);
    sock.on("connect", () => {
      t0 = performance.now();
      sock.write(msg);
    });
  });
}

/** Runs a server, a target and a tunnel through them in this process, and checks every byte. */
export async function runDemo(options: { megabytes?: number; log?(line: string): void } = {}): Promise<DemoReport> {
  const log = options.log ?? (() => {});
  const hostKey = generateEd25519(nobleProvider, "tunnel demo host key");
  const userKey = generateEd25519(nobleProvider, "tunnel demo user key");
  const echo = await startEchoTarget();
  const echoPort = (echo.address() as net.AddressInfo).port;
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
    const push = await pushAndVerify(opened.localPort, bytes);
    const rtt = await measureRtt(opened.localPort, 200);
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
      mbPerSecond: bytes / (1024 * 1024) / (push.ms / 1000),
      rttMicros: rtt,
      verified: push.ok,
    };
  } finally {
    await session.stop(0, true);
    await server.close();
    echo.close();
    hostKey.dispose();
    userKey.dispose();
  }
}
