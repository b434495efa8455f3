/** What a connection's transport reports about itself (RFC 4253 §7: what was negotiated and with whom). */
import type { PublicKey } from "../keys/types.ts";
import type { Negotiated } from "./kexinit.ts";

/** What a connection negotiated: versions, algorithms, strict KEX, the server's host key. */
export interface TransportInfo {
  clientVersion: string;
  serverVersion: string;
  negotiated: Negotiated | undefined;
  strictKex: boolean;
  hostKey: PublicKey | undefined;
  hostKeyFingerprint: string | undefined;
  /** Which implementation carries each direction ("noble", or an accelerator). */
  implC2S: string;
  implS2C: string;
  kexCount: number;
  /**
   * The extensions the peer announced in EXT_INFO (RFC 8308 §2.3), name → raw value; a later
   * EXT_INFO replaces the names it carries. Empty if it sent none.
   */
  peerExtensions: ReadonlyMap<string, Uint8Array>;
}

export function emptyTransportInfo(peerExtensions: ReadonlyMap<string, Uint8Array>): TransportInfo {
  return {
    clientVersion: "",
    serverVersion: "",
    negotiated: undefined,
    strictKex: false,
    hostKey: undefined,
    hostKeyFingerprint: undefined,
    implC2S: "none",
    implS2C: "none",
    kexCount: 0,
    peerExtensions,
  };
}
