/**
 * Loopback ports for a test to hand to a child process (`tunnel open --port P`, `sshd -p P`).
 *
 * A port is probed free and closed again before the child binds it, so something else may take
 * it in between. Asking the kernel for port 0 makes that likely under a parallel suite: the
 * kernel hands out the same ephemeral range (`net.ipv4.ip_local_port_range`, 32768–60999 by
 * default) to every listener on port 0 and every outgoing connection's local end, and the
 * suite opens thousands of those; one CI run lost `tunnel open --port` to such a neighbour.
 * So ports are drawn at random from below the ephemeral range, where the kernel never assigns
 * one by itself, and only another test drawing the same number can collide (about one chance
 * in 20,000 per pair of draws in flight).
 */
import { readFileSync } from "node:fs";
import * as net from "node:net";

/** The lowest port drawn: above the registered services a test machine runs (5432, 6379…). */
const LOWEST = 10_000;

/** The first port of the kernel's ephemeral range, where ports are never drawn. */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > LOWEST + 1000) return first;
  } catch {
    // not Linux, or /proc hidden: the IANA dynamic range starts at 49152; Linux's default is lower.
  }
  return 32_768;
}

const TOP = ephemeralStart();

function draw(n: number): number {
  return LOWEST + Math.floor(Math.random() * (TOP - LOWEST - n));
}

function tryListen(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(undefined));
    srv.listen(port, "127.0.0.1", () => resolve(srv));
  });
}

function close(servers: net.Server[]): Promise<unknown> {
  return Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
}

/** A loopback port free at the moment of asking, outside the kernel's ephemeral range. */
export function freePort(): Promise<number> {
  return freePortRun(1);
}

/**
 * A port P such that P … P+n-1 are all free on 127.0.0.1 now, outside the ephemeral range: for
 * `tunnel open` with n targets, which listens on consecutive ports from --port.
 */
export async function freePortRun(n: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = draw(n);
    const held: net.Server[] = [];
    for (let i = 0; i < n; i++) {
      const s = await tryListen(base + i);
      if (!s) break;
      held.push(s);
    }
    await close(held);
    if (held.length === n) return base;
  }
  throw new Error(`no run of ${n} free loopback ports found below ${TOP} in 100 draws`);
}
