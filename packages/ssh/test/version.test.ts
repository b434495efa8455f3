import { describe, expect, it } from "vitest";
import { SshError } from "../src/errors.ts";
import { encodeVersionLine, MAX_PREAMBLE_LINES, parseVersionLine, VersionReader } from "../src/transport/version.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("version exchange (RFC 4253 §4.2)", () => {
  it("parses a version with a comment", () => {
    const v = parseVersionLine("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
    expect(v.softwareVersion).toBe("OpenSSH_9.2p1");
    expect(v.comments).toBe("Debian-2+deb12u3");
  });

  it("accepts 1.99 as 2.0-compatible (RFC 4253 §5.1)", () => {
    expect(parseVersionLine("SSH-1.99-Foo").protoVersion).toBe("1.99");
  });

  it("reads the line split over chunks and keeps the bytes after it", () => {
    const r = new VersionReader(true);
    expect(r.push(enc("SSH-2.0-Op"))).toBeUndefined();
    const got = r.push(enc("enSSH_9.2\r\n\x00\x00\x00\x0c"));
    expect(got?.version.line).toBe("SSH-2.0-OpenSSH_9.2");
    expect(Array.from(got?.rest ?? [])).toEqual([0, 0, 0, 12]);
  });

  it("allows lines before the version from a server, and reports them", () => {
    const r = new VersionReader(true);
    const got = r.push(enc("hello there\r\nsecond line\nSSH-2.0-X\r\n"));
    expect(got?.version.softwareVersion).toBe("X");
    expect(r.preamble).toEqual(["hello there", "second line"]);
  });

  it("tolerates a bare LF line ending", () => {
    expect(new VersionReader(true).push(enc("SSH-2.0-X\n"))?.version.line).toBe("SSH-2.0-X");
  });

  it("encodes our line with CR LF", () => {
    expect(new TextDecoder().decode(encodeVersionLine("tunnel_0.1"))).toBe("SSH-2.0-tunnel_0.1\r\n");
  });

  describe("bad inputs", () => {
    const cases: [string, string, boolean][] = [
      ["protocol 1.5", "SSH-1.5-Old\r\n", true],
      ["no software version", "SSH-2.0\r\n", true],
      ["empty software version", "SSH-2.0-\r\n", true],
      ["a version line over 255 bytes", `SSH-2.0-${"x".repeat(250)}\r\n`, true],
      ["a NUL in the version line", "SSH-2.0-a\x00b\r\n", true],
      ["a preamble line from a client (servers accept none)", "hello\r\nSSH-2.0-X\r\n", false],
      ["too many preamble lines", `${"x\r\n".repeat(MAX_PREAMBLE_LINES + 1)}SSH-2.0-X\r\n`, true],
      ["an endless line with no newline", "x".repeat(9000), true],
      ["an endless SSH- line with no newline", `SSH-2.0-${"x".repeat(300)}`, true],
    ];
    it.each(cases)("rejects %s", (_n, input, allowPreamble) => {
      const r = new VersionReader(allowPreamble);
      let err: unknown;
      try {
        r.push(enc(input));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SshError);
      expect((err as SshError).code).toBe("BAD_VERSION");
    });
  });
});
