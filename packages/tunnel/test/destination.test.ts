import { describe, expect, it } from "vitest";
import { hostPortLabel, parseDestination } from "../src/destination.ts";

describe("destinations [user@]host[:port]", () => {
  const good: [string, { user: string | undefined; host: string; port: number }][] = [
    ["host", { user: undefined, host: "host", port: 22 }],
    ["bob@host", { user: "bob", host: "host", port: 22 }],
    ["bob@host:2222", { user: "bob", host: "host", port: 2222 }],
    ["[::1]:2222", { user: undefined, host: "::1", port: 2222 }],
    ["me@[::1]", { user: "me", host: "::1", port: 22 }],
    ["::1", { user: undefined, host: "::1", port: 22 }],
    ["a@b@host", { user: "a@b", host: "host", port: 22 }],
  ];
  it.each(good)("parses %s", (spec, want) => expect(parseDestination(spec)).toEqual(want));

  const bad: [string, RegExp][] = [
    ["", /empty destination/],
    ["@host", /empty user name/],
    ["host:", /port "" is not a number/],
    ["host:abc", /port "abc" is not a number/],
    ["host:0", /out of range/],
    ["host:65536", /out of range/],
    ["[::1", /unclosed/],
    ["[::1]x", /expected ":"/],
    ["user@", /no host/],
    ["ho st", /not a valid host name/],
  ];
  it.each(bad)("rejects %j", (spec, msg) => expect(() => parseDestination(spec)).toThrow(msg));

  it("labels hosts as known_hosts does", () => {
    expect(hostPortLabel("h", 22)).toBe("h");
    expect(hostPortLabel("h", 2222)).toBe("[h]:2222");
  });
});
