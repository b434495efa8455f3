/**
 * Encrypted private key files (issue 15, item 3): openssh-key-v1 with bcrypt-pbkdf under every
 * cipher ssh-keygen writes, PKCS#8 PBES2 and RFC 1421 `DEK-Info` PEM — keys made by
 * `ssh-keygen -N` here, and by OpenSSL (committed in vectors/encrypted-keys-openssl.json, so
 * the tests do not need the openssl program). Then the bad inputs: a wrong passphrase is
 * "incorrect passphrase for NAME"; a truncated or unknown-cipher file is one line of
 * KEY_FORMAT, found before any passphrase is asked for.
 */
import { execFileSync } from "node:child_process";
import * as nodeCrypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SIGNATURE_ALGORITHMS } from "../src/algorithms/hostkey.ts";
import { nobleProvider as p } from "../src/crypto/noble.ts";
import { SshError } from "../src/errors.ts";
import { type PrivateKeyOptions, parsePrivateKey } from "../src/keys/private-key.ts";
import { parsePublicKeyLine } from "../src/keys/public-key.ts";
import type { PrivateKey } from "../src/keys/types.ts";
import { decodeBase64, encodeBase64 } from "../src/wire/base64.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-enc-keys-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const PASS = "correct horse battery";

const openssl = JSON.parse(
  fs.readFileSync(new URL("./vectors/encrypted-keys-openssl.json", import.meta.url), "utf8"),
) as { passphrase: string; keys: Record<string, { pem: string; publicKey: string }> };

/** A key made by ssh-keygen with a passphrase; returns the file's text and the .pub line. */
function keygen(name: string, args: string[], passphrase = PASS): { text: string; pub: string; file: string } {
  const file = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-N", passphrase, "-C", `comment ${name}`, "-f", file, ...args]);
  return { text: fs.readFileSync(file, "utf8"), pub: fs.readFileSync(`${file}.pub`, "utf8"), file };
}

/** The SshError `fn` throws. */
function failure(fn: () => unknown): SshError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SshError);
    expect((err as Error).message).not.toMatch(/\n/);
    return err as SshError;
  }
  throw new Error("expected a failure");
}

function expectWorking(key: PrivateKey, pubLine: string): void {
  const pub = parsePublicKeyLine(pubLine);
  expect(key.publicKey.blob).toEqual(pub.blob);
  const data = nodeCrypto.randomBytes(64);
  const alg = key.signatureAlgorithms[0] as string;
  expect(SIGNATURE_ALGORITHMS.get(alg)?.verify(p, pub.blob, data, key.sign(data, alg))).toBe(true);
}

const parse = (text: string, o: PrivateKeyOptions = {}) => parsePrivateKey(text, p, o);

describe("openssh-key-v1 encrypted by ssh-keygen -N (aes256-ctr, bcrypt, 16 rounds)", () => {
  const made: [string, string[]][] = [
    ["ed25519", ["-t", "ed25519"]],
    ["ecdsa", ["-t", "ecdsa", "-b", "384"]],
    ["rsa", ["-t", "rsa", "-b", "2048"]],
  ];
  it.each(made)("%s: opens with its passphrase, matches its .pub and signs", (name, args) => {
    const k = keygen(`default-${name}`, args);
    expect(k.text).toContain("BEGIN OPENSSH PRIVATE KEY");
    expectWorking(parse(k.text, { passphrase: PASS }), k.pub);
  });

  it("without a passphrase: KEY_ENCRYPTED naming cipher and KDF", () => {
    const k = keygen("nopass", ["-t", "ed25519"]);
    const err = failure(() => parse(k.text, { name: k.file }));
    expect(err.code).toBe("KEY_ENCRYPTED");
    expect(err.message).toBe(`${k.file} is encrypted (aes256-ctr, bcrypt); a passphrase is needed to use it`);
    expect(failure(() => parse(k.text, { passphrase: "" })).code).toBe("KEY_ENCRYPTED");
  });

  it("a wrong passphrase: KEY_ENCRYPTED, incorrect passphrase for NAME", () => {
    const k = keygen("wrong", ["-t", "ed25519"]);
    const err = failure(() => parse(k.text, { passphrase: "not it", name: k.file }));
    expect(err.code).toBe("KEY_ENCRYPTED");
    expect(err.message).toBe(`incorrect passphrase for ${k.file}`);
  });

  it("a passphrase beyond ASCII is taken as UTF-8, as typed", () => {
    const k = keygen("utf8", ["-t", "ed25519"], "pässwörd ☃");
    expectWorking(parse(k.text, { passphrase: "pässwörd ☃" }), k.pub);
    expectWorking(parse(k.text, { passphrase: new TextEncoder().encode("pässwörd ☃") }), k.pub);
    expect(failure(() => parse(k.text, { passphrase: "passwort ☃" })).message).toMatch(/^incorrect passphrase/);
  });
});

describe("every cipher ssh-keygen -Z writes", () => {
  const base = keygen("base", ["-t", "ed25519"], "");
  const ciphers = [
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
    "aes128-cbc",
    "aes192-cbc",
    "aes256-cbc",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "3des-cbc",
  ];
  /** The base key re-encrypted by ssh-keygen -p with this cipher (2 bcrypt rounds: fast). */
  const reencrypted = (cipher: string): string => {
    const file = path.join(dir, `z-${cipher}`);
    fs.copyFileSync(base.file, file);
    fs.chmodSync(file, 0o600);
    execFileSync("ssh-keygen", ["-q", "-p", "-P", "", "-N", PASS, "-a", "2", "-Z", cipher, "-f", file]);
    return fs.readFileSync(file, "utf8");
  };
  it.each(ciphers)("%s: opens, and a wrong passphrase is refused as incorrect", (cipher) => {
    const text = reencrypted(cipher);
    const key = parse(text, { passphrase: PASS });
    expectWorking(key, base.pub);
    expect(failure(() => parse(text)).message).toContain(`(${cipher}, bcrypt)`);
    expect(failure(() => parse(text, { passphrase: `${PASS}!`, name: "k" })).message).toBe(
      "incorrect passphrase for k",
    );
  });
});

describe("PEM and PKCS#8 encrypted by ssh-keygen -m PEM / -m PKCS8", () => {
  const made: [string, string[], RegExp][] = [
    ["rsa PEM", ["-t", "rsa", "-b", "2048", "-m", "PEM"], /Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,/],
    ["ecdsa PEM", ["-t", "ecdsa", "-b", "256", "-m", "PEM"], /Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,/],
    ["rsa PKCS#8", ["-t", "rsa", "-b", "2048", "-m", "PKCS8"], /BEGIN ENCRYPTED PRIVATE KEY/],
    ["ecdsa PKCS#8", ["-t", "ecdsa", "-b", "521", "-m", "PKCS8"], /BEGIN ENCRYPTED PRIVATE KEY/],
  ];
  it.each(made)("%s: opens, matches its .pub; wrong and missing passphrases refused", (name, args, shape) => {
    const k = keygen(name.replace(/[ #]/g, "-"), args);
    expect(k.text).toMatch(shape);
    expectWorking(parse(k.text, { passphrase: PASS }), k.pub);
    const none = failure(() => parse(k.text));
    expect(none.code).toBe("KEY_ENCRYPTED");
    expect(none.message).toMatch(
      /^the key is encrypted \((PEM AES-128-CBC|PKCS#8 PBES2, PBKDF2-hmacWithSHA256, 2048 iterations, aes128-CBC)\)/,
    );
    const wrong = failure(() => parse(k.text, { passphrase: "wrong passphrase", name: k.file }));
    expect(wrong.code).toBe("KEY_ENCRYPTED");
    expect(wrong.message).toBe(`incorrect passphrase for ${k.file}`);
  });
});

describe("encrypted keys written by OpenSSL (committed fixtures)", () => {
  const keys = openssl.keys;
  const opens = [
    "pem-ec-aes-256-cbc",
    "pem-ec-des-ede3-cbc",
    "pem-rsa-aes-192-cbc",
    "pkcs8-ed25519-pbkdf2-sha256-aes256-cbc",
    "pkcs8-pbkdf2-sha1-aes256-cbc",
    "pkcs8-pbkdf2-sha256-des-ede3-cbc",
    "pkcs8-pbkdf2-sha384-aes128-cbc",
    "pkcs8-pbkdf2-sha512-aes192-cbc",
    "pkcs8-pkcs12-sha1-2des",
    "pkcs8-pkcs12-sha1-3des",
    "pkcs8-scrypt-aes256-cbc",
  ];
  it.each(opens)("%s opens and matches the public key ssh-keygen -y printed", (name) => {
    const k = keys[name] as { pem: string; publicKey: string };
    expectWorking(parse(k.pem, { passphrase: openssl.passphrase }), k.publicKey);
    expect(failure(() => parse(k.pem, { passphrase: "wrong", name })).message).toBe(`incorrect passphrase for ${name}`);
  });

  // OpenSSL 3 itself reads these only with its legacy provider (ssh -y here refuses them).
  const refused: [string, RegExp][] = [
    [
      "pkcs8-pbes1-sha1-des",
      /^PKCS#8 encryption PBES1 pbeWithSHA1AndDES-CBC \(1\.2\.840\.113549\.1\.5\.10\) is not supported; expected PBES2/,
    ],
    [
      "pkcs8-pkcs12-sha1-rc4-128",
      /^PKCS#8 encryption PKCS#12 pbeWithSHAAnd128BitRC4 \(1\.2\.840\.113549\.1\.12\.1\.1\) is not supported/,
    ],
  ];
  it.each(refused)("%s: one line naming the scheme, with or without a passphrase", (name, message) => {
    const k = keys[name] as { pem: string };
    for (const o of [{}, { passphrase: openssl.passphrase }]) {
      const err = failure(() => parse(k.pem, o));
      expect(err.code).toBe("KEY_FORMAT");
      expect(err.message).toMatch(message);
    }
  });
});

/** openssh-key-v1 container fields, to rebuild a file with one of them changed. */
interface Container {
  cipher: string;
  kdf: string;
  kdfOptions: Uint8Array;
  pub: Uint8Array;
  section: Uint8Array;
  tail: Uint8Array;
}
const MAGIC = new TextEncoder().encode("openssh-key-v1\0");
const pemBody = (text: string) =>
  decodeBase64(
    text
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"))
      .join(""),
  );
function unpack(text: string): Container {
  const r = new Reader(pemBody(text), MAGIC.length);
  const cipher = r.ascii();
  const kdf = r.ascii();
  const kdfOptions = r.string();
  r.uint32();
  const pub = r.string();
  const section = r.string();
  return { cipher, kdf, kdfOptions, pub, section, tail: r.rest() };
}
function pack(c: Container): string {
  const w = new Writer(1024)
    .raw(MAGIC)
    .string(c.cipher)
    .string(c.kdf)
    .string(c.kdfOptions)
    .uint32(1)
    .string(c.pub)
    .string(c.section)
    .raw(c.tail);
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${encodeBase64(w.bytes())}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
const bcryptOptions = (salt: Uint8Array, rounds: number) => new Writer(64).string(salt).uint32(rounds).bytes();

describe("bad encrypted inputs: one line each, and no passphrase asked for a damaged file", () => {
  const ctrKey = keygen("bad-ctr", ["-t", "ed25519", "-a", "2"]);
  const gcm = path.join(dir, "bad-gcm");
  fs.copyFileSync(ctrKey.file, gcm);
  execFileSync("ssh-keygen", [
    "-q",
    "-p",
    "-P",
    PASS,
    "-N",
    PASS,
    "-a",
    "2",
    "-Z",
    "aes256-gcm@openssh.com",
    "-f",
    gcm,
  ]);
  const gcmText = fs.readFileSync(gcm, "utf8");
  const ctr = unpack(ctrKey.text);
  const aead = unpack(gcmText);
  const pkcs8 = keygen("bad-pkcs8", ["-t", "ecdsa", "-b", "256", "-m", "PKCS8"]).text;
  const pem = keygen("bad-pem", ["-t", "ecdsa", "-b", "256", "-m", "PEM"]).text;
  const pemReplace = (from: RegExp, to: string) => pem.replace(from, to);
  const pkcs8Der = pemBody(pkcs8);
  const wrapPkcs8 = (der: Uint8Array) =>
    `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${encodeBase64(der)}\n-----END ENCRYPTED PRIVATE KEY-----\n`;

  const cases: [string, () => string, string, RegExp][] = [
    [
      "openssh: encrypted section truncated to a part block",
      () => pack({ ...ctr, section: ctr.section.subarray(0, ctr.section.length - 3) }),
      "KEY_FORMAT",
      /^encrypted private section of \d+ bytes is not a whole number of 16-byte blocks \(truncated\?\)$/,
    ],
    [
      "openssh: file cut inside the encrypted section",
      () => {
        const t = pemBody(ctrKey.text);
        return `-----BEGIN OPENSSH PRIVATE KEY-----\n${encodeBase64(t.subarray(0, t.length - 40))}\n-----END OPENSSH PRIVATE KEY-----\n`;
      },
      "KEY_FORMAT",
      /^malformed openssh-key-v1 key: truncated private section/,
    ],
    [
      "openssh: AEAD tag missing",
      () => pack({ ...aead, tail: new Uint8Array(0) }),
      "KEY_FORMAT",
      /^malformed openssh-key-v1 key: truncated authentication tag/,
    ],
    [
      "openssh: unknown cipher",
      () => pack({ ...ctr, cipher: "twofish256-cbc" }),
      "KEY_FORMAT",
      /^openssh key cipher "twofish256-cbc" is not supported; expected one of /,
    ],
    [
      "openssh: unknown KDF",
      () => pack({ ...ctr, kdf: "argon2id" }),
      "KEY_FORMAT",
      /^openssh key KDF "argon2id" is not supported; expected bcrypt$/,
    ],
    [
      "openssh: a cipher and KDF none",
      () => pack({ ...ctr, kdf: "none", kdfOptions: new Uint8Array(0) }),
      "KEY_FORMAT",
      /^openssh key names cipher aes256-ctr but KDF none$/,
    ],
    [
      "openssh: cipher none and a KDF",
      () => pack({ ...ctr, cipher: "none" }),
      "KEY_FORMAT",
      /^openssh key names KDF "bcrypt" but cipher none$/,
    ],
    [
      "openssh: bcrypt rounds 0",
      () => pack({ ...ctr, kdfOptions: bcryptOptions(new Uint8Array(16), 0) }),
      "KEY_FORMAT",
      /^bcrypt rounds 0 out of range; expected 1 to 100000$/,
    ],
    [
      "openssh: bcrypt rounds 2³² − 1",
      () => pack({ ...ctr, kdfOptions: bcryptOptions(new Uint8Array(16), 0xffffffff) }),
      "KEY_FORMAT",
      /^bcrypt rounds 4294967295 out of range/,
    ],
    [
      "openssh: kdf options truncated",
      () => pack({ ...ctr, kdfOptions: ctr.kdfOptions.subarray(0, 10) }),
      "KEY_FORMAT",
      /^malformed openssh-key-v1 key: truncated bcrypt salt/,
    ],
    [
      "PEM: unknown DEK-Info cipher",
      () => pemReplace(/DEK-Info: AES-128-CBC,/, "DEK-Info: BF-CBC,"),
      "KEY_FORMAT",
      /^PEM encryption BF-CBC is not supported; expected one of AES-128-CBC, AES-192-CBC, AES-256-CBC, DES-EDE3-CBC$/,
    ],
    [
      "PEM: malformed DEK-Info",
      () => pemReplace(/DEK-Info: AES-128-CBC,[0-9A-F]+/, "DEK-Info: AES-128-CBC"),
      "KEY_FORMAT",
      /^malformed DEK-Info header "AES-128-CBC"; expected <cipher>,<hex IV>$/,
    ],
    [
      "PEM: Proc-Type without DEK-Info",
      () => pemReplace(/DEK-Info: .*\n/, ""),
      "KEY_FORMAT",
      /^PEM Proc-Type 4,ENCRYPTED without a DEK-Info header$/,
    ],
    [
      "PEM: body cut to a part block",
      () =>
        pem.replace(
          /\n\n([\s\S]*?)\n-----END/,
          (_, b64: string) => `\n\n${encodeBase64(decodeBase64(b64.replace(/\s+/g, "")).subarray(0, 40))}\n-----END`,
        ),
      "KEY_FORMAT",
      /^encrypted key of \d+ bytes is not a whole number of 16-byte blocks \(truncated\?\)$/,
    ],
    [
      "PKCS#8: cut short",
      () => wrapPkcs8(pkcs8Der.subarray(0, pkcs8Der.length - 16)),
      "KEY_FORMAT",
      /^malformed DER: element of \d+ bytes overruns its container$/,
    ],
    [
      "PKCS#8: unknown PBKDF2 PRF",
      () => {
        // hmacWithSHA256 (…2.9) → …2.8, hmacWithSHA224.
        const der = pkcs8Der.slice();
        const at = findBytes(der, Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09));
        der[at + 9] = 0x08;
        return wrapPkcs8(der);
      },
      "KEY_FORMAT",
      /^PBKDF2 PRF 1\.2\.840\.113549\.2\.8 is not supported; expected hmacWithSHA1, /,
    ],
  ];
  it.each(cases)("%s → %s", (_name, make, code, message) => {
    const text = make();
    for (const o of [{}, { passphrase: PASS }]) {
      const err = failure(() => parse(text, o));
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
    }
  });

  it("openssh AEAD: a flipped tag bit is an incorrect passphrase (the tag cannot tell which)", () => {
    const tail = aead.tail.slice();
    tail[0] = (tail[0] as number) ^ 1;
    expect(failure(() => parse(pack({ ...aead, tail }), { passphrase: PASS, name: "k" })).message).toBe(
      "incorrect passphrase for k",
    );
    expectWorking(parse(gcmText, { passphrase: PASS }), ctrKey.pub);
  });
});

function findBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error("not found");
}
