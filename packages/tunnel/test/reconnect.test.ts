/** Reconnection policy: the backoff and which failures end a tunnel instead. */
import { SshError } from "@tunnel/ssh";
import { describe, expect, it } from "vitest";
import { isPermanentFailure, RECONNECT_MAX_MS, reconnectDelay } from "../src/reconnect.ts";

describe("reconnecting", () => {
  it("the first retry comes within 1 s; later ones double, with jitter, up to 30 s", () => {
    expect(reconnectDelay(1, () => 0)).toBe(500);
    expect(reconnectDelay(1, () => 0.999)).toBeLessThanOrEqual(1000);
    expect(reconnectDelay(2, () => 0)).toBe(1000);
    expect(reconnectDelay(3, () => 1)).toBe(4000);
    expect(reconnectDelay(20, () => 1)).toBe(RECONNECT_MAX_MS);
    expect(reconnectDelay(20, () => 0)).toBe(RECONNECT_MAX_MS / 2);
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => reconnectDelay(bad)).toThrow(RangeError);
  });

  it("authentication and host-key failures end the tunnel; network failures are retried", () => {
    for (const code of ["AUTH_FAILED", "HOST_KEY_CHANGED", "HOST_KEY_REJECTED", "BAD_SIGNATURE"] as const)
      expect(isPermanentFailure(new SshError(code, "x"))).toBe(true);
    for (const code of ["CONNECTION_LOST", "TIMEOUT", "DISCONNECTED", "MAC_ERROR", "PROTOCOL_ERROR"] as const)
      expect(isPermanentFailure(new SshError(code, "x"))).toBe(false);
    expect(isPermanentFailure(new Error("cannot connect to h:22: connection refused"))).toBe(false);
    expect(isPermanentFailure(new TypeError("bad option"))).toBe(true);
  });
});
