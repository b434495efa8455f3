/**
 * Host keys for `tunnel serve`: given files, or an ed25519 key created once in the user's
 * state directory ($XDG_STATE_HOME/tunnel, else ~/.local/state/tunnel) and reused. The file is
 * written to a temporary name and renamed, so a crash never leaves half a key behind.
 *
 * Host certificates (`--host-certificate`, sshd's HostCertificate; OpenSSH PROTOCOL.certkeys)
 * are offered beside the plain host key they certify: clients whose known_hosts trusts the
 * CA (`@cert-authority`) ask for the certificate algorithms.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  certificateProblem,
  certifiedKey,
  encodeEd25519PrivateKey,
  equalBytes,
  formatCertificateTime,
  isCertificateType,
  nobleProvider,
  type PrivateKey,
  parseCertificate,
  parsePublicKeyLine,
  SIGNATURE_ALGORITHMS,
  systemRandom,
} from "@tunnel/ssh";
import { loadIdentity } from "./identity.ts";

/** Where tunnel keeps its state: `$XDG_STATE_HOME/tunnel`, else `~/.local/state/tunnel`. */
export function stateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const base =
    env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)
      ? env.XDG_STATE_HOME
      : path.join(os.homedir(), ".local", "state");
  return path.join(base, "tunnel");
}

/** The server's ed25519 host key in `dir`, created on first use. */
export function loadOrCreateHostKey(dir = stateDir()): { key: PrivateKey; file: string; created: boolean } {
  const file = path.join(dir, "ssh_host_ed25519_key");
  if (fs.existsSync(file)) return { key: loadIdentity(file), file, created: false };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const seed = systemRandom(32);
  const text = encodeEd25519PrivateKey(nobleProvider, systemRandom, seed, `tunnel serve host key ${os.hostname()}`);
  seed.fill(0);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return { key: loadIdentity(file), file, created: true };
}

/**
 * The host key of `hostKeys` that the certificate in `file` certifies, presented with it.
 * Throws a one-line TypeError naming the file when it is not a host certificate, its CA
 * signature does not verify, or no host key is the key it certifies; `warn` hears when it is
 * not valid now (clients will refuse it), as sshd only warns.
 */
export function loadHostCertificate(
  file: string,
  hostKeys: readonly PrivateKey[],
  warn: (line: string) => void,
  now = Date.now() / 1000,
): PrivateKey {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new TypeError(`cannot read host certificate ${file}: ${(err as Error).message}`);
  }
  let cert: ReturnType<typeof parseCertificate>;
  let comment: string;
  try {
    const line = parsePublicKeyLine(text.trim().split(/\r?\n/)[0] ?? "");
    if (!isCertificateType(line.type)) throw new TypeError(`it holds a plain ${line.type} key, not a certificate`);
    cert = parseCertificate(line.blob, nobleProvider, SIGNATURE_ALGORITHMS);
    comment = line.comment;
  } catch (err) {
    throw new TypeError(`host certificate ${file}: ${(err as Error).message}`);
  }
  if (cert.role !== "host")
    throw new TypeError(`host certificate ${file} is a user certificate (sign it with ssh-keygen -h)`);
  const key = hostKeys.find((k) => equalBytes(k.publicKey.blob, cert.keyBlob));
  if (!key)
    throw new TypeError(`host certificate ${file} certifies a ${cert.keyType} key that is not among the host keys`);
  const problem = certificateProblem(cert, {
    role: "host",
    principal: cert.principals[0] ?? "",
    requirePrincipal: false,
    now,
  });
  if (problem) warn(`WARNING: host certificate ${file}: ${problem}; clients will refuse it`);
  else if (cert.validBefore !== 0xffff_ffff_ffff_ffffn)
    warn(`Host certificate ${file} is valid until ${formatCertificateTime(cert.validBefore)}`);
  return certifiedKey(key, cert, comment);
}
