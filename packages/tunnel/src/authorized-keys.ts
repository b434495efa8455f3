/**
 * authorized_keys for `tunnel serve` (sshd(8) AUTHORIZED_KEYS FILE FORMAT). Options honoured:
 * `permitopen="host:port"` (restricts where the key may forward; several allowed) and
 * `restrict`/`no-pty`/`no-X11-forwarding`/`no-agent-forwarding`/`no-user-rc` (nothing to do on a
 * forwarding-only server). Any other option (from=, command=, …) makes the key unusable, and
 * says so — a key is never accepted with a restriction silently dropped.
 */
import * as fs from "node:fs";
import { type PublicKey, parseAuthorizedKeysLine, publicKeyEquals } from "@tunnel/ssh";

export interface AuthorizedKey {
  key: PublicKey;
  /** undefined: any destination the server allows; otherwise only these host:port pairs. */
  permitOpen: string[] | undefined;
  line: number;
}

const HARMLESS = new Set([
  "restrict",
  "no-pty",
  "no-x11-forwarding",
  "no-agent-forwarding",
  "no-user-rc",
  "no-port-forwarding",
]);

export function loadAuthorizedKeys(file: string, warn: (line: string) => void): AuthorizedKey[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new TypeError(`cannot read authorized keys file ${file}: ${(err as Error).message}`);
  }
  const out: AuthorizedKey[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    let parsed: ReturnType<typeof parseAuthorizedKeysLine>;
    try {
      parsed = parseAuthorizedKeysLine(line);
    } catch (err) {
      warn(`${file}:${i + 1}: skipped: ${(err as Error).message}`);
      return;
    }
    let permitOpen: string[] | undefined;
    let usable = true;
    for (const opt of parsed.options) {
      const eq = opt.indexOf("=");
      const name = (eq < 0 ? opt : opt.slice(0, eq)).toLowerCase();
      const value = eq < 0 ? "" : opt.slice(eq + 1).replace(/^"|"$/g, "");
      if (name === "permitopen") {
        permitOpen = permitOpen ?? [];
        permitOpen.push(value);
      } else if (name === "no-port-forwarding") {
        warn(`${file}:${i + 1}: key has no-port-forwarding; it cannot be used on a forwarding-only server`);
        usable = false;
      } else if (!HARMLESS.has(name)) {
        warn(`${file}:${i + 1}: skipped: option "${name}" is not supported by tunnel serve`);
        usable = false;
      }
    }
    if (usable) out.push({ key: parsed.key, permitOpen, line: i + 1 });
  });
  return out;
}

export function findAuthorizedKey(keys: readonly AuthorizedKey[], key: PublicKey): AuthorizedKey | undefined {
  return keys.find((k) => publicKeyEquals(k.key, key));
}

/** permitopen matching: exact host, port or `*` (sshd(8)). */
export function permitOpenAllows(permit: readonly string[] | undefined, host: string, port: number): boolean {
  if (!permit) return true;
  return permit.some((p) => {
    const i = p.lastIndexOf(":");
    if (i < 0) return false;
    const h = p.slice(0, i).replace(/^\[|\]$/g, "");
    const pp = p.slice(i + 1);
    return (h === "*" || h.toLowerCase() === host.toLowerCase()) && (pp === "*" || Number(pp) === port);
  });
}
