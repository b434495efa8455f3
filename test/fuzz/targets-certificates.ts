/**
 * Fuzz target, certificates (OpenSSH PROTOCOL.certkeys): a peer's certificate blob — a host
 * certificate in a KEX reply, a user certificate in a publickey request — through
 * `decodeCertificate`, `parseCertificate` (the CA signature), `certificateProblem` and, in
 * known_hosts, `lookupHostCertificate`. Refusals: SshError KEY_FORMAT (malformed) or
 * BAD_SIGNATURE (the CA's signature); invariants: the certified key is a sound plain key of the
 * certificate's key type, the blob is what was given, and a certificate whose signature checks
 * out is trusted, or judged invalid, by a @cert-authority line for its own CA.
 */
import { SIGNATURE_ALGORITHMS } from "../../packages/ssh/src/algorithms/hostkey.ts";
import { nobleProvider } from "../../packages/ssh/src/crypto/noble.ts";
import { equalBytes } from "../../packages/ssh/src/crypto/provider.ts";
import {
  CERT_FOREVER,
  CERTIFICATE_TYPES,
  certificateProblem,
  decodeCertificate,
  parseCertificate,
} from "../../packages/ssh/src/keys/certificate.ts";
import { lookupHostCertificate, parseKnownHosts } from "../../packages/ssh/src/keys/known-hosts.ts";
import { formatPublicKeyLine, parsePublicKeyBlob } from "../../packages/ssh/src/keys/public-key.ts";
import type { PrivateKey } from "../../packages/ssh/src/keys/types.ts";
import { Writer } from "../../packages/ssh/src/wire/writer.ts";
import { Finding, type FuzzTarget } from "./engine.ts";
import { sampleKeys } from "./targets-keys.ts";
import { sshErrorWith } from "./targets-wire.ts";

/** A certificate of `subject` signed by `ca`, as ssh-keygen -s lays one out. */
function makeCertificate(subject: PrivateKey, ca: PrivateKey, role: 1 | 2, options: [string, string][]): Uint8Array {
  const own = subject.publicKey.blob.subarray(4 + subject.type.length);
  const principals = new Writer(64).string("alice").string("h.example").bytes();
  const critical = new Writer(64);
  for (const [n, v] of options) critical.string(n).string(new Writer(32).string(v).bytes());
  const extensions = new Writer(64).string("permit-port-forwarding").string("").string("permit-pty").string("");
  const signed = new Writer(1024)
    .string(`${subject.type}-cert-v01@openssh.com`)
    .string(new Uint8Array(32).fill(9))
    .raw(own)
    .uint64(7n)
    .uint32(role)
    .string("fuzz-id")
    .string(principals)
    .uint64(0n)
    .uint64(CERT_FOREVER)
    .string(critical.bytes())
    .string(extensions.bytes())
    .string("")
    .string(ca.publicKey.blob)
    .bytes();
  return new Writer(signed.length + 600)
    .raw(signed)
    .string(ca.sign(signed, ca.signatureAlgorithms[0] as string))
    .bytes();
}

export const certificate: FuzzTarget = {
  name: "certificate",
  describe:
    "decodeCertificate, parseCertificate (CA signature), certificateProblem and lookupHostCertificate (keys/certificate.ts, keys/known-hosts.ts) on a certificate blob; refusals: SshError KEY_FORMAT or BAD_SIGNATURE; invariants: the certified key parses as a plain key of the certificate's key type, the decoded blob is the input, a verified certificate is trusted or judged invalid under a @cert-authority line for its own CA",
  maxLength: 8192,
  seeds: () => {
    const keys = sampleKeys();
    const [ed, p256, , , rsa] = keys as [PrivateKey, PrivateKey, PrivateKey, PrivateKey, PrivateKey];
    return [
      makeCertificate(ed, ed, 1, []),
      makeCertificate(p256, rsa, 2, [["source-address", "10.0.0.0/8"]]),
      makeCertificate(rsa, p256, 1, [
        ["force-command", "/bin/true"],
        ["source-address", "127.0.0.1/32,::1/128"],
      ]),
      ...keys.map((k) => makeCertificate(k, ed, 2, [])),
    ];
  },
  accepts: sshErrorWith("KEY_FORMAT", "BAD_SIGNATURE"),
  run(input) {
    const cert = decodeCertificate(input);
    if (!equalBytes(cert.blob, input)) throw new Finding("the decoded blob differs from the input");
    if (CERTIFICATE_TYPES.get(cert.type) !== cert.keyType)
      throw new Finding(`${cert.type} holds a ${cert.keyType} key`);
    if (parsePublicKeyBlob(cert.keyBlob).type !== cert.keyType)
      throw new Finding("the certified key does not parse as its own type");
    if (parsePublicKeyBlob(input).type !== cert.type) throw new Finding("parsePublicKeyBlob names another type");
    for (const role of ["user", "host"] as const)
      certificateProblem(cert, { role, principal: "alice", requirePrincipal: role === "user", now: 1.7e9 });
    const verified = parseCertificate(input, nobleProvider, SIGNATURE_ALGORITHMS);
    const caLine = `@cert-authority * ${formatPublicKeyLine({ ...parsePublicKeyBlob(verified.signatureKey), comment: "" })}`;
    const found = lookupHostCertificate(parseKnownHosts(caLine).entries, "h.example", 22, input, nobleProvider, 1.7e9);
    if (found.status !== "trusted" && found.status !== "invalid")
      throw new Finding(`a certificate under a line for its own CA is ${found.status}`);
  },
  quick: 400,
};
