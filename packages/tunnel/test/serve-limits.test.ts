/**
 * `tunnel serve`'s server-wide grants and limits from their flags (issue 12, items 4 and 6):
 * `--allow-remote PORTS` (privileged ports only by name), `--max-startups start:rate:full`
 * (sshd_config(5) MaxStartups random early drop).
 */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_STARTUPS,
  formatMaxStartups,
  NO_PORTS,
  parseMaxStartups,
  parsePortGrant,
  portGrantAllows,
  shouldDrop,
} from "../src/serve-limits.ts";

describe("--allow-remote", () => {
  it("0 grants only a port the kernel picks", () => {
    const g = parsePortGrant("0");
    expect(portGrantAllows(g, 0)).toBe(true);
    expect(portGrantAllows(g, 8080)).toBe(false);
  });

  it("ranges and comma lists", () => {
    const g = parsePortGrant("8000-8999, 9100,0");
    for (const p of [0, 8000, 8500, 8999, 9100]) expect(portGrantAllows(g, p)).toBe(true);
    for (const p of [1, 7999, 9000, 9101, 22]) expect(portGrantAllows(g, p)).toBe(false);
  });

  it("* is 0 and every unprivileged port; privileged ports only when named", () => {
    const any = parsePortGrant("*");
    for (const p of [0, 1024, 65535]) expect(portGrantAllows(any, p)).toBe(true);
    for (const p of [1, 22, 80, 443, 1023]) expect(portGrantAllows(any, p)).toBe(false);
    const named = parsePortGrant("*,80,440-445");
    for (const p of [80, 443]) expect(portGrantAllows(named, p)).toBe(true);
    for (const p of [22, 81]) expect(portGrantAllows(named, p)).toBe(false);
  });

  it("nothing granted: nothing allowed", () => {
    for (const p of [0, 22, 8080]) expect(portGrantAllows(NO_PORTS, p)).toBe(false);
  });

  it.each([
    "",
    " ",
    ",",
    "8000,",
    "65536",
    "-1",
    "8000-",
    "-8000",
    "9000-8000",
    "0-10",
    "80-90-100",
    "http",
    "1e3",
    "0x50",
    "8 000",
    "**",
  ])("%j is refused naming the option as the caller names it", (text) => {
    expect(() => parsePortGrant(text, { allowRemote: "--allow-remote" })).toThrow(/^--allow-remote: /);
    expect(() => parsePortGrant(text)).toThrow(/^allowRemote: /);
  });
});

describe("--max-startups", () => {
  it("start:rate:full, and one number as a plain cap", () => {
    expect(parseMaxStartups("10:30:100")).toEqual({ start: 10, rate: 30, full: 100 });
    expect(parseMaxStartups("5")).toEqual({ start: 5, rate: 100, full: 5 });
    expect(formatMaxStartups(DEFAULT_MAX_STARTUPS)).toBe("10:30:100");
    expect(formatMaxStartups(parseMaxStartups("5"))).toBe("5");
  });

  it.each([
    "",
    "0",
    "10:30",
    "10:30:100:5",
    "10:0:100",
    "10:101:100",
    "100:30:10",
    "0:30:100",
    "a:b:c",
    "10:30:-1",
    "1.5",
  ])("%j is refused naming the option as the caller names it", (text) => {
    expect(() => parseMaxStartups(text, { maxStartups: "--max-startups" })).toThrow(/^--max-startups: /);
    expect(() => parseMaxStartups(text)).toThrow(/^maxStartups: /);
  });

  it("random early drop: none below start, all at full, rate% at start rising linearly", () => {
    const m = parseMaxStartups("10:30:100");
    const never = () => 0.999_999;
    const always = () => 0;
    expect(shouldDrop(9, m, always)).toBe(false);
    expect(shouldDrop(100, m, never)).toBe(true);
    expect(shouldDrop(500, m, never)).toBe(true);
    // at start: 30 %
    expect(shouldDrop(10, m, () => 0.29)).toBe(true);
    expect(shouldDrop(10, m, () => 0.3)).toBe(false);
    // halfway (55): 30 + 70 × 45/90 = 65 %
    expect(shouldDrop(55, m, () => 0.64)).toBe(true);
    expect(shouldDrop(55, m, () => 0.65)).toBe(false);
  });

  it("a plain cap drops everything from N on", () => {
    const m = parseMaxStartups("3");
    expect(shouldDrop(2, m, () => 0)).toBe(false);
    expect(shouldDrop(3, m, () => 0.999)).toBe(true);
  });
});
