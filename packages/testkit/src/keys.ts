/**
 * User keys made by the real ssh-keygen (no passphrase), in every type and file format our
 * loaders claim, so the interop suites check them against a real sshd.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { fingerprintOf, readPubLine } from "./sshd.ts";

const execFileP = promisify(execFile);

export type UserKeyName = "ed25519" | "ecdsa256" | "ecdsa384" | "ecdsa521" | "rsa" | "rsaPem" | "ecdsaPkcs8";

/** The private key file's format: openssh-key-v1, PEM (PKCS#1 / SEC1), or PKCS#8. */
export type KeyFileFormat = "openssh" | "pem" | "pkcs8";

export interface UserKey {
  name: string;
  /** As in the public key line: ssh-ed25519, ecdsa-sha2-nistp384, ssh-rsa, … */
  type: string;
  format: KeyFileFormat;
  /** Private key file. */
  path: string;
  pubPath: string;
  /** `<type> <base64>` (no comment): what goes in authorized_keys. */
  pubLine: string;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

export interface KeySpec {
  type: "ed25519" | "ecdsa" | "rsa";
  bits?: number;
  format?: KeyFileFormat;
}

const SPECS: Record<UserKeyName, KeySpec> = {
  ed25519: { type: "ed25519" },
  ecdsa256: { type: "ecdsa", bits: 256 },
  ecdsa384: { type: "ecdsa", bits: 384 },
  ecdsa521: { type: "ecdsa", bits: 521 },
  rsa: { type: "rsa", bits: 3072 },
  rsaPem: { type: "rsa", bits: 3072, format: "pem" },
  ecdsaPkcs8: { type: "ecdsa", bits: 256, format: "pkcs8" },
};

const FIRST_LINE: Record<KeyFileFormat, RegExp> = {
  openssh: /^-----BEGIN OPENSSH PRIVATE KEY-----$/,
  pem: /^-----BEGIN (RSA|EC) PRIVATE KEY-----$/,
  pkcs8: /^-----BEGIN PRIVATE KEY-----$/,
};

/** One key `<dir>/<name>` (+ `.pub`). Checks the file really is in the format asked for. */
export async function makeKey(dir: string, name: string, spec: KeySpec): Promise<UserKey> {
  await fs.promises.mkdir(dir, { recursive: true });
  const keyPath = path.join(dir, name);
  const format = spec.format ?? "openssh";
  const args = ["-q", "-t", spec.type, "-N", "", "-C", `user-${name}`, "-f", keyPath];
  if (spec.bits !== undefined) args.push("-b", String(spec.bits));
  if (format === "pem") args.push("-m", "PEM");
  if (format === "pkcs8") args.push("-m", "PKCS8");
  await execFileP("ssh-keygen", args);
  const firstLine = (await fs.promises.readFile(keyPath, "utf8")).split("\n")[0] ?? "";
  if (!FIRST_LINE[format].test(firstLine)) {
    throw new Error(`ssh-keygen wrote ${keyPath} as "${firstLine}", not the ${format} format asked for`);
  }
  const pubPath = `${keyPath}.pub`;
  const { type, pubLine } = await readPubLine(pubPath);
  return { name, type, format, path: keyPath, pubPath, pubLine, fingerprint: await fingerprintOf(pubPath) };
}

/**
 * ed25519; ecdsa 256, 384, 521; rsa 3072 (openssh-key-v1); rsa 3072 as PEM (PKCS#1) and
 * ecdsa 256 as PKCS#8 — all in `dir`.
 */
export async function makeUserKeys(dir: string): Promise<Record<UserKeyName, UserKey>> {
  const names = Object.keys(SPECS) as UserKeyName[];
  const keys = await Promise.all(names.map((n) => makeKey(dir, n, SPECS[n])));
  return Object.fromEntries(names.map((n, i) => [n, keys[i]!])) as Record<UserKeyName, UserKey>;
}
