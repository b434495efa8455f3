/** What a connection's transport reports about itself (RFC 4253 §7: what was negotiated and with whom). */
import type { PublicKey } from "../keys/types.ts";
import type { Negotiated } from "./kexinit.ts";

/** What a connection negotiated: versions, algorithms, strict KEX, the server's host key. */
export interface TransportInfo {
  /**
   * The client's identification line without CR LF (RFC 4253 §4.2), e.g. `SSH-2.0-OpenSSH_9.6`;
   * "" until the first KEXINIT is read. The peer's line is as it sent it: show it through `peerText`.
   */
  clientVersion: string;
  /** The server's identification line, likewise. */
  serverVersion: string;
  /** The algorithms of the latest key exchange (RFC 4253 §7.1); undefined until the first has derived its keys. */
  negotiated: Negotiated | undefined;
  /** Whether strict KEX (OpenSSH's kex-strict-*-v00@openssh.com) is in force: both first KEXINITs offered it. */
  strictKex: boolean;
  /**
   * The server's host key of the latest exchange: on a client the one the server signed with, on
   * a server ours that signed. Undefined until the first exchange has it.
   */
  hostKey: PublicKey | undefined;
  /** `SHA256:…` of the host key blob in the exchange (K_S, RFC 4253 §8), as OpenSSH prints it; or undefined. */
  hostKeyFingerprint: string | undefined;
  /** Which implementation carries client-to-server packets ("noble", or an accelerator); "none" before NEWKEYS. */
  implC2S: string;
  /** Which implementation carries server-to-client packets, likewise. */
  implS2C: string;
  /** Key exchanges completed (NEWKEYS sent and received), the first included. */
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
