/**
 * User certificates for `tunnel serve --trusted-user-ca-keys FILE` (sshd's TrustedUserCAKeys,
 * OpenSSH PROTOCOL.certkeys). A certificate logs in when its CA is in the file (one public
 * key a line; `#` comments), its CA signature verifies, it is a user certificate valid now and
 * it lists the login name among its principals (no principals: refused, as sshd refuses
 * without AuthorizedPrincipalsFile). Its options, as sshd applies them:
 *
 * - critical option `source-address="CIDR[,CIDR…]"`: the client's address must be in one of
 *   the blocks;
 * - any other critical option (`force-command`, `verify-required`, one we do not know) refuses
 *   the certificate: PROTOCOL.certkeys requires a server that does not recognise a critical
 *   option to refuse, and this server honours no forced command;
 * - extension `permit-port-forwarding` absent: no forwarding of either kind, as sshd does;
 *   other extensions only permit what this server never offers (pty, X11, agent, user-rc).
 *
 * An admitted certificate becomes an `AuthorizedKey` entry, so the server applies it as it
 * applies an authorized_keys line.
 */
import * as fs from "node:fs";
import {
  certificateOptionValue,
  certificateProblem,
  equalBytes,
  fingerprintSha256,
  isCertificateType,
  nobleProvider,
  type PublicKey,
  parseCertificate,
  parsePublicKeyLine,
  peerText,
  SIGNATURE_ALGORITHMS,
} from "@tunnel/ssh";
import { type AddressPattern, type AuthorizedKey, fromAllows, parseAddressPatterns } from "./authorized-keys.ts";

/** A CA key trusted to certify users (sshd's TrustedUserCAKeys), and where it was read. */
export interface TrustedUserCa {
  /** The CA's public key: user certificates it signed may log in. */
  key: PublicKey;
  /** `file:line`. */
  source: string;
}

/** The CA keys of a TrustedUserCAKeys file; a line that is not a plain public key is a one-line warning. */
export function loadTrustedUserCaKeys(file: string, warn: (line: string) => void): TrustedUserCa[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new TypeError(`cannot read trusted user CA keys file ${file}: ${(err as Error).message}`);
  }
  const out: TrustedUserCa[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const source = `${file}:${i + 1}`;
    try {
      const key = parsePublicKeyLine(line);
      if (isCertificateType(key.type)) throw new TypeError("a certificate cannot be a CA key");
      out.push({ key, source });
    } catch (err) {
      warn(`${source}: skipped: ${peerText((err as Error).message)}`);
    }
  });
  return out;
}

/**
 * Is this certificate a login for `user` from `address`? `{ entry }` to admit it (its options
 * as an authorized_keys entry), else `{ refusal }`: one line saying which certificate and why.
 */
export function admitCertificate(
  cas: readonly TrustedUserCa[],
  key: PublicKey,
  user: string,
  address: string,
  now = Date.now(),
): { entry: AuthorizedKey } | { refusal: string } {
  const fp = (b: Uint8Array) => fingerprintSha256(nobleProvider, b);
  let cert: ReturnType<typeof parseCertificate>;
  try {
    cert = parseCertificate(key.blob, nobleProvider, SIGNATURE_ALGORITHMS);
  } catch (err) {
    return { refusal: `certificate refused: ${(err as Error).message}` };
  }
  const what = `certificate ${JSON.stringify(peerText(cert.keyId, { max: 80 }))} serial ${cert.serial} (key ${fp(cert.keyBlob)}, CA ${fp(cert.signatureKey)})`;
  const ca = cas.find((c) => equalBytes(c.key.blob, cert.signatureKey));
  if (!ca) return { refusal: `${what} refused: its CA is not among the trusted user CA keys` };
  const problem = certificateProblem(cert, { role: "user", principal: user, requirePrincipal: true, now: now / 1000 });
  if (problem)
    return { refusal: `${what} refused for user ${JSON.stringify(peerText(user, { max: 64 }))}: ${problem}` };
  let from: AddressPattern[] | undefined;
  for (const o of cert.criticalOptions) {
    const name = peerText(o.name, { max: 64 });
    if (o.name !== "source-address")
      return { refusal: `${what} refused: critical option ${name} is not supported by this server` };
    const value = certificateOptionValue(o);
    try {
      if (value === undefined) throw new TypeError("malformed value");
      from = parseAddressPatterns(value);
      if (from.some((p) => p.negated || !p.cidr)) throw new TypeError("expected address/bits blocks");
    } catch (err) {
      return {
        refusal: `${what} refused: source-address ${JSON.stringify(peerText(value ?? "", { max: 120 }))}: ${(err as Error).message}`,
      };
    }
    if (!fromAllows(from, address)) return { refusal: `${what} refused: source-address does not admit ${address}` };
  }
  const portForwarding = cert.extensions.some((e) => e.name === "permit-port-forwarding");
  return {
    entry: {
      key,
      source: `${what} (trusted by ${ca.source})`,
      line: 0,
      portForwarding,
      permitOpen: undefined,
      permitListen: undefined,
      from,
      expiresAt:
        cert.validBefore >= BigInt(Number.MAX_SAFE_INTEGER) / 1000n ? undefined : Number(cert.validBefore) * 1000,
    },
  };
}
