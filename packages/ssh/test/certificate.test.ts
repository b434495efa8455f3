/**
 * OpenSSH certificates (PROTOCOL.certkeys): certificates made by the real ssh-keygen -s decode
 * and verify; certificates built here field by field pin each rule and each bad input.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SIGNATURE_ALGORITHMS } from "../src/algorithms/hostkey.ts";
import { nobleProvider as p } from "../src/crypto/noble.ts";
import { systemRandom } from "../src/crypto/provider.ts";
import {
  CERT_FOREVER,
  type CertificateType,
  certificateOptionValue,
  certificateProblem,
  certifiedKey,
  decodeCertificate,
  parseCertificate,
} from "../src/keys/certificate.ts";
import { generateEcdsa, generateEd25519 } from "../src/keys/generate.ts";
import { formatKnownHostsLine, lookupHostCertificate, parseKnownHosts } from "../src/keys/known-hosts.ts";
import { parsePrivateKey } from "../src/keys/private-key.ts";
import { formatPublicKeyLine, parsePublicKeyBlob, parsePublicKeyLine } from "../src/keys/public-key.ts";
import type { PrivateKey } from "../src/keys/types.ts";
import { encodeBase64 } from "../src/wire/base64.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-certs-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function keygen(name: string, type: string, bits?: number): string {
  const file = path.join(dir, name);
  const args = ["-q", "-t", type, "-N", "", "-C", name, "-f", file];
  if (bits) args.push("-b", String(bits));
  execFileSync("ssh-keygen", args, { stdio: "ignore" });
  return file;
}

/** ssh-keygen -s: the certificate line of `key` signed by `ca`. */
function sign(ca: string, key: string, args: string[]): string {
  execFileSync("ssh-keygen", ["-q", "-s", ca, ...args, `${key}.pub`], { stdio: "ignore" });
  return fs.readFileSync(`${key}-cert.pub`, "utf8");
}

interface Fields {
  type: CertificateType;
  keyFields: Uint8Array;
  role: number;
  keyId: string;
  principals: string[];
  validAfter: bigint;
  validBefore: bigint;
  critical: [string, Uint8Array][];
  extensions: [string, Uint8Array][];
  ca: PrivateKey;
  caBlob?: Uint8Array;
  sigAlg?: string;
  trailing?: Uint8Array;
}

const packed = (list: [string, Uint8Array][]) => {
  const w = new Writer(64);
  for (const [n, d] of list) w.string(n).string(d);
  return w.bytes();
};
const value = (v: string) => new Writer(32).string(v).bytes();

/** A certificate built field by field (PROTOCOL.certkeys), signed by `f.ca`. */
function build(f: Partial<Fields> & { subject: PrivateKey }): Uint8Array {
  const subjectFields = f.subject.publicKey.blob.subarray(4 + f.subject.type.length);
  const ca = f.ca ?? caKey;
  const w = new Writer(512)
    .string(f.type ?? (`${f.subject.type}-cert-v01@openssh.com` as CertificateType))
    .string(new Uint8Array(32).fill(7))
    .raw(f.keyFields ?? subjectFields)
    .uint64(42n)
    .uint32(f.role ?? 1)
    .string(f.keyId ?? "test-id");
  const principals = new Writer(64);
  for (const pr of f.principals ?? ["alice"]) principals.string(pr);
  w.string(principals.bytes())
    .uint64(f.validAfter ?? 0n)
    .uint64(f.validBefore ?? CERT_FOREVER)
    .string(packed(f.critical ?? []))
    .string(packed(f.extensions ?? [["permit-port-forwarding", new Uint8Array(0)]]))
    .string("")
    .string(f.caBlob ?? ca.publicKey.blob);
  const signed = w.bytes();
  const sig = ca.sign(signed, f.sigAlg ?? (ca.signatureAlgorithms[0] as string));
  return new Writer(signed.length + sig.length + 8)
    .raw(signed)
    .string(sig)
    .raw(f.trailing ?? new Uint8Array(0))
    .bytes();
}

const caKey = generateEd25519(p, "ca");
const otherCa = generateEd25519(p, "other ca");
const user = generateEcdsa(p, "p256", "user");
const now = Math.floor(Date.now() / 1000);
const use = { role: "user" as const, principal: "alice", requirePrincipal: true, now };

describe("certificates made by ssh-keygen -s", () => {
  const ca = keygen("ca", "ed25519");
  const rsaCa = keygen("rsa-ca", "rsa", 2048);
  const cases: [string, string, number | undefined, string][] = [
    ["ed25519", "ed25519", undefined, ca],
    ["ecdsa256", "ecdsa", 256, ca],
    ["ecdsa384", "ecdsa", 384, rsaCa],
    ["ecdsa521", "ecdsa", 521, ca],
    ["rsa", "rsa", 2048, rsaCa],
  ];
  for (const [name, type, bits, signer] of cases) {
    it(`decodes and verifies a ${name} user certificate (CA ${path.basename(signer)})`, () => {
      const key = keygen(name, type, bits);
      const line = sign(signer, key, ["-I", `id-${name}`, "-n", "alice,bob", "-V", "-5m:+1h", "-O", "no-pty"]);
      const pub = parsePublicKeyLine(line);
      expect(pub.type).toBe(`${pub.type.replace("-cert-v01@openssh.com", "")}-cert-v01@openssh.com`);
      const cert = parseCertificate(pub.blob, p, SIGNATURE_ALGORITHMS);
      expect(cert.keyId).toBe(`id-${name}`);
      expect(cert.principals).toEqual(["alice", "bob"]);
      expect(cert.role).toBe("user");
      expect(cert.keyBlob).toEqual(parsePublicKeyLine(fs.readFileSync(`${key}.pub`, "utf8")).blob);
      expect(cert.signatureKey).toEqual(parsePublicKeyLine(fs.readFileSync(`${signer}.pub`, "utf8")).blob);
      expect(cert.signatureAlgorithm).toBe(signer === rsaCa ? "rsa-sha2-512" : "ssh-ed25519");
      expect(cert.extensions.map((e) => e.name)).not.toContain("permit-pty");
      expect(cert.extensions.map((e) => e.name)).toContain("permit-port-forwarding");
      expect(certificateProblem(cert, use)).toBeUndefined();
      expect(certificateProblem(cert, { ...use, principal: "carol" })).toMatch(
        /"carol" is not among its principals \("alice", "bob"\)/,
      );
      // The certificate's key signs as its plain algorithm; the cert algorithm checks it so.
      const priv = parsePrivateKey(fs.readFileSync(key, "utf8"), p);
      const certified = certifiedKey(priv, cert);
      const alg = certified.signatureAlgorithms[0] as string;
      expect(alg).toMatch(/-cert-v01@openssh\.com$/);
      const data = new TextEncoder().encode("exchange hash");
      const sig = certified.sign(data, alg);
      expect(new Reader(sig).ascii()).toBe(alg.replace("-cert-v01@openssh.com", ""));
      expect(SIGNATURE_ALGORITHMS.get(alg)?.verify(p, cert.blob, data, sig)).toBe(true);
      expect(SIGNATURE_ALGORITHMS.get(alg)?.verify(p, cert.blob, new Uint8Array(3), sig)).toBe(false);
    });
  }

  it("reads host certificates (-h), critical options and their values", () => {
    const key = keygen("host", "ed25519");
    const host = parseCertificate(
      parsePublicKeyLine(sign(ca, key, ["-h", "-I", "host", "-n", "h.example", "-V", "+1d:+2d"])).blob,
      p,
      SIGNATURE_ALGORITHMS,
    );
    expect(host.role).toBe("host");
    expect(certificateProblem(host, { ...use, role: "host", principal: "h.example" })).toMatch(
      /^it is not valid before \d{4}-\d\d-\d\dT/,
    );
    const opt = parseCertificate(
      parsePublicKeyLine(
        sign(ca, key, ["-I", "o", "-n", "alice", "-O", "source-address=10.0.0.0/8", "-O", "force-command=true"]),
      ).blob,
      p,
      SIGNATURE_ALGORITHMS,
    );
    expect(opt.criticalOptions.map((o) => [o.name, certificateOptionValue(o)])).toEqual([
      ["force-command", "true"],
      ["source-address", "10.0.0.0/8"],
    ]);
  });
});

describe("certificate rules", () => {
  it("checks role, validity window and principals (OpenSSH's rules)", () => {
    const cert = (f: Partial<Fields>) => decodeCertificate(build({ subject: user, ...f }));
    expect(certificateProblem(cert({ role: 2 }), use)).toBe("it is a host certificate, not a user certificate");
    expect(certificateProblem(cert({ validBefore: BigInt(now - 60) }), use)).toMatch(/^it expired at \d{4}-/);
    expect(certificateProblem(cert({ validBefore: BigInt(now) }), use)).toMatch(/^it expired at/);
    expect(certificateProblem(cert({ validAfter: BigInt(now + 60) }), use)).toMatch(/^it is not valid before/);
    expect(certificateProblem(cert({ validAfter: BigInt(now) }), use)).toBeUndefined();
    expect(certificateProblem(cert({ principals: [] }), use)).toBe("it lists no principals");
    // Host certificates without principals are valid for any host, as ssh(1) accepts them.
    expect(
      certificateProblem(cert({ principals: [], role: 2 }), { ...use, role: "host", requirePrincipal: false }),
    ).toBe(undefined);
  });

  it("accepts every plain CA type and refuses SHA-1 ssh-rsa CA signatures", () => {
    const ecCa = generateEcdsa(p, "p384", "ec ca");
    expect(parseCertificate(build({ subject: user, ca: ecCa }), p, SIGNATURE_ALGORITHMS).signatureKeyType).toBe(
      "ecdsa-sha2-nistp384",
    );
    const rsaCa = parsePrivateKey(fs.readFileSync(keygen("rsa-ca2", "rsa", 2048), "utf8"), p);
    expect(
      parseCertificate(build({ subject: user, ca: rsaCa, sigAlg: "rsa-sha2-256" }), p, SIGNATURE_ALGORITHMS)
        .signatureAlgorithm,
    ).toBe("rsa-sha2-256");
    expect(() =>
      parseCertificate(build({ subject: user, ca: rsaCa, sigAlg: "ssh-rsa" }), p, SIGNATURE_ALGORITHMS),
    ).toThrow(/signed with "ssh-rsa"; accepted: ssh-ed25519/);
  });

  it("certifiedKey refuses a certificate of another key", () => {
    const cert = decodeCertificate(build({ subject: user }));
    expect(() => certifiedKey(generateEcdsa(p, "p256"), cert)).toThrow(/certifies another key/);
  });
});

describe("certificate decoder: bad inputs", () => {
  const good = build({ subject: user });
  const tamper = (at: number) => {
    const b = good.slice();
    b[at] = (b[at] as number) ^ 1;
    return b;
  };
  const bad: [string, () => Uint8Array, RegExp][] = [
    ["empty", () => new Uint8Array(0), /^certificate: truncated certificate type/],
    ["truncated in the key", () => good.subarray(0, 90), /^certificate: truncated key field/],
    ["truncated before the signature", () => good.subarray(0, good.length - 40), /^certificate: truncated signature/],
    ["trailing bytes", () => build({ subject: user, trailing: Uint8Array.of(0) }), /1 unexpected trailing bytes/],
    [
      "unknown type",
      () => build({ subject: user, type: "ssh-dss-cert-v01@openssh.com" as CertificateType }),
      /^certificate: unknown type "ssh-dss-cert-v01@openssh.com"; expected one of ssh-ed25519-cert-v01/,
    ],
    [
      "type naming another key",
      () => build({ subject: user, type: "ssh-ed25519-cert-v01@openssh.com" }),
      /ed25519 public key is 8 bytes; expected 32|ed25519/,
    ],
    ["role 3", () => build({ subject: user, role: 3 }), /^certificate: role is 3; expected 1 \(user\) or 2 \(host\)/],
    [
      "duplicate critical option",
      () =>
        build({
          subject: user,
          critical: [
            ["force-command", value("a")],
            ["force-command", value("b")],
          ],
        }),
      /critical option name "force-command" appears twice/,
    ],
    [
      "CA is a certificate",
      () => build({ subject: user, caBlob: build({ subject: otherCa }) }),
      /signature key is itself a certificate/,
    ],
    [
      "CA of an unknown type",
      () => build({ subject: user, caBlob: new Writer(32).string("ssh-dss").string("x").bytes() }),
      /signature key is of unsupported type "ssh-dss"/,
    ],
  ];
  for (const [name, input, message] of bad) {
    it(`refuses ${name}`, () => {
      expect(() => decodeCertificate(input())).toThrow(message);
      // Every bad blob is refused as a public key too, on one line.
      let err: Error | undefined;
      try {
        parsePublicKeyBlob(input());
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).not.toContain("\n");
      expect(err).toBeDefined();
    });
  }

  it("refuses a signature that does not verify: a flipped bit, another CA's key", () => {
    expect(() => parseCertificate(tamper(good.length - 10), p, SIGNATURE_ALGORITHMS)).toThrow(
      /CA signature does not verify/,
    );
    // The key id field changed after signing.
    const id = new TextEncoder().encode("test-id");
    const at = good.findIndex((_, i) => id.every((c, j) => good[i + j] === c));
    expect(() => parseCertificate(tamper(at), p, SIGNATURE_ALGORITHMS)).toThrow(/CA signature does not verify/);
    expect(() =>
      parseCertificate(build({ subject: user, caBlob: otherCa.publicKey.blob }), p, SIGNATURE_ALGORITHMS),
    ).toThrow(/CA signature does not verify/);
    expect(() =>
      parseCertificate(build({ subject: user, ca: otherCa, caBlob: user.publicKey.blob }), p, SIGNATURE_ALGORITHMS),
    ).toThrow(/signature is ssh-ed25519 but the CA key is ecdsa-sha2-nistp256/);
  });
});

describe("known_hosts @cert-authority and @revoked", () => {
  const hostKey = generateEd25519(p, "host");
  const caLine = (pattern: string, ca = caKey) => `@cert-authority ${pattern} ${formatPublicKeyLine(ca.publicKey)}`;
  const hostCert = (f: Partial<Fields> = {}) =>
    build({ subject: hostKey, role: 2, principals: ["h.example", "10.0.0.1"], ...f });
  const look = (text: string, blob: Uint8Array, host = "h.example", port = 22) =>
    lookupHostCertificate(parseKnownHosts(text).entries, host, port, blob, p, now);

  it("trusts a valid host certificate from a CA the file names for the host", () => {
    expect(look(caLine("*.example"), hostCert()).status).toBe("trusted");
    expect(look(caLine("[h.example]:2222"), hostCert(), "h.example", 2222).status).toBe("trusted");
    expect(look(caLine("10.0.0.*"), hostCert(), "10.0.0.1").status).toBe("trusted");
  });

  it("falls back (no-authority) when no line for the host holds the CA", () => {
    expect(look(caLine("*.example", otherCa), hostCert()).status).toBe("no-authority");
    expect(look(caLine("*.other"), hostCert()).status).toBe("no-authority");
    expect(look(caLine("*.example,!h.example"), hostCert()).status).toBe("no-authority");
    expect(look(`h.example ${formatPublicKeyLine(caKey.publicKey)}`, hostCert()).status).toBe("no-authority");
  });

  it("matches hashed host names on @cert-authority lines", () => {
    const hashed = formatKnownHostsLine("h.example", 22, caKey.publicKey, {
      hashed: true,
      random: systemRandom,
      provider: p,
    });
    expect(hashed).toMatch(/^\|1\|/);
    expect(look(`@cert-authority ${hashed}`, hostCert()).status).toBe("trusted");
    expect(look(`@cert-authority ${hashed}`, hostCert(), "10.0.0.1").status).toBe("no-authority");
  });

  it("refuses an invalid certificate from a trusted CA, saying why", () => {
    const r = (f: Partial<Fields>, host = "h.example") => {
      const found = look(caLine("*"), hostCert(f), host);
      return found.status === "invalid" ? found.problem : found.status;
    };
    expect(r({ validBefore: BigInt(now - 1) })).toMatch(/^it expired at/);
    expect(r({ validAfter: BigInt(now + 3600) })).toMatch(/^it is not valid before/);
    expect(r({}, "other.example")).toMatch(/"other.example" is not among its principals/);
    expect(r({ role: 1 })).toBe("it is a user certificate, not a host certificate");
  });

  it("refuses a certificate whose certificate, key or CA is @revoked", () => {
    const cert = hostCert();
    const revoked = (k: string) => `@revoked * ${k}\n${caLine("*")}`;
    const certLine = `${"ssh-ed25519-cert-v01@openssh.com"} ${encodeBase64(cert)}`;
    expect(look(revoked(certLine), cert)).toMatchObject({ status: "revoked", what: "certificate" });
    expect(look(revoked(formatPublicKeyLine(hostKey.publicKey)), cert)).toMatchObject({
      status: "revoked",
      what: "key",
    });
    expect(look(revoked(formatPublicKeyLine(caKey.publicKey)), cert)).toMatchObject({
      status: "revoked",
      what: "certificate authority",
    });
  });

  it("refuses a certificate whose CA signature does not verify", () => {
    const cert = hostCert();
    cert[cert.length - 5] = (cert[cert.length - 5] as number) ^ 1;
    expect(() => look(caLine("*"), cert)).toThrow(/CA signature does not verify/);
  });
});
