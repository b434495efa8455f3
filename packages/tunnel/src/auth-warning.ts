/**
 * The warning printed when a server let us in with the `none` method (RFC 4252 §5.2): legal,
 * and some bastions are set up that way on purpose, but such a server checked no key or
 * password, so a user who expected key authentication should know (issue 12, item 10).
 * One line, for `tunnel check` and `tunnel open` alike.
 */

/** `server` as the user named it (host:port or the --via text); `user` the name we logged in as. */
export function noneAuthWarning(user: string, server: string): string {
  return `WARNING: ${server} let "${user}" in without authentication (method "none"): it checked no key or password`;
}
