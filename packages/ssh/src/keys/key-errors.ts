/**
 * Key layer: the errors private key loading throws, shared by the file formats.
 *
 * KEY_FORMAT — the file is damaged, truncated or of a kind we do not read (one line naming what
 * was expected and what came). KEY_ENCRYPTED — the key stays locked: either no passphrase was
 * given (the message names the cipher and KDF, so a caller knows to ask for one), or the one
 * given does not open it ("incorrect passphrase for …", as OpenSSH's
 * SSH_ERR_KEY_WRONG_PASSPHRASE: a failed tag, differing check-ints or bad padding). A caller
 * that passed a passphrase and gets KEY_ENCRYPTED back knows it was the wrong one.
 */
import { SshError } from "../errors.ts";

export const keyFormat = (message: string): SshError => new SshError("KEY_FORMAT", message);

/** No passphrase was given for a key encrypted as `how` (e.g. "aes256-ctr, bcrypt"). */
export const needsPassphrase = (name: string, how: string): SshError =>
  new SshError("KEY_ENCRYPTED", `${name} is encrypted (${how}); a passphrase is needed to use it`);

/** A passphrase was given and does not decrypt the key. */
export const wrongPassphrase = (name: string): SshError =>
  new SshError("KEY_ENCRYPTED", `incorrect passphrase for ${name}`);
