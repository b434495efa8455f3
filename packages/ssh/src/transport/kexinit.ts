/**
 * Transport layer: SSH_MSG_KEXINIT and algorithm negotiation (RFC 4253 §7.1), with the
 * pseudo-algorithms `ext-info-c`/`ext-info-s` (RFC 8308 §2.1) and strict KEX
 * (`kex-strict-c-v00@openssh.com` / `kex-strict-s-v00@openssh.com`, OpenSSH PROTOCOL §1.10).
 */
import { DisconnectReason, SshError } from "../errors.ts";
import { MSG } from "../wire/messages.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";

export const EXT_INFO_C = "ext-info-c";
export const EXT_INFO_S = "ext-info-s";
export const STRICT_KEX_C = "kex-strict-c-v00@openssh.com";
export const STRICT_KEX_S = "kex-strict-s-v00@openssh.com";
const PSEUDO = new Set([EXT_INFO_C, EXT_INFO_S, STRICT_KEX_C, STRICT_KEX_S]);

export interface KexInit {
  cookie: Uint8Array;
  kex: string[];
  hostKey: string[];
  cipherC2S: string[];
  cipherS2C: string[];
  macC2S: string[];
  macS2C: string[];
  compressionC2S: string[];
  compressionS2C: string[];
  languagesC2S: string[];
  languagesS2C: string[];
  firstKexPacketFollows: boolean;
}

/** RFC 8308 §2.1 and PROTOCOL §1.10: the pseudo-algorithms our first KEXINIT appends to its kex list. */
export function firstKexPseudoAlgorithms(role: "client" | "server", strict: boolean): string[] {
  const ext = role === "client" ? EXT_INFO_C : EXT_INFO_S;
  return strict ? [ext, role === "client" ? STRICT_KEX_C : STRICT_KEX_S] : [ext];
}

/** Our KEXINIT from the configured lists (no compression, no languages, no guessed packet). */
export function ourKexInit(
  cookie: Uint8Array,
  algorithms: { kex: readonly string[]; cipher: readonly string[]; mac: readonly string[] },
  hostKey: readonly string[],
  pseudo: readonly string[],
): KexInit {
  return {
    cookie,
    kex: [...algorithms.kex, ...pseudo],
    hostKey: [...hostKey],
    cipherC2S: [...algorithms.cipher],
    cipherS2C: [...algorithms.cipher],
    macC2S: [...algorithms.mac],
    macS2C: [...algorithms.mac],
    compressionC2S: ["none"],
    compressionS2C: ["none"],
    languagesC2S: [],
    languagesS2C: [],
    firstKexPacketFollows: false,
  };
}

export function encodeKexInit(k: KexInit): Uint8Array {
  const w = new Writer(512);
  w.byte(MSG.KEXINIT).raw(k.cookie);
  for (const list of [
    k.kex,
    k.hostKey,
    k.cipherC2S,
    k.cipherS2C,
    k.macC2S,
    k.macS2C,
    k.compressionC2S,
    k.compressionS2C,
    k.languagesC2S,
    k.languagesS2C,
  ]) {
    w.nameList(list);
  }
  w.boolean(k.firstKexPacketFollows).uint32(0);
  return w.bytes();
}

export function decodeKexInit(payload: Uint8Array): KexInit {
  const r = new Reader(payload);
  if (r.byte("message type") !== MSG.KEXINIT) throw new TypeError("decodeKexInit: not a KEXINIT");
  const k: KexInit = {
    cookie: r.raw(16, "KEXINIT cookie"),
    kex: r.nameList("kex_algorithms"),
    hostKey: r.nameList("server_host_key_algorithms"),
    cipherC2S: r.nameList("encryption_algorithms_client_to_server"),
    cipherS2C: r.nameList("encryption_algorithms_server_to_client"),
    macC2S: r.nameList("mac_algorithms_client_to_server"),
    macS2C: r.nameList("mac_algorithms_server_to_client"),
    compressionC2S: r.nameList("compression_algorithms_client_to_server"),
    compressionS2C: r.nameList("compression_algorithms_server_to_client"),
    languagesC2S: r.nameList("languages_client_to_server"),
    languagesS2C: r.nameList("languages_server_to_client"),
    firstKexPacketFollows: r.boolean("first_kex_packet_follows"),
  };
  r.uint32("KEXINIT reserved field");
  r.done("KEXINIT");
  return k;
}

export interface Negotiated {
  kex: string;
  hostKey: string;
  cipherC2S: string;
  cipherS2C: string;
  /** "implicit" when the cipher is AEAD. */
  macC2S: string;
  macS2C: string;
  compressionC2S: string;
  compressionS2C: string;
}

function noCommon(what: string, ours: string[], theirs: string[], role: "client" | "server"): SshError {
  const [c, s] = role === "client" ? [ours, theirs] : [theirs, ours];
  return new SshError(
    "NO_COMMON_ALGORITHM",
    `no common ${what}: client offered ${c.join(",") || "(none)"}; server offered ${s.join(",") || "(none)"}`,
    { reason: DisconnectReason.KEY_EXCHANGE_FAILED },
  );
}

/** RFC 4253 §7.1: the chosen algorithm is the first on the client's list that the server also lists. */
function pick(
  what: string,
  client: string[],
  server: string[],
  role: "client" | "server",
  ours: string[],
  theirs: string[],
) {
  const s = new Set(server.filter((n) => !PSEUDO.has(n)));
  for (const n of client) if (!PSEUDO.has(n) && s.has(n)) return n;
  throw noCommon(
    what,
    ours.filter((n) => !PSEUDO.has(n)),
    theirs.filter((n) => !PSEUDO.has(n)),
    role,
  );
}

/**
 * Negotiates every category. `isAead(name)` says whether a cipher needs no MAC.
 * Pseudo-algorithms are stripped first (RFC 8308 §2.1, OpenSSH PROTOCOL §1.10: they never match).
 */
export function negotiate(
  client: KexInit,
  server: KexInit,
  role: "client" | "server",
  isAead: (cipher: string) => boolean,
): Negotiated {
  const p = (what: string, c: string[], s: string[]) =>
    pick(what, c, s, role, role === "client" ? c : s, role === "client" ? s : c);
  const kex = p("key exchange algorithm", client.kex, server.kex);
  const hostKey = p("host key algorithm", client.hostKey, server.hostKey);
  const cipherC2S = p("cipher (client to server)", client.cipherC2S, server.cipherC2S);
  const cipherS2C = p("cipher (server to client)", client.cipherS2C, server.cipherS2C);
  const macC2S = isAead(cipherC2S) ? "implicit" : p("MAC (client to server)", client.macC2S, server.macC2S);
  const macS2C = isAead(cipherS2C) ? "implicit" : p("MAC (server to client)", client.macS2C, server.macS2C);
  const compressionC2S = p("compression (client to server)", client.compressionC2S, server.compressionC2S);
  const compressionS2C = p("compression (server to client)", client.compressionS2C, server.compressionS2C);
  return { kex, hostKey, cipherC2S, cipherS2C, macC2S, macS2C, compressionC2S, compressionS2C };
}

/**
 * RFC 4253 §7: a guessed first KEX packet is right only if both the KEX algorithm and the host
 * key algorithm are each side's first choice.
 */
export function guessWasRight(client: KexInit, server: KexInit, negotiated: Negotiated): boolean {
  return (
    client.kex[0] === negotiated.kex &&
    server.kex[0] === negotiated.kex &&
    client.hostKey[0] === negotiated.hostKey &&
    server.hostKey[0] === negotiated.hostKey
  );
}
