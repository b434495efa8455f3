/**
 * authorized_keys options with sshd(8)'s meaning (issue 12, item 5): restrict, port-forwarding,
 * no-port-forwarding, permitopen, permitlisten, from=, expiry-time=; anything we cannot honour
 * makes the key unusable with one warning naming file:line and the option.
 */
import { formatPublicKeyLine, generateEd25519, nobleProvider } from "@tunnel/ssh";
import { describe, expect, it } from "vitest";
import {
  fromAllows,
  globMatch,
  matchAuthorizedKey,
  parseAddressPatterns,
  parseAllowList,
  parseAuthorizedKeys,
  parseExpiryTime,
  parseIp,
  parseKeyOptions,
  permitListenAllows,
  permitOpenAllows,
} from "../src/authorized-keys.ts";

const key = generateEd25519(nobleProvider, "k");
const keyText = formatPublicKeyLine(key.publicKey);

function load(lines: string[]) {
  const warnings: string[] = [];
  const keys = parseAuthorizedKeys(lines.join("\n"), "ak", (w) => warnings.push(w), Date.UTC(2025, 0, 1));
  return { keys, warnings };
}

describe("authorized_keys forwarding options (sshd semantics)", () => {
  it("no options: both forwarding kinds, anywhere, from anywhere, no expiry", () => {
    expect(parseKeyOptions([])).toEqual({
      portForwarding: true,
      permitOpen: undefined,
      permitListen: undefined,
      from: undefined,
      expiresAt: undefined,
    });
  });

  it("restrict turns port forwarding off", () => {
    expect(parseKeyOptions(["restrict"]).portForwarding).toBe(false);
  });

  it("restrict,port-forwarding,permitopen=… is usable: forwarding back on, limited to permitopen", () => {
    const o = parseKeyOptions(["restrict", "port-forwarding", 'permitopen="db:5432"', 'permitopen="[::1]:*"']);
    expect(o.portForwarding).toBe(true);
    expect(o.permitOpen).toEqual([
      { host: "db", port: 5432 },
      { host: "::1", port: "*" },
    ]);
    expect(permitOpenAllows(o.permitOpen, "db", 5432)).toBe(true);
    expect(permitOpenAllows(o.permitOpen, "db", 5433)).toBe(false);
    expect(permitOpenAllows(o.permitOpen, "::1", 1)).toBe(true);
    expect(permitOpenAllows(o.permitOpen, "other", 5432)).toBe(false);
  });

  it("the last of restrict / port-forwarding / no-port-forwarding wins", () => {
    expect(parseKeyOptions(["port-forwarding", "restrict"]).portForwarding).toBe(false);
    expect(parseKeyOptions(["no-port-forwarding"]).portForwarding).toBe(false);
    expect(parseKeyOptions(["no-port-forwarding", "port-forwarding"]).portForwarding).toBe(true);
    expect(parseKeyOptions(["RESTRICT", "Port-Forwarding"]).portForwarding).toBe(true);
  });

  it("options that only permit what a forwarding-only server never does change nothing", () => {
    const o = parseKeyOptions(["no-pty", "pty", "no-X11-forwarding", "agent-forwarding", "no-user-rc", "user-rc"]);
    expect(o.portForwarding).toBe(true);
  });

  it("permitlisten: a bare port is any host, host patterns, * port; only * matches port 0", () => {
    const o = parseKeyOptions(['permitlisten="8080"', 'permitlisten="LOCALHOST:9000"', 'permitlisten="127.0.0.?:*"']);
    expect(o.permitListen).toEqual([
      { host: "*", port: 8080 },
      { host: "localhost", port: 9000 },
      { host: "127.0.0.?", port: "*" },
    ]);
    expect(permitListenAllows(o.permitListen, "anything", 8080)).toBe(true);
    expect(permitListenAllows(o.permitListen, "LocalHost", 9000)).toBe(true);
    expect(permitListenAllows(o.permitListen, "127.0.0.1", 9000)).toBe(true);
    expect(permitListenAllows(o.permitListen, "127.0.0.1", 0)).toBe(true);
    expect(permitListenAllows(o.permitListen, "localhost", 0)).toBe(false);
    expect(permitListenAllows(o.permitListen, "localhost", 9001)).toBe(false);
  });

  it.each([
    ['permitopen="db"', /permitopen="db": expected host:port/],
    ['permitopen="db:0"', /"0" is not a port/],
    ['permitopen="db:65536"', /"65536" is not a port/],
    ['permitopen="db:http"', /"http" is not a port/],
    ['permitopen=":22"', /expected a host name/],
    ['permitopen="::1:22"', /IPv6 address must be in brackets/],
    ['permitopen="[::1]22"', /expected \[IPv6 address\]:port/],
    ["permitopen=db:22", /must be in double quotes/],
    ["permitopen", /needs a value/],
    ['permitlisten="0"', /"0" is not a port/],
    ['permitlisten="-1"', /"-1" is not a port/],
    ['permitlisten=""', /must be in double quotes|is not a port/],
    ['restrict="yes"', /takes no value/],
    ['from="10.0.0.1/8"', /bits set past its \/8 prefix/],
    ['from="10.0.0.0/33"', /prefix length outside 0-32/],
    ['from="::/129"', /prefix length outside 0-128/],
    ['from="10.0.0.0/x"', /prefix length/],
    ['from="host/8"', /not an address\/bits block/],
    ['from="10.0.0.1,,10.0.0.2"', /an empty pattern/],
    ['from="!"', /an empty pattern/],
    ['expiry-time="2025"', /expected YYYYMMDD/],
    ['expiry-time="20251301"', /not a valid date/],
    ['expiry-time="20250230"', /not a valid date/],
    ['expiry-time="202501012460"', /not a valid date/],
    ['expiry-time="20250101000060"', /not a valid date/],
    ['expiry-time="20250101T0000"', /expected YYYYMMDD/],
  ])("%s is refused, naming the option", (opt, message) => {
    expect(() => parseKeyOptions([opt])).toThrow(message);
  });

  it("two from= options are refused, as sshd does", () => {
    expect(() => parseKeyOptions(['from="10.0.0.1"', 'from="10.0.0.2"'])).toThrow(/more than one from=/);
  });

  it.each([
    'command="/bin/true"',
    'environment="A=b"',
    'tunnel="0"',
    'principals="a"',
    "cert-authority",
    "verify-required",
    "no-such-option",
    "",
  ])("%s: the key is unusable, one warning naming file:line and the option", (opt) => {
    const { keys, warnings } = load(["# comment", `${opt ? `${opt},` : ","}no-pty ${keyText}`]);
    expect(keys).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^ak:2: key skipped: option "[^"]*" is not supported by tunnel serve$/);
    if (opt) expect(warnings[0]).toContain(`"${opt.split("=")[0]?.toLowerCase()}"`);
  });

  it("a usable line keeps its options and says where it is", () => {
    const { keys, warnings } = load([`restrict,port-forwarding,permitopen="db:5432" ${keyText}`]);
    expect(warnings).toEqual([]);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ source: "ak:1", line: 1, portForwarding: true });
  });

  it("an expired key loads with a warning and is refused at login", () => {
    const { keys, warnings } = load([`expiry-time="20200101" ${keyText}`]);
    expect(warnings).toEqual([expect.stringMatching(/^ak:1: key expired on 2020-01-0\dT/)]);
    const m = matchAuthorizedKey(keys, key.publicKey, "127.0.0.1", Date.UTC(2025, 0, 1));
    expect(m.entry).toBeUndefined();
    expect(m.refusals).toEqual([expect.stringMatching(/^ak:1: the key expired on /)]);
  });

  it("sshd reads on past a line whose options refuse this client: a later line for the same key may admit it", () => {
    const { keys } = load([`from="10.0.0.0/8" ${keyText}`, `from="127.0.0.1",restrict ${keyText}`]);
    const m = matchAuthorizedKey(keys, key.publicKey, "127.0.0.1");
    expect(m.entry?.source).toBe("ak:2");
    expect(m.entry?.portForwarding).toBe(false);
    expect(m.refusals).toEqual(["ak:1: from= does not admit 127.0.0.1"]);
  });

  it("from= naming host names is kept, with a warning that only addresses are matched", () => {
    const { keys, warnings } = load([`from="*.example.com,127.0.0.1" ${keyText}`]);
    expect(keys).toHaveLength(1);
    expect(warnings).toEqual([expect.stringMatching(/^ak:1: from= pattern "\*\.example\.com" names hosts/)]);
  });
});

describe("from= patterns (ssh_config(5) PATTERNS, CIDR as sshd)", () => {
  const allows = (list: string, address: string) => fromAllows(parseAddressPatterns(list), address);

  it("wildcards * and ?", () => {
    expect(allows("10.0.0.*", "10.0.0.200")).toBe(true);
    expect(allows("10.0.0.?", "10.0.0.2")).toBe(true);
    expect(allows("10.0.0.?", "10.0.0.20")).toBe(false);
    expect(allows("10.0.*", "10.1.0.1")).toBe(false);
  });

  it("CIDR blocks, IPv4 and IPv6; a plain address is a full-length block", () => {
    expect(allows("192.168.0.0/16", "192.168.44.1")).toBe(true);
    expect(allows("192.168.0.0/16", "192.169.0.1")).toBe(false);
    expect(allows("0.0.0.0/0", "8.8.8.8")).toBe(true);
    expect(allows("2001:db8::/32", "2001:db8:1::5")).toBe(true);
    expect(allows("2001:db8::/32", "2001:db9::5")).toBe(false);
    expect(allows("::1", "0:0:0:0:0:0:0:1")).toBe(true);
    expect(allows("10.0.0.0/8", "::1")).toBe(false);
  });

  it("an IPv4 client seen through a dual-stack socket (::ffff:a.b.c.d) matches IPv4 patterns", () => {
    expect(allows("127.0.0.0/8", "::ffff:127.0.0.1")).toBe(true);
    expect(allows("127.0.0.1", "::ffff:127.0.0.1")).toBe(true);
  });

  it("a negated match refuses whatever else matches; negations alone admit nobody", () => {
    expect(allows("10.0.0.0/8,!10.0.0.5", "10.0.0.5")).toBe(false);
    expect(allows("!10.0.0.5,10.0.0.0/8", "10.0.0.5")).toBe(false);
    expect(allows("10.0.0.0/8,!10.0.0.5", "10.0.0.6")).toBe(true);
    expect(allows("!10.0.0.5", "10.0.0.6")).toBe(false);
  });

  it("no from= admits everyone", () => {
    expect(fromAllows(undefined, "203.0.113.9")).toBe(true);
  });

  it.each([
    "1.2.3",
    "1.2.3.256",
    "1.2.3.4.5",
    "01234::",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "1:2:3:4:5:6:7::8",
    "g::1",
    "",
  ])("parseIp(%j) is not an address", (text) => {
    expect(parseIp(text)).toBeUndefined();
  });

  it.each([
    ["1.2.3.4", [1, 2, 3, 4]],
    ["::", new Array(16).fill(0)],
    ["::ffff:1.2.3.4", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]],
    ["fe80::1", [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
  ])("parseIp(%j)", (text, bytes) => {
    expect([...(parseIp(text) ?? [])]).toEqual(bytes);
  });

  it("globMatch is whole-string and never backtracks exponentially", () => {
    expect(globMatch("abc", "a*c")).toBe(true);
    expect(globMatch("abc", "a*b")).toBe(false);
    expect(globMatch("", "*")).toBe(true);
    // No clock: backtracking would take about C(64, 30) ≈ 10^18 steps here and never answer,
    // so the test's own timeout fails it.
    expect(globMatch("a".repeat(64), `${"*a".repeat(30)}b`)).toBe(false);
  });
});

describe("expiry-time", () => {
  it("YYYYMMDD[HHMM[SS]] in local time, Z for UTC", () => {
    expect(parseExpiryTime("20250102Z")).toBe(Date.UTC(2025, 0, 2));
    expect(parseExpiryTime("202501021530Z")).toBe(Date.UTC(2025, 0, 2, 15, 30));
    expect(parseExpiryTime("20250102153045z")).toBe(Date.UTC(2025, 0, 2, 15, 30, 45));
    expect(parseExpiryTime("20250102")).toBe(new Date(2025, 0, 2).getTime());
  });

  it("several: the earliest counts", () => {
    expect(parseKeyOptions(['expiry-time="20300101Z"', 'expiry-time="20290101Z"']).expiresAt).toBe(
      Date.UTC(2029, 0, 1),
    );
  });
});

describe("--allow", () => {
  it("host:port lists with * for host or port", () => {
    expect(parseAllowList("db:5432, *:80,[::1]:*")).toEqual([
      { host: "db", port: 5432 },
      { host: "*", port: 80 },
      { host: "::1", port: "*" },
    ]);
    expect(parseAllowList("")).toEqual([]);
  });

  it.each(["db", "db:", "db:0", "db:99999", ":80", "db:5432,", ",db:5432", "db:54 32", "::1:22"])(
    "%j is refused naming the option as the caller names it",
    (text) => {
      expect(() => parseAllowList(text, { allow: "--allow" })).toThrow(/^--allow: "/);
      // a library caller that names nothing sees the field
      expect(() => parseAllowList(text)).toThrow(/^allow: "/);
    },
  );
});
