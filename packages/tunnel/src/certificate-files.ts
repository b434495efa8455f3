/**
 * Engine: user certificates kept in files (OpenSSH PROTOCOL.certkeys), found as ssh(1) finds
 * them (ssh.c load_public_identity_files): the CertificateFile lines of ssh_config, or — only
 * when there are none — `<identity file>-cert.pub` beside each identity file. A certificate
 * is offered as its own identity, signed by the key it certifies: the agent's when the agent
 * holds it, else the identity file's (sshconnect2.c sign_and_send_pubkey).
 */
import * as fs from "node:fs";
import {
  type Certificate,
  type CertificateType,
  certificateName,
  decodeCertificate,
  type Identity,
  isCertificateType,
  parsePublicKeyLine,
  plainName,
} from "@tunnel/ssh";
import { readNamedFile } from "./named-file.ts";

/** One user certificate read from a file. */
export interface CertificateEntry {
  /** The certificate's file (`…-cert.pub`, or a CertificateFile). */
  file: string;
  /** For `<key>-cert.pub`: the identity file beside it, whose key signs for it. */
  keyFile: string | undefined;
  /** From a CertificateFile line: offered before the agent's keys, as ssh does. */
  configured: boolean;
  type: CertificateType;
  blob: Uint8Array;
  comment: string;
  certificate: Certificate;
}

/**
 * Reads one certificate file. Throws a one-line TypeError naming the file and what is wrong:
 * not a certificate, malformed, or a host certificate.
 */
export function loadCertificateFile(file: string): Omit<CertificateEntry, "keyFile" | "configured"> {
  const text = readNamedFile("certificate file", file);
  let certificate: Certificate;
  let comment: string;
  try {
    const key = parsePublicKeyLine(text.trim().split(/\r?\n/)[0] ?? "");
    if (!isCertificateType(key.type)) throw new TypeError(`it holds a plain ${key.type} key, not a certificate`);
    certificate = decodeCertificate(key.blob);
    comment = key.comment;
  } catch (err) {
    throw new TypeError(`certificate file ${file}: ${(err as Error).message}`);
  }
  if (certificate.role !== "user")
    throw new TypeError(`certificate file ${file} holds a host certificate; only user certificates log in`);
  return { file, type: certificate.type, blob: certificate.blob, comment, certificate };
}

/**
 * The certificates to offer: every CertificateFile (`certificateFiles`), or else the
 * `<file>-cert.pub` of each identity file that has one. A CertificateFile that cannot be
 * used is noted and skipped, as ssh skips it; a `-cert.pub` that is not a user certificate too.
 */
export function findCertificates(
  certificateFiles: readonly string[] | undefined,
  identityFiles: readonly string[],
): { certificates: CertificateEntry[]; notes: string[] } {
  const certificates: CertificateEntry[] = [];
  const notes: string[] = [];
  if (certificateFiles && certificateFiles.length > 0) {
    for (const file of certificateFiles) {
      try {
        certificates.push({ ...loadCertificateFile(file), keyFile: undefined, configured: true });
      } catch (err) {
        notes.push(`skipped: ${(err as Error).message}`);
      }
    }
    return { certificates, notes };
  }
  for (const keyFile of identityFiles) {
    const file = `${keyFile}-cert.pub`;
    if (!fs.existsSync(file)) continue;
    try {
      certificates.push({ ...loadCertificateFile(file), keyFile, configured: false });
    } catch (err) {
      notes.push(`skipped: ${(err as Error).message}`);
    }
  }
  return { certificates, notes };
}

/**
 * A certificate as an identity: the certificate blob is sent, named by its certificate
 * algorithms (`rsa-sha2-512-cert-v01@openssh.com`, …), and `signer` — an identity holding the
 * certified key — signs as the plain algorithm (PROTOCOL.certkeys).
 */
export function certificateIdentity(entry: CertificateEntry, signer: Identity): Identity {
  return {
    type: entry.type,
    publicKey: { blob: entry.blob, comment: entry.comment },
    signatureAlgorithms: signer.signatureAlgorithms.map(certificateName),
    sign: (data, algorithm) => signer.sign(data, plainName(algorithm)),
    source: entry.file,
    keyBlob: entry.certificate.keyBlob,
    ...(signer.agent ? { agent: true } : {}),
  };
}
