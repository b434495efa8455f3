/**
 * Destinations in ssh(1)'s form: `[user@]host[:port]`, with IPv6 literals in brackets
 * (`[::1]:2222`).
 */

/** A destination as written: who logs in, and where. */
export interface Destination {
  /** The user before `@`; undefined when none was written. */
  user: string | undefined;
  /** The host name or address, an IPv6 literal without its brackets. */
  host: string;
  /** The port after `:`, else `parseDestination`'s default (22). */
  port: number;
}

/** Throws `TypeError` with a one-line message naming what was wrong and what was expected. */
export function parseDestination(spec: string, defaultPort = 22): Destination {
  const s = spec.trim();
  if (s === "") throw new TypeError(`empty destination; expected [user@]host[:port]`);
  const at = s.lastIndexOf("@");
  const user = at >= 0 ? s.slice(0, at) : undefined;
  if (user === "") throw new TypeError(`destination "${spec}" has an empty user name; expected [user@]host[:port]`);
  const rest = at >= 0 ? s.slice(at + 1) : s;
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0) throw new TypeError(`destination "${spec}" has an unclosed "["; expected [host]:port`);
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) throw new TypeError(`destination "${spec}": expected ":" after "]"`);
    portText = after === "" ? undefined : after.slice(1);
  } else {
    const colons = rest.split(":").length - 1;
    if (colons > 1) {
      // A bare IPv6 literal without a port.
      host = rest;
    } else if (colons === 1) {
      const i = rest.indexOf(":");
      host = rest.slice(0, i);
      portText = rest.slice(i + 1);
    } else {
      host = rest;
    }
  }
  if (host === "") throw new TypeError(`destination "${spec}" has no host; expected [user@]host[:port]`);
  if (/[\s/]/.test(host)) throw new TypeError(`destination "${spec}": "${host}" is not a valid host name`);
  const port = portText === undefined ? defaultPort : parsePort(portText, `destination "${spec}"`);
  return { user, host, port };
}

/** A port number 1-65535 from text; `what` names it in the error. */
export function parsePort(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new TypeError(`${what}: port "${text}" is not a number; expected 1-65535`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new TypeError(`${what}: port ${port} is out of range; expected 1-65535`);
  return port;
}

/** known_hosts / display form: `host` for port 22, `[host]:port` otherwise (sshd(8)). */
export function hostPortLabel(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}
