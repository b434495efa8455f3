/**
 * Keepalives (OpenSSH's ServerAliveInterval / ServerAliveCountMax, ssh_config(5)): probes go
 * out only while the peer is silent, any packet from it resets the count, and a peer silent for
 * `countMax` intervals is declared dead.
 */
import { describe, expect, it } from "vitest";
import { KEEPALIVE_REQUEST, startKeepalive } from "../src/connection/keepalive.ts";
import type { Mux } from "../src/connection/mux.ts";
import { SshError } from "../src/errors.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fakeMux() {
  const requests: string[] = [];
  const mux = {
    globalRequest(name: string) {
      requests.push(name);
      return new Promise<undefined>(() => {}); // never answered
    },
  } as unknown as Mux;
  return { mux, requests };
}

describe("keepalive", () => {
  it("TestKeepaliveDeclaresASilentPeerDead after countMax silent intervals, having probed it", async () => {
    const { mux, requests } = fakeMux();
    let dead: SshError | undefined;
    const started = Date.now();
    startKeepalive({ intervalMs: 40, countMax: 3, received: () => 7, mux, dead: (e) => (dead = e) });
    while (!dead && Date.now() - started < 2000) await sleep(10);
    expect(dead).toBeInstanceOf(SshError);
    expect(dead?.code).toBe("TIMEOUT");
    expect(dead?.message).toMatch(/no answer to keepalives for 0.12 s/);
    expect(requests).toEqual([KEEPALIVE_REQUEST, KEEPALIVE_REQUEST]);
  });

  it("TestKeepaliveCountMaxOneStillProbes: the peer gets one interval to answer a probe", async () => {
    const { mux, requests } = fakeMux();
    let dead = false;
    startKeepalive({ intervalMs: 30, countMax: 1, received: () => 0, mux, dead: () => (dead = true) });
    await sleep(45);
    expect(dead).toBe(false);
    expect(requests).toHaveLength(1);
    for (let i = 0; i < 100 && !dead; i++) await sleep(10);
    expect(dead).toBe(true);
  });

  it("TestKeepaliveQuietWhileTrafficFlows: a peer that keeps sending is never probed nor declared dead", async () => {
    const { mux, requests } = fakeMux();
    let packets = 0;
    let dead = false;
    const flowing = setInterval(() => packets++, 5);
    const k = startKeepalive({ intervalMs: 30, countMax: 1, received: () => packets, mux, dead: () => (dead = true) });
    await sleep(200);
    clearInterval(flowing);
    k.stop();
    expect(dead).toBe(false);
    expect(requests).toEqual([]);
  });

  it("an interval of 0 turns keepalives off; a bad count is a RangeError naming it", async () => {
    const { mux, requests } = fakeMux();
    const k = startKeepalive({ intervalMs: 0, countMax: 3, received: () => 0, mux, dead: () => {} });
    await sleep(30);
    k.stop();
    expect(requests).toEqual([]);
    expect(() => startKeepalive({ intervalMs: 10, countMax: 0, received: () => 0, mux, dead: () => {} })).toThrow(
      RangeError,
    );
  });
});
