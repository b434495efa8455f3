/**
 * ssh-ed25519 signatures (RFC 8709 §4, §6): key blob string("ssh-ed25519") ‖ string(32-byte
 * key); signature blob string("ssh-ed25519") ‖ string(64-byte signature).
 */
import type { CryptoProvider } from "../crypto/provider.ts";
import { SshError } from "../errors.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";
import type { SignatureAlgorithm } from "./types.ts";

/** The ed25519 key type and signature algorithm, as named on the wire (RFC 8709 §4). */
export const SSH_ED25519 = "ssh-ed25519";

/** The 32-byte key from an ed25519 public key blob. Throws KEY_FORMAT. */
export function ed25519KeyFromBlob(blob: Uint8Array): Uint8Array {
  try {
    const r = new Reader(blob);
    const type = r.ascii("key type");
    if (type !== SSH_ED25519) throw new SshError("KEY_FORMAT", `expected an ssh-ed25519 key, got ${type}`);
    const key = r.string("ed25519 public key");
    if (key.length !== 32) throw new SshError("KEY_FORMAT", `ed25519 public key is ${key.length} bytes; expected 32`);
    r.done("ed25519 key blob");
    return key;
  } catch (err) {
    if (err instanceof SshError && err.code === "KEY_FORMAT") throw err;
    throw new SshError("KEY_FORMAT", `malformed ssh-ed25519 key blob: ${(err as Error).message}`);
  }
}

/** Parses `string name, string sig` and checks the name; undefined on any mismatch. */
export function signatureBody(signature: Uint8Array, name: string): Uint8Array | undefined {
  try {
    const r = new Reader(signature);
    if (r.ascii("signature algorithm") !== name) return undefined;
    const body = r.string("signature");
    r.done("signature blob");
    return body;
  } catch {
    return undefined;
  }
}

export const ed25519Signature: SignatureAlgorithm = {
  name: SSH_ED25519,
  keyType: SSH_ED25519,
  verify(provider, publicKeyBlob, data, signature) {
    const key = ed25519KeyFromBlob(publicKeyBlob);
    const sig = signatureBody(signature, SSH_ED25519);
    if (sig?.length !== 64) return false;
    return provider.ed25519.verify(key, data, sig);
  },
};

export function signEd25519(provider: CryptoProvider, seed: Uint8Array, data: Uint8Array): Uint8Array {
  return new Writer(83).string(SSH_ED25519).string(provider.ed25519.sign(seed, data)).bytes();
}
