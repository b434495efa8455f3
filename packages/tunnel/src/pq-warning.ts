/**
 * The warning printed when a connection's key exchange is not post-quantum: its traffic, if
 * recorded now, could be decrypted once a large enough quantum computer exists ("store now,
 * decrypt later"). OpenSSH 10.1 warns the same way. One line, for `tunnel check` and
 * `tunnel open` alike; not printed when the user chose the key exchange themselves
 * (`--kex-algorithms`, or KexAlgorithms in ssh_config): they asked for what they got.
 */
import { isPostQuantumKex } from "@tunnel/ssh";

/** The warning for a negotiated `kex`, or undefined if none is due. */
export function postQuantumWarning(kex: string, chosenByUser: boolean): string | undefined {
  if (chosenByUser || isPostQuantumKex(kex)) return undefined;
  return `WARNING: the key exchange (${kex}) is not post-quantum: traffic recorded today could be decrypted by a future quantum computer; the server may need an upgrade`;
}
