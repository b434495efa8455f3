/** Milliseconds from a monotonic clock; the transport and the receive windows share one. */
export type Clock = () => number;

/** `performance.now()`: a web standard that Node, Bun and Deno all have. */
export const monotonic: Clock = () => globalThis.performance.now();
