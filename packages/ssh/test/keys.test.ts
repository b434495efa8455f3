import { execFileSync } from "node:child_process";
import * as nodeCrypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SIGNATURE_ALGORITHMS } from "../src/algorithms/hostkey.ts";
import { nobleProvider as p } from "../src/crypto/noble.ts";
import { SshError } from "../src/errors.ts";
import { fingerprintSha256 } from "../src/keys/fingerprint.ts";
import { encodeEd25519PrivateKey } from "../src/keys/openssh-private-write.ts";
import { parsePrivateKey } from "../src/keys/private-key.ts";
import {
  formatPublicKeyLine,
  parseAuthorizedKeysLine,
  parsePublicKeyBlob,
  parsePublicKeyLine,
} from "../src/keys/public-key.ts";
import { decodeBase64, encodeBase64 } from "../src/wire/base64.ts";
import { Writer } from "../src/wire/writer.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-keys-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function keygen(name: string, args: string[]): { priv: string; pub: string; fingerprint: string } {
  const file = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-N", "", "-C", `comment ${name}`, "-f", file, ...args]);
  const fingerprint = (
    execFileSync("ssh-keygen", ["-l", "-f", `${file}.pub`])
      .toString()
      .split(" ")[1] ?? ""
  ).trim();
  return { priv: fs.readFileSync(file, "utf8"), pub: fs.readFileSync(`${file}.pub`, "utf8"), fingerprint };
}

const made: [string, string[]][] = [
  ["ed25519", ["-t", "ed25519"]],
  ["ecdsa256", ["-t", "ecdsa", "-b", "256"]],
  ["ecdsa384", ["-t", "ecdsa", "-b", "384"]],
  ["ecdsa521", ["-t", "ecdsa", "-b", "521"]],
  ["rsa", ["-t", "rsa", "-b", "2048"]],
  ["rsa-pem", ["-t", "rsa", "-b", "2048", "-m", "PEM"]],
  ["ecdsa-pem", ["-t", "ecdsa", "-b", "384", "-m", "PEM"]],
  ["ecdsa-pkcs8", ["-t", "ecdsa", "-b", "256", "-m", "PKCS8"]],
  ["rsa-pkcs8", ["-t", "rsa", "-b", "2048", "-m", "PKCS8"]],
];

describe("keys made by ssh-keygen", () => {
  it.each(made)("%s: parses, matches the .pub and ssh-keygen's fingerprint, and signs verifiably", (name, args) => {
    const k = keygen(name, args);
    const key = parsePrivateKey(k.priv);
    const pub = parsePublicKeyLine(k.pub);
    expect(key.publicKey.blob).toEqual(pub.blob);
    expect(fingerprintSha256(p, key.publicKey.blob)).toBe(k.fingerprint);
    const data = nodeCrypto.randomBytes(100);
    for (const alg of key.signatureAlgorithms) {
      const sig = key.sign(data, alg);
      expect(SIGNATURE_ALGORITHMS.get(alg)?.verify(p, pub.blob, data, sig)).toBe(true);
      expect(SIGNATURE_ALGORITHMS.get(alg)?.verify(p, pub.blob, Uint8Array.from([...data, 1]), sig)).toBe(false);
    }
    if (key.type === "ssh-rsa") expect(key.signatureAlgorithms).toEqual(["rsa-sha2-512", "rsa-sha2-256"]);
  });

  it("PKCS#8 Ed25519 from node:crypto parses to the same public key", () => {
    const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync("ed25519");
    const key = parsePrivateKey(privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    const raw = publicKey.export({ format: "jwk" }).x as string;
    expect(key.publicKey.blob.subarray(19)).toEqual(Uint8Array.from(Buffer.from(raw, "base64url")));
  });

  it("an encrypted key gets KEY_ENCRYPTED with a one-line message", () => {
    const file = path.join(dir, "enc");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret-pass", "-f", file]);
    let err: unknown;
    try {
      parsePrivateKey(fs.readFileSync(file, "utf8"));
    } catch (e) {
      err = e;
    }
    expect((err as SshError).code).toBe("KEY_ENCRYPTED");
    expect((err as Error).message).toMatch(/encrypted \(aes256-ctr, bcrypt\)/);
    expect((err as Error).message).not.toMatch(/\n/);
  });

  it("an ed25519 key we write is read back by ssh-keygen", () => {
    const seed = nodeCrypto.randomBytes(32);
    const text = encodeEd25519PrivateKey(p, (n) => nodeCrypto.randomBytes(n), seed, "written by tunnel");
    const file = path.join(dir, "ours");
    fs.writeFileSync(file, text, { mode: 0o600 });
    const pub = execFileSync("ssh-keygen", ["-y", "-f", file]).toString().trim();
    expect(formatPublicKeyLine({ ...parsePrivateKey(text).publicKey, comment: "" })).toBe(
      pub.split(" ").slice(0, 2).join(" "),
    );
  });
});

describe("bad key inputs", () => {
  const ed = () => keygen(`bad-${Math.random()}`, ["-t", "ed25519"]).priv;
  const body = (text: string) =>
    decodeBase64(
      text
        .split("\n")
        .filter((l) => l && !l.startsWith("-----"))
        .join(""),
    );
  const wrap = (b: Uint8Array) =>
    `-----BEGIN OPENSSH PRIVATE KEY-----\n${encodeBase64(b)}\n-----END OPENSSH PRIVATE KEY-----\n`;
  const cases: [string, () => string, string][] = [
    ["no PEM block", () => "hello", "KEY_FORMAT"],
    ["unknown PEM label", () => "-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----", "KEY_FORMAT"],
    ["bad base64", () => "-----BEGIN OPENSSH PRIVATE KEY-----\n@@@@\n-----END OPENSSH PRIVATE KEY-----", "KEY_FORMAT"],
    [
      "wrong magic",
      () => wrap(Uint8Array.from([...new TextEncoder().encode("openssh-key-v2\0"), 0, 0, 0, 0])),
      "KEY_FORMAT",
    ],
    ["truncated body", () => wrap(body(ed()).subarray(0, 60)), "KEY_FORMAT"],
    [
      "check-int mismatch",
      () => {
        const b = body(ed());
        // The private section's first check-int follows the public key; flip a byte of it.
        const at = b.length - 0x90;
        b[at] = (b[at] as number) ^ 0xff;
        return wrap(b);
      },
      "KEY_FORMAT",
    ],
    ["trailing data", () => wrap(Uint8Array.from([...body(ed()), 1, 2, 3])), "KEY_FORMAT"],
    [
      "PEM encrypted with a 1-byte IV (damaged: no passphrase is asked for)",
      () =>
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----",
      "KEY_FORMAT",
    ],
    [
      "PKCS#8 encrypted, its body not DER (damaged: no passphrase is asked for)",
      () => "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
      "KEY_FORMAT",
    ],
    [
      "DER with an indefinite length",
      () => "-----BEGIN RSA PRIVATE KEY-----\nMIA=\n-----END RSA PRIVATE KEY-----",
      "KEY_FORMAT",
    ],
    [
      "DER element overrunning",
      () => "-----BEGIN EC PRIVATE KEY-----\nMAUCAQE=\n-----END EC PRIVATE KEY-----",
      "KEY_FORMAT",
    ],
  ];
  it.each(cases)("rejects %s", (_n, make, want) => {
    let err: unknown;
    try {
      parsePrivateKey(make());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SshError);
    expect((err as SshError).code).toBe(want);
  });

  const blobCases: [string, Uint8Array][] = [
    ["an empty blob", new Uint8Array(0)],
    ["an unknown type", new Writer().string("ssh-dss").string(new Uint8Array(4)).bytes()],
    ["a short ed25519 key", new Writer().string("ssh-ed25519").string(new Uint8Array(31)).bytes()],
    [
      "trailing bytes after an ed25519 key",
      new Writer().string("ssh-ed25519").string(new Uint8Array(32)).byte(0).bytes(),
    ],
    [
      "an ecdsa curve mismatch",
      new Writer().string("ecdsa-sha2-nistp256").string("nistp384").string(new Uint8Array(65)).bytes(),
    ],
    [
      "a compressed ecdsa point",
      new Writer().string("ecdsa-sha2-nistp256").string("nistp256").string(new Uint8Array(33).fill(2)).bytes(),
    ],
    [
      "a 512-bit RSA modulus",
      new Writer()
        .string("ssh-rsa")
        .mpint(65537n)
        .mpint((1n << 511n) + 1n)
        .bytes(),
    ],
    [
      "an even RSA exponent",
      new Writer()
        .string("ssh-rsa")
        .mpint(65536n)
        .mpint((1n << 2047n) + 1n)
        .bytes(),
    ],
  ];
  it.each(blobCases)("rejects a public key blob with %s", (_n, blob) => {
    expect(() => parsePublicKeyBlob(blob)).toThrow(SshError);
  });

  it("rejects .pub lines whose type disagrees with the blob, and bad base64", () => {
    const line = keygen("x", ["-t", "ed25519"]).pub;
    expect(() => parsePublicKeyLine(line.replace("ssh-ed25519", "ssh-rsa"))).toThrow(/says ssh-rsa/);
    expect(() => parsePublicKeyLine("ssh-ed25519 ***")).toThrow(/base64/);
    expect(() => parsePublicKeyLine("ssh-ed25519")).toThrow(SshError);
  });

  it("reads authorized_keys options, quoted commas included", () => {
    const line = keygen("y", ["-t", "ed25519"]).pub.trim();
    const got = parseAuthorizedKeysLine(`permitopen="127.0.0.1:5432",command="echo a,b",no-pty ${line}`);
    expect(got.options).toEqual(['permitopen="127.0.0.1:5432"', 'command="echo a,b"', "no-pty"]);
    expect(got.key.type).toBe("ssh-ed25519");
    expect(() => parseAuthorizedKeysLine(`command="unterminated ${line}`)).toThrow(/unterminated/);
  });
});

describe("base64 (RFC 4648)", () => {
  it("round-trips and matches Buffer", () => {
    for (let n = 0; n < 40; n++) {
      const b = nodeCrypto.randomBytes(n);
      expect(encodeBase64(b)).toBe(b.toString("base64"));
      expect(Buffer.from(decodeBase64(b.toString("base64")))).toEqual(b);
    }
  });
  it.each(["A", "AB=C", "A===", "ab$c", "AAAAA"])("rejects %j", (s) =>
    expect(() => decodeBase64(s)).toThrow(/invalid base64/),
  );
});
