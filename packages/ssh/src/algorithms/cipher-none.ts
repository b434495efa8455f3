/**
 * The `none` packet protection used before the first NEWKEYS (RFC 4253 §6.3, §7.3).
 * Never negotiable: it is not in any registry.
 */
import type { PacketOpener, PacketSealer } from "./types.ts";

export function plainSealer(): PacketSealer {
  return { blockSize: 8, lengthApart: false, overhead: 0, impl: "none", seal: (_seq, p) => p, dispose() {} };
}

export function plainOpener(): PacketOpener {
  return {
    blockSize: 8,
    lengthApart: false,
    overhead: 0,
    impl: "none",
    headerSize: 4,
    peekLength: (_seq, h) => new DataView(h.buffer, h.byteOffset, 4).getUint32(0),
    open: (_seq, wire) => wire.subarray(4),
    dispose() {},
  };
}
