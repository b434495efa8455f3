/**
 * When to re-exchange keys (RFC 4253 §9): after `rekeyBytes` either way (1 GiB by default;
 * RFC 4344 §3.2's block limits are higher for AES) or `rekeyMs` (an hour, RFC 4253 §9).
 */
import { DEFAULT_REKEY_BYTES, DEFAULT_REKEY_MS } from "./transport-options.ts";

export interface RekeyLimits {
  rekeyBytes?: number;
  rekeyMs?: number;
  now?: () => number;
}

export class RekeyMeter {
  private bytesIn = 0;
  private bytesOut = 0;
  private lastKexAt: number;
  private readonly rekeyBytes: number;
  private readonly rekeyMs: number;
  private readonly now: () => number;

  constructor(
    limits: RekeyLimits,
    private readonly due: () => void,
  ) {
    this.rekeyBytes = limits.rekeyBytes ?? DEFAULT_REKEY_BYTES;
    this.rekeyMs = limits.rekeyMs ?? DEFAULT_REKEY_MS;
    this.now = limits.now ?? Date.now;
    this.lastKexAt = this.now();
  }

  countIn(n: number): void {
    this.bytesIn += n;
    this.check();
  }

  countOut(n: number): void {
    this.bytesOut += n;
    this.check();
  }

  /** An exchange completed: count from zero again. */
  reset(): void {
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.lastKexAt = this.now();
  }

  private check(): void {
    if (
      this.bytesIn >= this.rekeyBytes ||
      this.bytesOut >= this.rekeyBytes ||
      this.now() - this.lastKexAt >= this.rekeyMs
    ) {
      this.due();
    }
  }
}
