/**
 * Receive windows that grow (connection/window.ts; RFC 4254 §5.2): only when the window held
 * the sender back and the consumer kept up, never past the cap or the connection's budget.
 */
import { describe, expect, it } from "vitest";
import { KEEPALIVE_REQUEST } from "../src/connection/keepalive.ts";
import { DEFAULT_MAX_WINDOW, Mux, ROUND_TRIP_PINGS } from "../src/connection/mux.ts";
import { OPENSSH_WINDOW_CEILING, peerWindowCeiling } from "../src/connection/peer-window.ts";
import { GRANT_PACKETS, ReceiveWindow, RUN_GAP_MS } from "../src/connection/window.ts";
import { MSG } from "../src/wire/messages.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";

const MiB = 1024 * 1024;
const PACKET = 32 * 1024;
/** A clock that stands still: every probe is answered within "a millisecond". */
const still = () => 0;

/** A 2 → 16 MiB window on a clock the test moves (`tick`), with the connection's least round trip `rtt` ms if known. */
function onClock(rtt?: number): { w: ReceiveWindow; tick(ms: number): void } {
  let t = 0;
  const roundTrip = rtt === undefined ? undefined : () => rtt;
  const w = new ReceiveWindow(
    2 * MiB,
    16 * MiB,
    PACKET,
    (want) => want,
    () => t,
    roundTrip,
  );
  return {
    w,
    tick: (ms) => {
      t += ms;
    },
  };
}

/** The peer sends `n` bytes in packets, the consumer takes each at once; returns the probes seen. */
function flow(w: ReceiveWindow, n: number, consume = true): { grants: number[]; probes: number } {
  const out = { grants: [] as number[], probes: 0 };
  for (let sent = 0; sent < n; sent += PACKET) {
    expect(w.receive(PACKET)).toBe(true);
    if (!consume) continue;
    const g = w.consume(PACKET);
    if (g.grant) out.grants.push(g.grant);
    if (g.probe) out.probes++;
  }
  return out;
}

describe("receive window", () => {
  it("TestWindowGrowsWhenItLimitsTheSender: a peer that used all its credit before our grant doubles the window", () => {
    const w = new ReceiveWindow(2 * MiB, 16 * MiB, PACKET, (want) => want, still);
    // The peer sends its whole window and waits: the probe goes out with the first grant.
    const first = flow(w, 2 * MiB);
    expect(first.probes).toBe(1);
    expect(first.grants).toEqual(Array(16).fill(GRANT_PACKETS * PACKET));
    expect(w.probeAnswered()).toBe(2 * MiB);
    expect(w.size).toBe(4 * MiB);
    expect(w.available).toBe(2 * MiB + 2 * MiB);
    // And again, up to the cap.
    for (let i = 0; i < 10; i++) {
      flow(w, w.available);
      w.probeAnswered();
    }
    expect(w.size).toBe(16 * MiB);
  });

  it("TestWindowNeverGrowsForASlowConsumer: bytes delivered but not consumed keep it as it is", () => {
    const w = new ReceiveWindow(2 * MiB, 16 * MiB, PACKET, (want) => want, still);
    flow(w, MiB); // consumed: one grant of 1 MiB and a probe
    flow(w, MiB, false); // the consumer stalls on the next megabyte
    expect(w.probing).toBe(true);
    expect(w.probeAnswered()).toBe(0);
    expect(w.size).toBe(2 * MiB);
    // The peer still cannot send more than what was granted: the memory bound holds.
    expect(w.receive(w.available + 1)).toBe(false);
  });

  it("TestWindowNeverGrowsWhenTheSenderHadCredit: a peer that is not window-bound gets nothing more", () => {
    const w = new ReceiveWindow(2 * MiB, 16 * MiB, PACKET, (want) => want, still);
    flow(w, MiB); // grant + probe after 1 MiB; the peer still had 1 MiB of credit
    expect(w.probeAnswered()).toBe(0);
    expect(w.size).toBe(2 * MiB);
  });

  it("growth stops at the connection's budget; an unsolicited reply changes nothing", () => {
    let budget = 3 * MiB;
    const w = new ReceiveWindow(
      2 * MiB,
      16 * MiB,
      PACKET,
      (want) => {
        const got = Math.min(want, budget);
        budget -= got;
        return got;
      },
      still,
    );
    expect(w.probeAnswered()).toBe(0); // nothing asked yet
    flow(w, 2 * MiB);
    expect(w.probeAnswered()).toBe(2 * MiB);
    flow(w, w.available);
    expect(w.probeAnswered()).toBe(MiB);
    flow(w, w.available);
    expect(w.probeAnswered()).toBe(0);
    expect(w.size).toBe(5 * MiB);
  });

  it("TestWindowRegrantedBeforeHalfIsUsed: a large window is topped up every few packets, a small one at half", () => {
    // Waiting for half of 16 MiB would leave a window-bound sender idle half of each round trip.
    const big = new ReceiveWindow(16 * MiB, 16 * MiB, PACKET);
    const g = flow(big, MiB);
    expect(g.grants).toEqual(Array(MiB / (GRANT_PACKETS * PACKET)).fill(GRANT_PACKETS * PACKET));
    expect(big.available).toBe(16 * MiB);
    // A window under 2 × GRANT_PACKETS packets is granted at half, as before.
    const small = new ReceiveWindow(4 * PACKET, 4 * PACKET, PACKET);
    expect(flow(small, 8 * PACKET).grants).toEqual([2 * PACKET, 2 * PACKET, 2 * PACKET, 2 * PACKET]);
    // Bytes not consumed are never re-granted, whatever the threshold.
    const stalled = new ReceiveWindow(16 * MiB, 16 * MiB, PACKET);
    expect(flow(stalled, MiB, false).grants).toEqual([]);
    expect(stalled.available).toBe(15 * MiB);
  });

  it("a window whose cap is its initial size never probes", () => {
    const w = new ReceiveWindow(2 * MiB, 2 * MiB, PACKET, (want) => want, still);
    expect(flow(w, 4 * MiB).probes).toBe(0);
    expect(w.size).toBe(2 * MiB);
  });

  it("TestWindowStaysBehindAQueue: with a short round trip, a peer out of credit gets no more window", () => {
    const { w, tick } = onClock(1);
    // The peer is out of credit each time, but only because 2 MiB queue ahead of each answer
    // (100 ms at 20 MB/s) on a link with a 1 ms round trip: more window would only queue more.
    for (let i = 0; i < 5; i++) {
      flow(w, w.available);
      tick(100);
      expect(w.probeAnswered()).toBe(0);
    }
    expect(w.size).toBe(2 * MiB);
  });

  it("TestWindowGrowsOnALongLink: a 50 ms round trip and window-bound 50 ms probes take it to the cap", () => {
    const { w, tick } = onClock(50);
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      // Each window arrives in one burst (no time passes within it), then the peer waits.
      flow(w, w.available);
      tick(52);
      w.probeAnswered();
      sizes.push(w.size / MiB);
    }
    // A burst far faster than the window allows: fourfold a step, the most allowed.
    expect(sizes).toEqual([8, 16, 16]);
  });

  it("TestWindowGrowsToTheBurstRateTimesTheRoundTrip: between doubling and fourfold, as the path carries", () => {
    // The peer's bytes arrive a packet every `gap` ms, then it waits out the round trip.
    const paced = (gap: number, rtt = 100): number => {
      const { w, tick } = onClock(rtt);
      for (let sent = 0; sent < 2 * MiB; sent += PACKET) {
        w.receive(PACKET);
        w.consume(PACKET);
        tick(gap);
      }
      tick(rtt);
      w.probeAnswered();
      return w.size / MiB;
    };
    // 32 KiB every 1 ms: 32 MiB/s × 100 ms = 3.125 MiB needed; at least doubling.
    expect(paced(1)).toBe(4);
    // 32 KiB every 0.5 ms: 64 MiB/s × 100 ms = 6.25 MiB.
    expect(paced(0.5)).toBeCloseTo(6.25, 2);
    // 32 KiB every 0.25 ms: 12.5 MiB needed, fourfold at most.
    expect(paced(0.25)).toBe(8);
    // Gaps longer than a run's (RUN_GAP_MS) time no run: doubling, as with no measure at all
    // (on a link long enough for the window to bind at that pace).
    expect(paced(RUN_GAP_MS + 1, 400)).toBe(4);
  });

  it("with no round trip known yet, the probe's own time stands in for it", () => {
    const { w, tick } = onClock();
    flow(w, 2 * MiB);
    tick(100);
    // The window arrived in one instant burst: fourfold.
    expect(w.probeAnswered()).toBe(6 * MiB);
  });

  it("TestRoundTripMeasuredByPingsInTurn: each keepalive goes once the last is answered; the least time is kept", async () => {
    const sent: Uint8Array[] = [];
    const mux = new Mux({ send: (p) => void sent.push(p), congested: false });
    expect(mux.roundTrip()).toBe(Number.POSITIVE_INFINITY);
    mux.measureRoundTrip(ROUND_TRIP_PINGS);
    for (let i = 1; i <= ROUND_TRIP_PINGS; i++) {
      expect(sent).toHaveLength(i);
      const r = new Reader(sent[i - 1] as Uint8Array);
      expect(r.byte()).toBe(MSG.GLOBAL_REQUEST);
      expect(r.utf8("name")).toBe(KEEPALIVE_REQUEST);
      expect(r.boolean()).toBe(true); // want-reply: the answer is what is timed
      mux.handle(Uint8Array.of(MSG.REQUEST_FAILURE));
      await Promise.resolve();
    }
    expect(sent).toHaveLength(ROUND_TRIP_PINGS);
    expect(mux.roundTrip()).toBeGreaterThanOrEqual(0);
    expect(mux.roundTrip()).toBeLessThan(Number.POSITIVE_INFINITY);
  });
});

describe("the window a peer's software copes with (connection/peer-window.ts)", () => {
  it("TestOpenSshPeerWindowCeiling: OpenSSH of any version gets half its 16 MiB input cap; others no limit", () => {
    expect(OPENSSH_WINDOW_CEILING).toBe(8 * MiB);
    for (const software of ["OpenSSH_9.2p1", "OpenSSH_7.4", "OpenSSH_10.5", "OpenSSH_for_Windows_9.5"]) {
      expect(peerWindowCeiling(software), software).toBe(8 * MiB);
    }
    for (const software of ["tunnel_0.1", "dropbear_2022.83", "OpenSSHish", "openssh_9.2", "", undefined]) {
      expect(peerWindowCeiling(software), String(software)).toBe(Number.POSITIVE_INFINITY);
    }
  });

  it("TestChannelWindowCappedForPeer: a channel's window grows to the least of our cap and the peer's ceiling", async () => {
    const cases: [string | undefined, number, number][] = [
      ["OpenSSH_9.2p1", DEFAULT_MAX_WINDOW, 8 * MiB],
      ["tunnel_0.1", DEFAULT_MAX_WINDOW, DEFAULT_MAX_WINDOW],
      [undefined, DEFAULT_MAX_WINDOW, DEFAULT_MAX_WINDOW],
      ["OpenSSH_9.2p1", 4 * MiB, 4 * MiB],
    ];
    for (const [software, ours, expected] of cases) {
      const sent: Uint8Array[] = [];
      const peerVersion = software === undefined ? undefined : { softwareVersion: software };
      const mux = new Mux({ send: (p) => void sent.push(p), congested: false, peerVersion });
      mux.maxWindow = ours;
      const opening = mux.open("direct-tcpip", new Uint8Array(0));
      const confirm = new Writer().byte(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(0).uint32(7).uint32(MiB).uint32(PACKET);
      mux.handle(confirm.bytes());
      const channel = await opening;
      expect(channel.receiveWindowMax, `${software} with ours ${ours}`).toBe(expected);
    }
  });
});
