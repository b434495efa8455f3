/**
 * Extension negotiation messages (RFC 8308): the server's EXT_INFO with `server-sig-algs`
 * (§3.1) and reading the peer's EXT_INFO (§2.3). When each may be sent or received is the
 * KEX engine's business (§2.4: right after the server's first NEWKEYS; §2.3: the client's only
 * as the packet right after its first NEWKEYS).
 */
import { DEFAULT_HOST_KEY_ALGORITHMS } from "../algorithms/hostkey.ts";
import { MSG } from "../wire/messages.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";

export const SERVER_SIG_ALGS = "server-sig-algs";

/**
 * The server's EXT_INFO: `server-sig-algs` lists what we verify for user auth, our host key
 * algorithms and every default signature algorithm (RFC 8308 §3.1).
 */
export function encodeServerExtInfo(hostKeyAlgorithms: readonly string[]): Uint8Array {
  const sigAlgs = [...new Set([...hostKeyAlgorithms, ...DEFAULT_HOST_KEY_ALGORITHMS])];
  return new Writer(256).byte(MSG.EXT_INFO).uint32(1).string(SERVER_SIG_ALGS).nameList(sigAlgs).bytes();
}

/**
 * As client we act on `server-sig-algs` (RFC 8308 §3.1); as server on none (delay-compression
 * and no-flow-control, §3.2–§3.3, apply only if we announce them too, and we do not; elevation,
 * §3.4, means nothing without shells).
 *
 * Reads EXT_INFO into `extensions` (name → raw value; a later message replaces the names it
 * carries). Returns the `server-sig-algs` list if this message carried one.
 */
export function readExtInfo(payload: Uint8Array, extensions: Map<string, Uint8Array>): string[] | undefined {
  const r = new Reader(payload, 1);
  const n = r.uint32("extension count");
  let sigAlgs: string[] | undefined;
  // The count is the peer's: nothing is allocated from it, each entry is read from the packet.
  for (let i = 0; i < n; i++) {
    const name = r.ascii("extension name");
    const value = r.string("extension value").slice();
    extensions.set(name, value);
    if (name === SERVER_SIG_ALGS)
      sigAlgs = new Reader(new Writer(value.length + 4).string(value).bytes()).nameList(SERVER_SIG_ALGS);
  }
  return sigAlgs;
}
