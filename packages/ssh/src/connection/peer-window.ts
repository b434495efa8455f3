/**
 * Connection layer: the largest receive window worth granting a peer, by the software its
 * identification line names (RFC 4253 §4.2, `softwareversion`), where a larger one is known
 * to slow that peer down.
 *
 * Our windows grow on long links (connection/window.ts). OpenSSH reads a channel's input as
 * far as our window allows into one buffer capped at 16 MiB (`CHAN_INPUT_MAX`, channels.h),
 * and packs it only while its outgoing packet buffer is nearly empty. Granted a window close to
 * that cap, sshd 9.2 (the server of Debian 12 and of most bastions in the field) stalls with
 * our full credit in hand, its CPU in `memmove` and page faults. Half the cap makes those
 * stalls rarer and shorter, not impossible, and still carries more than 4 MiB would on a long
 * link: 8 MiB is the better trade. The measurements behind this, and how to repeat them, are in
 * docs/ARCHITECTURE.md "Flow control".
 */

/** OpenSSH's cap on a channel's buffered input (channels.h `CHAN_INPUT_MAX`). */
export const OPENSSH_CHANNEL_INPUT_MAX = 16 * 1024 * 1024;

/** The receive window we grant an OpenSSH peer at most: half its input cap. */
export const OPENSSH_WINDOW_CEILING = OPENSSH_CHANNEL_INPUT_MAX / 2;

/**
 * The largest receive window to grant a peer whose identification line named `software`
 * (e.g. `OpenSSH_9.2p1`); `Infinity` where no limit is known. Unknown software: none.
 */
export function peerWindowCeiling(software: string | undefined): number {
  return software?.startsWith("OpenSSH_") ? OPENSSH_WINDOW_CEILING : Number.POSITIVE_INFINITY;
}
