import { describe, expect, it } from "vitest";
import { SshError } from "../src/errors.ts";
import {
  decodeKexInit,
  EXT_INFO_C,
  encodeKexInit,
  guessWasRight,
  type KexInit,
  negotiate,
  STRICT_KEX_C,
  STRICT_KEX_S,
} from "../src/transport/kexinit.ts";

const base = (over: Partial<KexInit> = {}): KexInit => ({
  cookie: new Uint8Array(16).fill(1),
  kex: ["curve25519-sha256", "ecdh-sha2-nistp256"],
  hostKey: ["ssh-ed25519", "rsa-sha2-256"],
  cipherC2S: ["aes128-ctr", "aes128-gcm@openssh.com"],
  cipherS2C: ["aes128-gcm@openssh.com", "aes128-ctr"],
  macC2S: ["hmac-sha2-256"],
  macS2C: ["hmac-sha2-256"],
  compressionC2S: ["none"],
  compressionS2C: ["none"],
  languagesC2S: [],
  languagesS2C: [],
  firstKexPacketFollows: false,
  ...over,
});
const aead = (c: string) => c.includes("gcm") || c.includes("chacha");

describe("KEXINIT (RFC 4253 §7.1)", () => {
  it("round-trips", () => {
    const k = base({ firstKexPacketFollows: true });
    expect(decodeKexInit(encodeKexInit(k))).toEqual(k);
  });

  it("picks the client's first choice that the server supports, per direction", () => {
    const n = negotiate(base(), base({ cipherC2S: ["aes128-gcm@openssh.com", "aes128-ctr"] }), "client", aead);
    expect(n.kex).toBe("curve25519-sha256");
    expect(n.cipherC2S).toBe("aes128-ctr");
    expect(n.macC2S).toBe("hmac-sha2-256");
    expect(n.cipherS2C).toBe("aes128-gcm@openssh.com");
    expect(n.macS2C).toBe("implicit");
  });

  it("ignores the MAC lists for AEAD ciphers", () => {
    const n = negotiate(
      base({ cipherC2S: ["aes128-gcm@openssh.com"], macC2S: ["x"] }),
      base({ cipherC2S: ["aes128-gcm@openssh.com"], macC2S: ["y"] }),
      "client",
      aead,
    );
    expect(n.macC2S).toBe("implicit");
  });

  it("strips the strict-KEX and ext-info pseudo-algorithms before negotiating", () => {
    const client = base({ kex: [STRICT_KEX_C, EXT_INFO_C, "curve25519-sha256"] });
    const server = base({ kex: [STRICT_KEX_C, STRICT_KEX_S, "curve25519-sha256"] });
    expect(negotiate(client, server, "client", aead).kex).toBe("curve25519-sha256");
    expect(() => negotiate(base({ kex: [STRICT_KEX_C] }), base({ kex: [STRICT_KEX_C] }), "client", aead)).toThrow(
      /no common key exchange algorithm/,
    );
  });

  it("names both sides' offers when nothing is common", () => {
    let err: unknown;
    try {
      negotiate(
        base({ cipherC2S: ["aes256-ctr"] }),
        base({ cipherC2S: ["chacha20-poly1305@openssh.com"] }),
        "client",
        aead,
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SshError);
    expect((err as SshError).code).toBe("NO_COMMON_ALGORITHM");
    expect((err as Error).message).toBe(
      "no common cipher (client to server): client offered aes256-ctr; server offered chacha20-poly1305@openssh.com",
    );
  });

  it("judges a first_kex_packet_follows guess by both first choices", () => {
    const c = base();
    const s = base({ kex: ["ecdh-sha2-nistp256", "curve25519-sha256"] });
    expect(guessWasRight(c, s, negotiate(c, s, "client", aead))).toBe(false);
    expect(guessWasRight(c, c, negotiate(c, c, "client", aead))).toBe(true);
  });

  describe("bad inputs", () => {
    const good = encodeKexInit(base());
    const cases: [string, Uint8Array][] = [
      ["a truncated cookie", good.slice(0, 10)],
      ["a truncated name-list", good.slice(0, 30)],
      ["a missing reserved field", good.slice(0, good.length - 4)],
      ["trailing bytes", Uint8Array.from([...good, 0])],
    ];
    it.each(cases)("rejects %s", (_n, bytes) => {
      expect(() => decodeKexInit(bytes)).toThrow(SshError);
    });
  });
});
