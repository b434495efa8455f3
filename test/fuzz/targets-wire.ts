/**
 * Fuzz targets, transport decoders: the binary packet protocol (RFC 4253 §6) with the plain
 * opener and with every cipher keyed with fixed keys (RFC 4344, RFC 5647, OpenSSH
 * PROTOCOL.chacha20poly1305, PROTOCOL §1.5 for -etm MACs), the version line (RFC 4253 §4.2),
 * KEXINIT and negotiation (RFC 4253 §7.1), and the peer's key-exchange values (RFC 4253 §8,
 * RFC 5656 §4, RFC 8731 §3).
 *
 * A peer's bytes may only be refused with an `SshError` of the code the decoder documents.
 */
import { CIPHERS, DEFAULT_CIPHERS } from "../../packages/ssh/src/algorithms/cipher.ts";
import { plainOpener, plainSealer } from "../../packages/ssh/src/algorithms/cipher-none.ts";
import {
  BUILT_IN_GROUPS,
  chooseGroup,
  GEX_MAX_BITS,
  GEX_MIN_BITS,
} from "../../packages/ssh/src/algorithms/dh-groups.ts";
import { DEFAULT_HOST_KEY_ALGORITHMS } from "../../packages/ssh/src/algorithms/hostkey.ts";
import { DEFAULT_KEX, KEX_ALGORITHMS } from "../../packages/ssh/src/algorithms/kex.ts";
import { checkPeerValue, MODP_2048, MODP_4096 } from "../../packages/ssh/src/algorithms/kex-dh.ts";
import { readGexGroup, readGexRequest } from "../../packages/ssh/src/algorithms/kex-gex.ts";
import { DEFAULT_MACS, MACS } from "../../packages/ssh/src/algorithms/mac.ts";
import type { CipherAlgorithm, KexClient, PacketOpener } from "../../packages/ssh/src/algorithms/types.ts";
import { createNativeProvider } from "../../packages/ssh/src/crypto/native.ts";
import { nobleProvider } from "../../packages/ssh/src/crypto/noble.ts";
import type { CryptoProvider } from "../../packages/ssh/src/crypto/provider.ts";
import { SshError, type SshErrorCode } from "../../packages/ssh/src/errors.ts";
import {
  decodeKexInit,
  encodeKexInit,
  guessWasRight,
  type KexInit,
  negotiate,
  STRICT_KEX_C,
} from "../../packages/ssh/src/transport/kexinit.ts";
import { PacketReader, PacketWriter } from "../../packages/ssh/src/transport/packet.ts";
import { MAX_VERSION_LINE, parseVersionLine, VersionReader } from "../../packages/ssh/src/transport/version.ts";
import { MSG } from "../../packages/ssh/src/wire/messages.ts";
import { Reader } from "../../packages/ssh/src/wire/reader.ts";
import { Writer } from "../../packages/ssh/src/wire/writer.ts";
import { fuzzCrypto, hex } from "./crypto.ts";
import { Finding, type FuzzTarget } from "./engine.ts";
import { chunks, concatBytes, hashBytes, Rng } from "./mutate.ts";

/** An acceptable rejection: an `SshError` with one of these codes. */
export function sshErrorWith(...codes: SshErrorCode[]): (err: unknown) => boolean {
  return (err) => err instanceof SshError && codes.includes(err.code);
}

const fixedRandom = (seed: number) => {
  const rng = new Rng(seed);
  return (n: number) => rng.bytes(n);
};

const pattern = (n: number, from: number) => Uint8Array.from({ length: n }, (_, i) => (from + i * 7) & 0xff);

/** Reads every payload it can; stops at the first error. */
function readAll(reader: PacketReader, pieces: readonly Uint8Array[]): { payloads: Uint8Array[]; error: unknown } {
  const payloads: Uint8Array[] = [];
  try {
    for (const piece of pieces) {
      reader.push(piece);
      for (;;) {
        const p = reader.next();
        if (p === undefined) break;
        payloads.push(p.slice());
      }
    }
  } catch (error) {
    return { payloads, error };
  }
  return { payloads, error: undefined };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function errorText(e: unknown): string {
  return e === undefined ? "(none)" : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * The same bytes fed at once and in random chunks must give the same payloads and the same
 * error: a socket may cut the stream anywhere.
 */
function compareReads(whole: ReturnType<typeof readAll>, split: ReturnType<typeof readAll>, what: string): void {
  if (whole.payloads.length !== split.payloads.length) {
    throw new Finding(
      `${what}: ${whole.payloads.length} payloads read at once, ${split.payloads.length} in chunks (errors: ${errorText(whole.error)} / ${errorText(split.error)})`,
    );
  }
  whole.payloads.forEach((p, i) => {
    if (!sameBytes(p, split.payloads[i] as Uint8Array)) throw new Finding(`${what}: payload ${i} differs when chunked`);
  });
  if (errorText(whole.error) !== errorText(split.error)) {
    throw new Finding(`${what}: at once "${errorText(whole.error)}", in chunks "${errorText(split.error)}"`);
  }
}

// ---- sample payloads -------------------------------------------------------------------------

const kexInitPayload = encodeKexInit({
  cookie: pattern(16, 1),
  kex: [...DEFAULT_KEX, "ext-info-c", STRICT_KEX_C],
  hostKey: [...DEFAULT_HOST_KEY_ALGORITHMS],
  cipherC2S: [...DEFAULT_CIPHERS],
  cipherS2C: [...DEFAULT_CIPHERS],
  macC2S: [...DEFAULT_MACS],
  macS2C: [...DEFAULT_MACS],
  compressionC2S: ["none"],
  compressionS2C: ["none"],
  languagesC2S: [],
  languagesS2C: [],
  firstKexPacketFollows: false,
});

const samplePayloads: Uint8Array[] = [
  kexInitPayload,
  Uint8Array.of(MSG.NEWKEYS),
  new Writer(32).byte(MSG.IGNORE).string(pattern(20, 3)).bytes(),
  new Writer(64).byte(MSG.DEBUG).boolean(true).string("debug text").string("").bytes(),
  new Writer(1100).byte(MSG.CHANNEL_DATA).uint32(0).string(pattern(1000, 5)).bytes(),
  new Writer(16).byte(MSG.CHANNEL_WINDOW_ADJUST).uint32(3).uint32(65536).bytes(),
];

// ---- packet framing, plain ---------------------------------------------------------------------

function plainStream(payloads: readonly Uint8Array[]): Uint8Array {
  const w = new PacketWriter(plainSealer(), fixedRandom(11));
  return concatBytes(...payloads.map((p) => w.frame(p)));
}

export const packetPlain: FuzzTarget = {
  name: "packet-plain",
  describe:
    "PacketReader with the plain opener (RFC 4253 §6, before NEWKEYS): bytes at once and in random chunks; refusals: SshError BAD_PACKET; invariants: chunking changes nothing, every payload is non-empty and survives re-framing",
  maxLength: 70_000,
  seeds: () => [
    ...samplePayloads.map((p) => plainStream([p])),
    plainStream(samplePayloads),
    plainStream([Uint8Array.of(MSG.IGNORE), new Uint8Array(32768).fill(MSG.IGNORE)]),
    plainStream([kexInitPayload]).subarray(0, 30),
  ],
  accepts: sshErrorWith("BAD_PACKET"),
  run(input) {
    const whole = readAll(new PacketReader(plainOpener()), [input]);
    const split = readAll(new PacketReader(plainOpener()), chunks(new Rng(hashBytes(input)), input));
    compareReads(whole, split, "plain packets");
    for (const p of whole.payloads) {
      if (p.length < 1) throw new Finding("an empty payload was returned");
      const again = readAll(new PacketReader(plainOpener()), [plainStream([p])]);
      if (again.error !== undefined || again.payloads.length !== 1 || !sameBytes(again.payloads[0] as Uint8Array, p))
        throw new Finding(`a payload of ${p.length} bytes does not survive re-framing: ${errorText(again.error)}`);
    }
    if (whole.error !== undefined) throw whole.error;
  },
  quick: 500,
};

// ---- packet framing, with a real cipher and fixed keys -----------------------------------------

interface CipherConfig {
  cipher: CipherAlgorithm;
  mac: string | undefined;
}

const CIPHER_CONFIGS: CipherConfig[] = (
  [
    ["chacha20-poly1305@openssh.com", undefined],
    ["aes128-gcm@openssh.com", undefined],
    ["aes256-gcm@openssh.com", undefined],
    ["aes128-ctr", "hmac-sha2-256"],
    ["aes192-ctr", "hmac-sha2-512-etm@openssh.com"],
    ["aes256-ctr", "hmac-sha2-256-etm@openssh.com"],
    ["aes256-ctr", "hmac-sha1"],
    ["aes128-ctr", "hmac-sha1-etm@openssh.com"],
  ] as const
).map(([c, mac]) => ({ cipher: CIPHERS.get(c) as CipherAlgorithm, mac }));

let nativeCache: CryptoProvider | undefined;
/** The runtime's accelerated provider (node:crypto where its known answers match noble's). */
export function accelerated(): CryptoProvider {
  nativeCache ??= createNativeProvider(nobleProvider).provider;
  return nativeCache;
}

function directionKeys(cfg: CipherConfig) {
  const mac = cfg.mac ? MACS.get(cfg.mac) : undefined;
  return {
    key: pattern(cfg.cipher.keyLength, 0x21),
    iv: pattern(cfg.cipher.ivLength, 0x42),
    ...(mac ? { mac: { algorithm: mac, key: pattern(mac.keyLength, 0x63) } } : {}),
  };
}

function opener(configByte: number): PacketOpener {
  const cfg = CIPHER_CONFIGS[configByte % CIPHER_CONFIGS.length] as CipherConfig;
  const provider = (configByte >> 3) & 1 ? accelerated() : nobleProvider;
  return cfg.cipher.createOpener(directionKeys(cfg), provider);
}

/** Payloads sealed at each sequence number per cipher: the only ones that may ever open. */
const sealedAt: Map<string, Set<string>>[] = CIPHER_CONFIGS.map(() => new Map());

function sealedStream(cfgIndex: number, payloads: readonly Uint8Array[]): Uint8Array {
  const cfg = CIPHER_CONFIGS[cfgIndex] as CipherConfig;
  const w = new PacketWriter(cfg.cipher.createSealer(directionKeys(cfg), nobleProvider), fixedRandom(12));
  const known = sealedAt[cfgIndex] as Map<string, Set<string>>;
  return concatBytes(
    ...payloads.map((p, seq) => {
      const set = known.get(String(seq)) ?? new Set<string>();
      set.add(hex(p));
      known.set(String(seq), set);
      return w.frame(p);
    }),
  );
}

let cipherSeeds: Uint8Array[] | undefined;

export const packetCipher: FuzzTarget = {
  name: "packet-cipher",
  describe:
    "PacketReader after NEWKEYS with every cipher (chacha20-poly1305, AES-GCM, AES-CTR with HMAC and -etm HMAC) keyed with fixed keys, noble and the runtime's accelerated provider; the input is a config byte then the encrypted stream, so mutations hit the bytes after encryption (length decryption, MAC and AEAD failure paths); refusals: SshError BAD_PACKET / MAC_ERROR; invariants: chunking changes nothing, nothing opens that was not sealed at that sequence number",
  maxLength: 70_000,
  seeds() {
    if (!cipherSeeds) {
      cipherSeeds = [];
      for (let i = 0; i < CIPHER_CONFIGS.length; i++) {
        for (const provider of [0, 1]) {
          const config = Uint8Array.of(i | (provider << 3));
          cipherSeeds.push(concatBytes(config, sealedStream(i, [samplePayloads[0] as Uint8Array])));
          cipherSeeds.push(concatBytes(config, sealedStream(i, samplePayloads.slice(1, 5))));
        }
      }
    }
    return cipherSeeds;
  },
  accepts: sshErrorWith("BAD_PACKET", "MAC_ERROR"),
  run(input) {
    if (!cipherSeeds) this.seeds(); // records what was sealed at each sequence number
    if (input.length === 0) return;
    const config = input[0] as number;
    const wire = input.subarray(1);
    const a = opener(config);
    const b = opener(config);
    const whole = readAll(new PacketReader(a), [wire]);
    const split = readAll(new PacketReader(b), chunks(new Rng(hashBytes(input)), wire));
    a.dispose();
    b.dispose();
    compareReads(whole, split, "encrypted packets");
    const known = sealedAt[config % CIPHER_CONFIGS.length] as Map<string, Set<string>>;
    whole.payloads.forEach((p, seq) => {
      if (!known.get(String(seq))?.has(hex(p)))
        throw new Finding(`a ${p.length}-byte payload opened at sequence number ${seq}, but no such packet was sealed`);
    });
    if (whole.error !== undefined) throw whole.error;
  },
  quick: 500,
};

// ---- version line --------------------------------------------------------------------------------

function readVersion(allowPreamble: boolean, pieces: readonly Uint8Array[]) {
  const r = new VersionReader(allowPreamble);
  try {
    for (let i = 0; i < pieces.length; i++) {
      const got = r.push(pieces[i] as Uint8Array);
      if (got) return { got: { version: got.version, rest: concatBytes(got.rest, ...pieces.slice(i + 1)) }, r };
    }
    return { got: undefined, r };
  } catch (error) {
    return { error, r };
  }
}

/** Bytes as ISO-8859-1 characters, one to one (TextDecoder's "latin1" is windows-1252 on some runtimes). */
const latin1 = { decode: (b: Uint8Array) => Array.from(b, (c) => String.fromCharCode(c)).join("") };
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

export const version: FuzzTarget = {
  name: "version",
  describe:
    "VersionReader (RFC 4253 §4.2) as client (lines before the version allowed) and server, at once and in chunks; refusals: SshError BAD_VERSION; invariants: chunking changes nothing, the line is at most 255 bytes with CR LF, starts SSH-2.0 / SSH-1.99, carries no CR, LF or NUL, the rest is exactly what followed it, pre-version lines carry no control characters",
  maxLength: 20_000,
  seeds: () =>
    [
      "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
      "SSH-2.0-tunnel_0.1\r\n\x00\x00\x00\x0c\x0a\x15",
      "SSH-1.99-Cisco-1.25\n",
      "hello there\r\nanother line\r\nSSH-2.0-x y z\r\nrest",
      "SSH-2.0-a\r",
      `${"x".repeat(300)}\r\nSSH-2.0-long\r\n`,
      `SSH-2.0-${"v".repeat(240)}\r\n`,
    ].map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0))),
  accepts: sshErrorWith("BAD_VERSION"),
  run(input) {
    let refusal: unknown;
    for (const allow of [true, false]) {
      const whole = readVersion(allow, [input]);
      const split = readVersion(allow, chunks(new Rng(hashBytes(input)), input));
      const a = "error" in whole ? errorText(whole.error) : whole.got?.version.line;
      const b = "error" in split ? errorText(split.error) : split.got?.version.line;
      if (a !== b) throw new Finding(`version reader (preamble ${allow}): at once "${a}", in chunks "${b}"`);
      if ("error" in whole) {
        if (!(whole.error instanceof SshError)) throw whole.error;
        refusal ??= whole.error;
        continue;
      }
      const got = whole.got;
      if (!got) continue;
      if (!split.got || !sameBytes(got.rest, split.got.rest))
        throw new Finding("the bytes after the version line differ when chunked");
      const line = got.version.line;
      if (!/^SSH-(2\.0|1\.99)-/.test(line)) throw new Finding(`accepted identification line ${JSON.stringify(line)}`);
      if (/[\r\n\0]/.test(line))
        throw new Finding(`identification line keeps a CR, LF or NUL: ${JSON.stringify(line)}`);
      if (line.length + 1 > MAX_VERSION_LINE) throw new Finding(`identification line of ${line.length} bytes accepted`);
      const again = parseVersionLine(line);
      if (again.softwareVersion !== got.version.softwareVersion) throw new Finding("parseVersionLine disagrees");
      // What follows the line's LF is exactly the rest of the input.
      const restAt = input.length - got.rest.length;
      if (!sameBytes(input.subarray(restAt), got.rest) || input[restAt - 1] !== 0x0a)
        throw new Finding("the bytes handed on are not exactly those after the line's LF");
      if (!latin1.decode(input.subarray(0, restAt)).includes(line))
        throw new Finding("the accepted line is not in the input");
      for (const l of whole.r.preamble) {
        if (CONTROL.test(l)) throw new Finding(`a pre-version line keeps a control character: ${JSON.stringify(l)}`);
      }
    }
    if (refusal !== undefined) throw refusal;
  },
  quick: 2000,
};

// ---- KEXINIT ---------------------------------------------------------------------------------------

function ourKexInit(): KexInit {
  return decodeKexInit(kexInitPayload);
}

const PSEUDO = /^(ext-info-[cs]|kex-strict-[cs]-v00@openssh\.com)$/;

function checkNegotiated(client: KexInit, server: KexInit, role: "client" | "server"): void {
  let n: ReturnType<typeof negotiate>;
  try {
    n = negotiate(client, server, role, (c) => CIPHERS.get(c)?.aead === true);
  } catch (err) {
    if (err instanceof SshError && err.code === "NO_COMMON_ALGORITHM") return;
    throw err;
  }
  const lists: [string, string[], string[]][] = [
    [n.kex, client.kex, server.kex],
    [n.hostKey, client.hostKey, server.hostKey],
    [n.cipherC2S, client.cipherC2S, server.cipherC2S],
    [n.cipherS2C, client.cipherS2C, server.cipherS2C],
    [n.compressionC2S, client.compressionC2S, server.compressionC2S],
    [n.compressionS2C, client.compressionS2C, server.compressionS2C],
  ];
  if (n.macC2S !== "implicit") lists.push([n.macC2S, client.macC2S, server.macC2S]);
  if (n.macS2C !== "implicit") lists.push([n.macS2C, client.macS2C, server.macS2C]);
  for (const [name, c, s] of lists) {
    if (!c.includes(name) || !s.includes(name) || PSEUDO.test(name))
      throw new Finding(`negotiated "${name}", which is not offered by both sides or is a pseudo-algorithm`);
    // RFC 4253 §7.1: the first on the client's list that the server also has.
    const first = c.find((x) => !PSEUDO.test(x) && s.includes(x));
    if (first !== name) throw new Finding(`negotiated "${name}", but the client's first common choice is "${first}"`);
  }
  guessWasRight(client, server, n);
}

export const kexinit: FuzzTarget = {
  name: "kexinit",
  describe:
    "decodeKexInit (RFC 4253 §7.1) on a message-20 payload, then negotiation against our own KEXINIT in both roles; refusals: SshError PROTOCOL_ERROR (decoding) or NO_COMMON_ALGORITHM; invariants: re-encoding the decoded message gives the input back (boolean and reserved field normalised), each negotiated name is offered by both sides, is the client's first common choice and never a pseudo-algorithm",
  maxLength: 8192,
  seeds: () => [
    kexInitPayload,
    encodeKexInit({ ...ourKexInit(), kex: ["curve25519-sha256"], firstKexPacketFollows: true }),
    encodeKexInit({ ...ourKexInit(), cipherC2S: ["aes128-ctr"], macC2S: ["hmac-sha2-256"], languagesC2S: ["en"] }),
    encodeKexInit({ ...ourKexInit(), hostKey: [], cipherS2C: ["unknown@x"] }),
  ],
  accepts: sshErrorWith("PROTOCOL_ERROR", "NO_COMMON_ALGORITHM"),
  run(input) {
    const payload = input.length > 0 ? input.slice() : Uint8Array.of(0);
    // The transport hands decodeKexInit only message 20 (a caller's other type is a TypeError by contract).
    payload[0] = MSG.KEXINIT;
    const k = decodeKexInit(payload);
    const again = encodeKexInit(k);
    const normalised = payload.slice();
    const flagAt = normalised.length - 5;
    normalised[flagAt] = normalised[flagAt] === 0 ? 0 : 1;
    normalised.fill(0, normalised.length - 4);
    if (!sameBytes(again, normalised)) throw new Finding("re-encoding a decoded KEXINIT does not give it back");
    const ours = ourKexInit();
    checkNegotiated(ours, k, "client");
    checkNegotiated(k, ours, "server");
  },
  quick: 2000,
};

// ---- key-exchange values -----------------------------------------------------------------------

interface KexCase {
  name: string;
  role: "client" | "server";
  /** Value field contents (mpint contents for DH, string contents otherwise), or a GEX message body. */
  valid(): Uint8Array;
  /** A shared secret to check, or undefined when the case checked its own invariant. */
  run(value: Uint8Array): Uint8Array | bigint | undefined;
  /** Codes this case may refuse with besides KEX_FAILED (a whole message is parsed, not a value). */
  alsoAccepts?: SshErrorCode;
}

const kexCrypto = fuzzCrypto(nobleProvider, 0x4e5);
const kexClients = new Map<string, KexClient>();

const oneRoundKex = (name: string) => KEX_ALGORITHMS.get(name) as NonNullable<ReturnType<typeof KEX_ALGORITHMS.get>>;

function kexClient(name: string): KexClient {
  let c = kexClients.get(name);
  if (!c) {
    c = oneRoundKex(name).createClient(kexCrypto.provider, kexCrypto.random);
    kexClients.set(name, c);
  }
  return c;
}

function kexServerRespond(name: string, clientValue: Uint8Array) {
  kexCrypto.reset();
  const s = oneRoundKex(name).createServer(kexCrypto.provider, kexCrypto.random);
  try {
    return s.respond(clientValue);
  } finally {
    s.dispose();
  }
}

const KEX_CASES: KexCase[] = [];
for (const name of [
  "curve25519-sha256",
  "ecdh-sha2-nistp256",
  "ecdh-sha2-nistp384",
  "ecdh-sha2-nistp521",
  "diffie-hellman-group14-sha256",
  "mlkem768x25519-sha256",
  "sntrup761x25519-sha512",
]) {
  const alg = oneRoundKex(name);
  KEX_CASES.push(
    {
      name,
      role: "client",
      // A valid server value answers our client's own value (for DH and ECDH any public value would do).
      valid: () => kexServerRespond(name, kexClient(name).clientValue).serverValue,
      run: (v) => kexClient(name).finish(v),
    },
    {
      name,
      role: "server",
      valid: () => alg.createClient(kexCrypto.provider, kexCrypto.random).clientValue,
      run: (v) => kexServerRespond(name, v).sharedSecret,
    },
  );
}
// group16's arithmetic is 4096-bit (tens of ms per value): its decoder, the length and range check, is fuzzed alone.
for (const [role, p] of [
  ["client", MODP_4096],
  ["server", MODP_2048],
] as const) {
  KEX_CASES.push({
    name: `dh-value-check-${p === MODP_4096 ? 4096 : 2048}`,
    role,
    valid: () =>
      kexClient(p === MODP_4096 ? "diffie-hellman-group16-sha512" : "diffie-hellman-group14-sha256").clientValue,
    run: (v) => checkPeerValue(v, p, role === "client" ? "server" : "client"),
  });
}
// Group exchange (RFC 4419 §3): the client reads the server's group, the server the client's
// request; e and f then go through the same check as the fixed groups' values above.
const GEX_SEED_GROUP = BUILT_IN_GROUPS.find((g) => g.bits === 3072) as (typeof BUILT_IN_GROUPS)[number];
KEX_CASES.push(
  {
    name: "gex-group",
    role: "client",
    valid: () => new Writer(1024).mpint(GEX_SEED_GROUP.p).mpint(GEX_SEED_GROUP.g).bytes(),
    run: (v) => {
      const group = readGexGroup(concatBytes(Uint8Array.of(MSG.KEX_DH_GEX_GROUP), v), GEX_MIN_BITS, GEX_MAX_BITS);
      if (group.bits < GEX_MIN_BITS || group.bits > GEX_MAX_BITS || group.g <= 1n || group.g >= group.p - 1n)
        throw new Finding(`a ${group.bits}-bit group with g of ${group.g.toString(2).length} bits was accepted`);
      return undefined;
    },
    alsoAccepts: "PROTOCOL_ERROR",
  },
  {
    name: "gex-request",
    role: "server",
    valid: () => new Writer(12).uint32(GEX_MIN_BITS).uint32(3072).uint32(GEX_MAX_BITS).bytes(),
    run: (v) => {
      const { min, n, max } = readGexRequest(concatBytes(Uint8Array.of(MSG.KEX_DH_GEX_REQUEST), v));
      const group = chooseGroup(BUILT_IN_GROUPS, min, n, max, kexCrypto.random);
      if (group.bits < Math.max(min, GEX_MIN_BITS) || group.bits > Math.min(max, GEX_MAX_BITS))
        throw new Finding(`request ${min}/${n}/${max} got a ${group.bits}-bit group`);
      return undefined;
    },
    alsoAccepts: "PROTOCOL_ERROR",
  },
);

let kexCase: KexCase | undefined;

export const kexValue: FuzzTarget = {
  name: "kex-value",
  describe:
    "the peer's key-exchange value in kex-curve25519.ts, kex-ecdh.ts, kex-dh.ts and kex-hybrid.ts (ML-KEM-768 and sntrup761 with X25519; client finish, server respond; group16 through its length and range check alone), and group exchange's GROUP and REQUEST messages (kex-gex.ts): the input is a case byte then the value; refusals: SshError KEX_FAILED (PROTOCOL_ERROR for a GEX message that does not parse); invariant: a shared secret is a well-formed mpint or string, a chosen group within the bounds asked",
  maxLength: 2400,
  seeds: () =>
    KEX_CASES.map((c, i) => {
      kexCrypto.reset();
      return concatBytes(Uint8Array.of(i), c.valid());
    }),
  accepts: (err) =>
    sshErrorWith("KEX_FAILED")(err) || (kexCase?.alsoAccepts !== undefined && sshErrorWith(kexCase.alsoAccepts)(err)),
  run(input) {
    if (input.length === 0) return;
    const c = KEX_CASES[(input[0] as number) % KEX_CASES.length] as KexCase;
    kexCase = c;
    const out = c.run(input.slice(1));
    if (out instanceof Uint8Array) {
      // Hybrids encode K as a string (kex-hybrid.ts), the others as an mpint.
      const r = new Reader(out);
      if (c.name.includes("x25519")) r.string("shared secret");
      else r.mpint("shared secret", 1024);
      r.done("shared secret");
    } else if (typeof out === "bigint" && out <= 1n) throw new Finding(`a DH value ${out} passed the range check`);
  },
  budgetMs: 3000,
  quick: 200,
};
