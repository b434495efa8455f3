/**
 * TCP ends for tests and benchmarks: targets and local clients that record how each connection
 * ended (FIN, RST, bytes, SHA-256), deterministic byte streams so that any prefix of what was
 * sent can be hashed again at the other end, and verified transfers built on both.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { RUNTIME } from "./runtime.ts";
import type { Sshd } from "./sshd.ts";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until `f()` is true (polling), or fails naming `what`. */
export async function until(f: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

/**
 * A known_hosts file (in `dir`) naming sshd's current host keys at `[127.0.0.1]:port`: for a
 * client that reaches sshd through a fault relay on `port`.
 */
export function knownHostsFor(sshd: Sshd, port: number, dir: string): string {
  const file = path.join(dir, `known_hosts_${port}`);
  fs.writeFileSync(file, sshd.hostKeys.map((k) => `[127.0.0.1]:${port} ${k.pubLine}\n`).join(""));
  return file;
}

// ---------------------------------------------------------------- connections

export interface Ending {
  /** Bytes read. */
  bytes: number;
  /** SHA-256 (hex) of the bytes read. */
  sha256: string;
  /** The peer's FIN was read (a clean end of what it sent). */
  fin: boolean;
  /** The socket's error code so far (ECONNRESET for a RST, EPIPE…). */
  error: string | undefined;
  /** Date.now() at that moment. */
  at: number;
}

/**
 * A socket whose reading, ending and errors are recorded. Sockets here allow half-open
 * connections, so a FIN does not close them: `ended` is when reading is over (the peer's FIN,
 * or a close — RST, or our own destroy), `closed` when the socket is gone altogether.
 */
export interface Recorded {
  socket: net.Socket;
  bytes(): number;
  /** The bytes read so far, if `keep` was asked for. */
  data(): Buffer;
  /** Resolves at the peer's FIN ('end') or at 'close', whichever comes first. */
  ended: Promise<Ending>;
  /** Resolves at 'close', with every error seen until then. */
  closed: Promise<Ending>;
  /** What `ended` resolved with, once it has. */
  ending(): Ending | undefined;
}

export function record(socket: net.Socket, keep = false): Recorded {
  const hash = crypto.createHash("sha256");
  const chunks: Buffer[] = [];
  let bytes = 0;
  let fin = false;
  let error: string | undefined;
  let digest: string | undefined;
  let ending: Ending | undefined;
  // no 'data' comes after 'end' or 'close': the digest is final then
  const snapshot = (): Ending => {
    digest ??= hash.digest("hex");
    return { bytes, sha256: digest, fin, error, at: Date.now() };
  };
  socket.on("data", (d: Buffer) => {
    bytes += d.length;
    hash.update(d);
    if (keep) chunks.push(d);
  });
  socket.on("error", (e: NodeJS.ErrnoException) => {
    error ??= e.code ?? e.message;
  });
  const ended = new Promise<Ending>((resolve) => {
    socket.once("end", () => {
      fin = true;
      ending ??= snapshot();
      resolve(ending);
    });
    socket.once("close", () => {
      ending ??= snapshot();
      resolve(ending);
    });
  });
  const closed = new Promise<Ending>((resolve) => socket.once("close", () => resolve(snapshot())));
  return {
    socket,
    bytes: () => bytes,
    data: () => Buffer.concat(chunks),
    ended,
    closed,
    ending: () => ending,
  };
}

/** Connects to 127.0.0.1:port (half-open allowed) and records the connection. */
export function connectLocal(port: number, keep = false): Promise<Recorded> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const r = record(s, keep);
    s.once("connect", () => resolve(r));
    s.once("error", (e) => reject(e));
  });
}

/**
 * Resolves when reading is over (FIN, or closed), or rejects if it is not after `ms`: the
 * connection was left hanging.
 */
export function endsWithin(r: Recorded, ms: number, what: string): Promise<Ending> {
  return within(r.ended, ms, () => `${what}: still open after ${ms} ms (${r.bytes()} bytes read, no FIN)`);
}

/** Resolves when the socket is closed altogether, or rejects if it is not after `ms`. */
export function closesWithin(r: Recorded, ms: number, what: string): Promise<Ending> {
  return within(r.closed, ms, () => `${what}: not closed after ${ms} ms (${r.bytes()} bytes read)`);
}

/** `p`, or a rejection with `message` after `ms`. */
export function within<T>(p: Promise<T>, ms: number, message: string | (() => string)): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(typeof message === "string" ? message : message())), ms);
    }),
  ]);
}

export interface TargetServer {
  port: number;
  /** Every connection accepted, in order. */
  conns: Recorded[];
  /** Resolves once `n` connections have been accepted. */
  waitForConns(n: number, timeoutMs?: number): Promise<Recorded[]>;
  close(): void;
}

/** A loopback TCP server that records each connection and hands it to `handler`. */
export function startTarget(handler: (conn: Recorded) => void = () => {}, keep = false): Promise<TargetServer> {
  const conns: Recorded[] = [];
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    const r = record(s, keep);
    conns.push(r);
    handler(r);
  });
  return new Promise((resolve) => {
    srv.listen(0, "127.0.0.1", () => {
      resolve({
        port: (srv.address() as net.AddressInfo).port,
        conns,
        async waitForConns(n, timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          while (conns.length < n) {
            if (Date.now() > deadline)
              throw new Error(`target: ${conns.length} connection(s) after ${timeoutMs} ms, expected ${n}`);
            await sleep(20);
          }
          return conns;
        },
        close() {
          for (const c of conns) c.socket.destroy();
          srv.close();
        },
      });
    });
  });
}

/** An echo target: what comes goes back, FIN answered with FIN. */
export function startEcho(): Promise<TargetServer> {
  return startTarget((c) => c.socket.pipe(c.socket));
}

/**
 * A fresh connection through `port`: 64 KiB out, FIN, the same 64 KiB back and a FIN, within
 * `timeoutMs`. Resolves with what went wrong, or "ok".
 */
export async function echoRoundTrip(port: number, timeoutMs = 10_000): Promise<string> {
  const payload = crypto.randomBytes(64 * 1024);
  let r: Recorded;
  try {
    r = await connectLocal(port, true);
  } catch (e) {
    return `connect failed: ${(e as Error).message}`;
  }
  r.socket.end(payload);
  const timer = setTimeout(() => r.socket.destroy(), timeoutMs);
  const end = await r.ended;
  clearTimeout(timer);
  r.socket.destroy();
  if (end.error) return `error ${end.error} after ${end.bytes} bytes`;
  if (!end.fin) return `no FIN (closed after ${end.bytes} bytes, or timed out after ${timeoutMs} ms)`;
  if (!r.data().equals(payload)) return `${end.bytes} bytes back, expected the ${payload.length} sent`;
  return "ok";
}

/** Retries echoRoundTrip until it succeeds or `timeoutMs` has passed; the last result. */
export async function echoEventually(port: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = "not tried";
  while (Date.now() < deadline) {
    last = await echoRoundTrip(port, Math.max(1000, deadline - Date.now()));
    if (last === "ok") return last;
    await sleep(200);
  }
  return last;
}

// ---------------------------------------------------------------- deterministic streams

/** The first `n` bytes of the stream named `seed` (AES-128-CTR keystream under SHA-256(seed)). */
export function streamBytes(seed: string, n: number): Buffer {
  return new StreamSource(seed).read(n);
}

/** SHA-256 (hex) of the first `n` bytes of the stream named `seed`. */
export function streamSha(seed: string, n: number): string {
  const src = new StreamSource(seed);
  const h = crypto.createHash("sha256");
  for (let left = n; left > 0; ) {
    const k = Math.min(left, 1 << 20);
    h.update(src.read(k));
    left -= k;
  }
  return h.digest("hex");
}

export function sha256(data: Uint8Array): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

const ZEROS = Buffer.alloc(1 << 20);

/** A deterministic byte stream: the same seed gives the same bytes, read in any chunking. */
export class StreamSource {
  private readonly cipher: crypto.Cipher;
  constructor(seed: string) {
    const key = crypto.createHash("sha256").update(seed).digest().subarray(0, 16);
    this.cipher = crypto.createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  }
  read(n: number): Buffer {
    const parts: Buffer[] = [];
    for (let left = n; left > 0; ) {
      const k = Math.min(left, ZEROS.length);
      parts.push(this.cipher.update(ZEROS.subarray(0, k)));
      left -= k;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

/**
 * Writes `total` bytes of the stream `seed` to `socket` with backpressure, then FIN (unless
 * `end` is false). Resolves with the bytes the socket accepted when it is done or closed.
 */
export function pump(socket: net.Socket, seed: string, total: number, end = true, chunk = 64 * 1024): Promise<number> {
  return startPump(socket, seed, total, end, chunk).done;
}

export interface Pump {
  /** Bytes handed to the socket so far. */
  written(): number;
  /** Resolves with written() when all was written (and FIN sent) or the socket closed. */
  done: Promise<number>;
}

/** pump(), with the progress visible while it runs. */
export function startPump(socket: net.Socket, seed: string, total: number, end = true, chunk = 64 * 1024): Pump {
  const src = new StreamSource(seed);
  let written = 0;
  const done = new Promise<number>((resolve) => {
    const finish = () => {
      socket.off("drain", go);
      resolve(written);
    };
    socket.once("close", finish);
    const go = () => {
      while (written < total && !socket.destroyed && socket.writable) {
        const k = Math.min(chunk, total - written);
        written += k;
        if (!socket.write(src.read(k))) {
          socket.once("drain", go);
          return;
        }
      }
      if (written >= total) {
        socket.off("close", finish);
        if (end && socket.writable) socket.end();
        resolve(written);
      }
    };
    go();
  });
  return { written: () => written, done };
}

/** Resolves once `value()` has not changed for `quietMs` (rejects after `timeoutMs`). */
export async function steady(value: () => number, quietMs: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = value();
  let since = Date.now();
  while (Date.now() < deadline) {
    await sleep(50);
    const v = value();
    if (v !== last) {
      last = v;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return v;
  }
  throw new Error(`still changing after ${timeoutMs} ms (at ${value()})`);
}

// ---------------------------------------------------------------- verified transfers

/** What a stream target read of one connection's upload (after its 16-byte id). */
export interface Upload {
  bytes: number;
  /** SHA-256 (hex) of the upload bytes read, once the socket is closed. */
  sha256: Promise<string>;
  closed: Promise<Ending>;
}

export interface StreamTarget extends TargetServer {
  /** The uploads by connection id. */
  uploads: Map<string, Upload>;
}

/**
 * A target for verified transfers: each connection starts with a 16-byte id; the target then
 * sends the stream `down-<id>` (`perConnection` bytes) while it hashes the upload that follows
 * the id, and sends its FIN only once it has read the upload's own FIN (or the socket closed).
 * So a FIN that reaches the local end vouches that the whole upload arrived: were the target
 * to end first, the local end would see a clean close once its last upload bytes sat in kernel
 * buffers, and a link cut after that would truncate the upload with nothing left to report it
 * to (any TCP relay, ssh -L too). It also keeps Deno 2.9's node:net from turning a FIN that
 * arrives while the local end is still writing into EPIPE, a cut the tunnel never made.
 */
export async function startStreamTarget(perConnection: number): Promise<StreamTarget> {
  const uploads = new Map<string, Upload>();
  const server = await startTarget((c) => {
    let head = Buffer.alloc(0);
    let upload: Upload | undefined;
    const hash = crypto.createHash("sha256");
    c.socket.on("data", (d: Buffer) => {
      if (!upload) {
        head = Buffer.concat([head, d]);
        if (head.length < 16) return;
        const id = head.subarray(0, 16).toString("latin1");
        d = head.subarray(16);
        upload = { bytes: 0, sha256: c.closed.then(() => hash.digest("hex")), closed: c.closed };
        uploads.set(id, upload);
        const peerDone = new Promise<void>((r) => {
          c.socket.once("end", () => r());
          c.socket.once("close", () => r());
        });
        void pump(c.socket, `down-${id}`, perConnection, false).then(async () => {
          await peerDone;
          if (c.socket.writable) c.socket.end();
        });
      }
      upload.bytes += d.length;
      hash.update(d);
    });
  });
  return Object.assign(server, { uploads });
}

/** One verified transfer, as both ends saw it. */
export interface Transfer {
  id: string;
  /** How the local end ended (at its close): what it read of the download, FIN, error. */
  local: Ending;
  /** The upload as the target read it, if the id got there. */
  upload: { bytes: number; sha256: string } | undefined;
}

/**
 * Through `port` to a stream target: the id, then `perConnection` bytes of `up-<id>` and FIN,
 * while reading `down-<id>`; resolves once both ends are closed. `onData` sees each chunk the
 * local end reads. Rejects if the connection cannot be made or stays open past `timeoutMs`.
 */
export async function streamTransfer(
  port: number,
  target: StreamTarget,
  id: string,
  perConnection: number,
  timeoutMs: number,
  onData?: (n: number) => void,
): Promise<Transfer> {
  if (Buffer.byteLength(id, "latin1") !== 16) throw new RangeError(`id: expected 16 bytes, got "${id}"`);
  const l = await connectLocal(port);
  if (onData) l.socket.on("data", (d: Buffer) => onData(d.length));
  l.socket.write(id);
  void pump(l.socket, `up-${id}`, perConnection);
  const local = await closesWithin(l, timeoutMs, `transfer ${id}`).catch((err) => {
    l.socket.destroy();
    throw err;
  });
  const up = target.uploads.get(id);
  if (up) await within(up.closed, 10_000, `the target's end of ${id} still open 10 s after the local end closed`);
  const upload = up ? { bytes: up.bytes, sha256: await up.sha256 } : undefined;
  target.uploads.delete(id);
  return { id, local, upload };
}

/**
 * Whether a cut stream is seen as an RST by this test process under this runtime. `tunnel`
 * sends the RST on Node 20 too, but Node 20's own sockets (the local end here) report an RST
 * that arrives behind unread data as a plain end; Deno offers no way to send an RST at all
 * (no SO_LINGER). There a cut can read as an end: the known limit docs/SECURITY.md states.
 * Where it holds (Bun, Node 22 and later), every cut must be a reset.
 */
export const RESETS_RELIABLY =
  RUNTIME === "bun" || (RUNTIME === "node" && Number(process.versions.node.split(".")[0]) >= 22);

/**
 * What is wrong with a transfer: bytes read at either end that are not the stream's own
 * (by SHA-256 of the prefix read), a FIN after a cut download, or a clean close at the local
 * end with its upload cut short. Empty when all is well.
 */
export function transferProblems(x: Transfer, perConnection: number): string[] {
  const out: string[] = [];
  if (x.local.sha256 !== streamSha(`down-${x.id}`, x.local.bytes))
    out.push(`${x.id}: the ${x.local.bytes} download bytes the local end read are not the stream's`);
  if (x.upload && x.upload.sha256 !== streamSha(`up-${x.id}`, x.upload.bytes))
    out.push(`${x.id}: the ${x.upload.bytes} upload bytes the target read are not the stream's`);
  if (RESETS_RELIABLY && x.local.fin && x.local.bytes !== perConnection)
    out.push(`${x.id}: a FIN after ${x.local.bytes} of ${perConnection} download bytes (a silent truncation)`);
  if (RESETS_RELIABLY && x.local.error === undefined && (x.upload?.bytes ?? 0) !== perConnection)
    out.push(
      `${x.id}: closed cleanly, yet the target read ${x.upload?.bytes ?? 0} of ${perConnection} upload bytes (a silent truncation)`,
    );
  return out;
}
