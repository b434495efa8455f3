/**
 * `tunnel socks`: a SOCKS5 proxy (RFC 1928) whose every CONNECT is a `direct-tcpip` channel
 * through the bastion (RFC 4254 §7.2), as OpenSSH's `ssh -D`.
 *
 * What it takes: version 5, the "no authentication required" method (§3), the CONNECT
 * command (§4) to an IPv4 address, an IPv6 address or a domain name (§5) — a name is passed
 * to the bastion as it came and resolved there, so names only the private network knows
 * work. What it refuses, with the reply §6 has for it: BIND and UDP ASSOCIATE (and unknown
 * commands) → 0x07 command not supported; an unknown address type → 0x08; a name that is
 * empty or not a host name (a NUL or control byte would be cut or misread by the far end)
 * and port 0 → 0x01 general failure. A client offering no method we take gets 0xFF (§3) and
 * the connection closes; a version byte other than 5 (SOCKS4, an HTTP request) closes it
 * without a reply, since such a client could not read one. The reserved byte is ignored.
 *
 * The handshake is bounded: at most 2 + 255 bytes of greeting and 4 + 1 + 255 + 2 of request,
 * both of which the parser reads field by field, and `SOCKS_HANDSHAKE_TIMEOUT_MS` to send
 * them. Bytes a client sends right after its request, before our reply (optimistic clients),
 * are kept and go first through the channel.
 */
import { type ChannelOpenError, type Conn, OpenFailure } from "@tunnel/ssh";
import type { Route } from "./local-connections.ts";
import type { Target } from "./target.ts";

/** RFC 1928 §6 reply field. */
export const SOCKS_REPLY = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;

/** §3: X'00' no authentication required; X'FF' no acceptable methods. */
const METHOD_NONE = 0x00;
const NO_ACCEPTABLE_METHODS = 0xff;
const CMD_CONNECT = 0x01;
const CMD_NAMES: Record<number, string> = { 1: "CONNECT", 2: "BIND", 3: "UDP ASSOCIATE" };
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** How long a client has to finish its greeting and request. */
export const SOCKS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long a refused client may take to read our reply before its socket is torn down. */
const REFUSAL_LINGER_MS = 2_000;

/** A host name as DNS carries it in text: letters, digits, `-`, `_` and dots (international names in their xn-- form). */
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;

export interface SocksRequest {
  /** An IPv4 or IPv6 address in text, or the domain name as the client sent it. */
  host: string;
  port: number;
  addressType: "ipv4" | "ipv6" | "domain";
}

/** What to do after the client's bytes so far: `write` first (when set), then `next`. */
export type SocksStep =
  | { next: "wait"; write?: Uint8Array }
  | { next: "connect"; write?: Uint8Array; request: SocksRequest; early: Uint8Array }
  | { next: "close"; write?: Uint8Array; reason: string };

/** A reply (§6): VER, REP, RSV, and a bound address we do not report (0.0.0.0:0, as `ssh -D`). */
export function socksReply(rep: number): Uint8Array {
  return Uint8Array.of(5, rep, 0, ATYP_IPV4, 0, 0, 0, 0, 0, 0);
}

/**
 * The server side of the SOCKS5 handshake, bytes in, verdict out; no I/O. Feed it what the
 * client sends with `push` until it says `connect` or `close`.
 */
export class SocksHandshake {
  private buf = new Uint8Array(0);
  private phase: "greeting" | "request" | "done" = "greeting";

  push(chunk: Uint8Array): SocksStep {
    if (this.phase === "done") throw new Error("the SOCKS handshake is over; push no more bytes");
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf);
    joined.set(chunk, this.buf.length);
    this.buf = joined;
    let write: Uint8Array | undefined;
    if (this.phase === "greeting") {
      const g = this.greeting();
      if (g.next !== "request") return this.end(g);
      write = Uint8Array.of(5, METHOD_NONE);
      this.phase = "request";
    }
    const step = this.request();
    if (step.next === "wait") return write ? { next: "wait", write } : step;
    // A client that sent its request along with its greeting gets both replies at once.
    if (write && step.write) step.write = concat(write, step.write);
    else if (write) step.write = write;
    return this.end(step);
  }

  private end(step: SocksStep): SocksStep {
    if (step.next !== "wait") this.phase = "done";
    return step;
  }

  /** §3: VER NMETHODS METHODS. */
  private greeting(): SocksStep | { next: "request" } {
    const b = this.buf;
    if (b.length < 1) return { next: "wait" };
    if (b[0] !== 5) return { next: "close", reason: versionReason(b[0] as number, "greeting") };
    if (b.length < 2) return { next: "wait" };
    const n = b[1] as number;
    if (n === 0) {
      return {
        next: "close",
        write: Uint8Array.of(5, NO_ACCEPTABLE_METHODS),
        reason: "the client offered no authentication method",
      };
    }
    if (b.length < 2 + n) return { next: "wait" };
    const methods = b.subarray(2, 2 + n);
    if (!methods.includes(METHOD_NONE)) {
      return {
        next: "close",
        write: Uint8Array.of(5, NO_ACCEPTABLE_METHODS),
        reason: `the client offered methods ${[...methods].map(hex).join(", ")}; only 0x00 (no authentication) is taken`,
      };
    }
    this.buf = b.slice(2 + n);
    return { next: "request" };
  }

  /** §4: VER CMD RSV ATYP DST.ADDR DST.PORT. */
  private request(): SocksStep {
    const b = this.buf;
    if (b.length < 1) return { next: "wait" };
    if (b[0] !== 5) return { next: "close", reason: versionReason(b[0] as number, "request") };
    if (b.length < 2) return { next: "wait" };
    const cmd = b[1] as number;
    if (cmd !== CMD_CONNECT) {
      return refuse(
        SOCKS_REPLY.COMMAND_NOT_SUPPORTED,
        `${CMD_NAMES[cmd] ?? `command ${hex(cmd)}`} is not supported; only CONNECT is`,
      );
    }
    if (b.length < 4) return { next: "wait" };
    const atyp = b[3] as number;
    let host: string;
    let addressType: SocksRequest["addressType"];
    let at: number;
    if (atyp === ATYP_IPV4) {
      if (b.length < 4 + 4 + 2) return { next: "wait" };
      host = [...b.subarray(4, 8)].join(".");
      addressType = "ipv4";
      at = 8;
    } else if (atyp === ATYP_IPV6) {
      if (b.length < 4 + 16 + 2) return { next: "wait" };
      host = formatIpv6(b.subarray(4, 20));
      addressType = "ipv6";
      at = 20;
    } else if (atyp === ATYP_DOMAIN) {
      if (b.length < 5) return { next: "wait" };
      const len = b[4] as number;
      if (len === 0) return refuse(SOCKS_REPLY.GENERAL_FAILURE, "the domain name is empty");
      if (b.length < 5 + len + 2) return { next: "wait" };
      const name = b.subarray(5, 5 + len);
      host = String.fromCharCode(...name);
      if (!HOST_NAME.test(host)) {
        return refuse(
          SOCKS_REPLY.GENERAL_FAILURE,
          `the domain name is not a host name (expected letters, digits, "-", "_" and dots; got ${JSON.stringify(host).slice(0, 80)})`,
        );
      }
      addressType = "domain";
      at = 5 + len;
    } else {
      return refuse(
        SOCKS_REPLY.ADDRESS_TYPE_NOT_SUPPORTED,
        `address type ${hex(atyp)} is not supported; expected 0x01 (IPv4), 0x03 (domain name) or 0x04 (IPv6)`,
      );
    }
    const port = ((b[at] as number) << 8) | (b[at + 1] as number);
    if (port === 0) return refuse(SOCKS_REPLY.GENERAL_FAILURE, "port 0 cannot be connected to");
    return { next: "connect", request: { host, port, addressType }, early: b.slice(at + 2) };
  }
}

function refuse(rep: number, reason: string): SocksStep {
  return { next: "close", write: socksReply(rep), reason };
}

function versionReason(v: number, what: string): string {
  const known =
    v === 4 ? " (SOCKS4, which is not supported)" : v >= 0x41 && v <= 0x5a ? " (text: not a SOCKS client)" : "";
  return `the ${what} has version ${hex(v)}${known}; expected 5`;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, "0")}`;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** RFC 5952 text for 16 bytes: lower-case hex, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIpv6(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`bytes must be 16 long for an IPv6 address, got ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const text = groups.map((g) => g.toString(16));
  if (bestAt < 0) return text.join(":");
  return `${text.slice(0, bestAt).join(":")}::${text.slice(bestAt + bestLen).join(":")}`;
}

/** The SOCKS reply for a channel the bastion would not open (RFC 4254 §5.1 reason, and OpenSSH's strerror text). */
export function replyForOpenFailure(err: Error): number {
  // By code, not class: the error may come from another copy of the protocol package.
  if ((err as Partial<ChannelOpenError>).code !== "CHANNEL_OPEN_FAILED") return SOCKS_REPLY.GENERAL_FAILURE;
  const reason = (err as ChannelOpenError).reasonCode;
  if (reason === OpenFailure.ADMINISTRATIVELY_PROHIBITED) return SOCKS_REPLY.NOT_ALLOWED;
  if (reason !== OpenFailure.CONNECT_FAILED) return SOCKS_REPLY.GENERAL_FAILURE;
  // The server's description, in brackets after "channel open refused: connect failed".
  const m = (/\((.*)\)$/.exec(err.message)?.[1] ?? "").toLowerCase();
  if (m.includes("refused")) return SOCKS_REPLY.CONNECTION_REFUSED;
  if (m.includes("network is unreachable")) return SOCKS_REPLY.NETWORK_UNREACHABLE;
  if (m.includes("timed out")) return SOCKS_REPLY.TTL_EXPIRED;
  // "No route to host", a name that does not resolve ("Name or service not known"), and the rest.
  return SOCKS_REPLY.HOST_UNREACHABLE;
}

export interface SocksRouterOptions {
  handshakeTimeoutMs?: number;
  events?: {
    /** Per-connection lines (--verbose): refusals and what each client asked for. */
    verbose?(line: string): void;
  };
}

/** The pseudo-target of a SOCKS listener: each connection names its own destination. */
export function socksTarget(): Target {
  return { spec: "socks", variable: undefined, host: "*", port: 0, url: undefined };
}

/** Ends a refused connection once the client had time to read why. */
function closeAfter(conn: Conn, reply: Uint8Array | undefined): void {
  if (reply) conn.write(reply);
  conn.end();
  const t = setTimeout(() => conn.destroy(), REFUSAL_LINGER_MS);
  (t as { unref?: () => void }).unref?.();
}

/**
 * `OpenOptions.route` for a SOCKS listener: runs the handshake on each connection and carries
 * its CONNECT; the reply goes out once the bastion opened the channel, or says why not.
 */
export function socksRouter(options: SocksRouterOptions = {}): (conn: Conn, carry: (route: Route) => void) => void {
  const timeoutMs = options.handshakeTimeoutMs ?? SOCKS_HANDSHAKE_TIMEOUT_MS;
  const verbose = options.events?.verbose;
  return (conn, carry) => {
    const who = `${conn.remoteAddress}:${conn.remotePort}`;
    const handshake = new SocksHandshake();
    let settled = false;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settle();
      verbose?.(`SOCKS ${who}: no request within ${timeoutMs / 1000} s; closed`);
      conn.destroy();
    }, timeoutMs);
    (timer as { unref?: () => void }).unref?.();
    conn.setHandlers({
      data(chunk) {
        if (settled) return;
        const step = handshake.push(chunk);
        if (step.next === "wait") {
          if (step.write) conn.write(step.write);
          return;
        }
        settle();
        if (step.next === "close") {
          verbose?.(`SOCKS ${who}: refused: ${step.reason}`);
          closeAfter(conn, step.write);
          return;
        }
        if (step.write) conn.write(step.write);
        const { host, port } = step.request;
        // Nothing more is read until the channel is there (the engine holds the connection).
        conn.pause();
        carry({
          host,
          port,
          early: step.early,
          opened: (c) => {
            c.write(socksReply(SOCKS_REPLY.SUCCEEDED));
          },
          failed: (c, err) => {
            verbose?.(`SOCKS ${who}: ${host}:${port}: ${err.message}`);
            closeAfter(c, socksReply(replyForOpenFailure(err)));
          },
        });
      },
      drain() {},
      end() {
        if (settled) return;
        settle();
        conn.destroy();
      },
      close() {
        settle();
      },
    });
    conn.resume();
  };
}
