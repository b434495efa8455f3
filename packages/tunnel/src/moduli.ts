/**
 * The groups `tunnel serve` offers for diffie-hellman-group-exchange (RFC 4419 §3): the
 * system's moduli(5) file, as sshd uses, when it is readable and has usable groups; otherwise
 * the built-in list (RFC 3526 groups 14–18) that the transport falls back to.
 */
import * as fs from "node:fs";
import { type DhGroup, parseModuli } from "@tunnel/ssh";

export const SYSTEM_MODULI = "/etc/ssh/moduli";

/** The usable groups of `file`, or undefined (unreadable, or nothing usable in it). Skipped lines go to `note`. */
export function loadModuli(file = SYSTEM_MODULI, note?: (line: string) => void): DhGroup[] | undefined {
  let text: string;
  try {
    // A moduli file is about 500 KiB; anything far larger is not one.
    if (fs.statSync(file).size > 16 * 1024 * 1024) {
      note?.(`${file}: larger than 16 MiB; using the built-in groups`);
      return undefined;
    }
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const { groups, skipped } = parseModuli(text);
  for (const line of skipped) note?.(`${file}: ${line}`);
  return groups.length > 0 ? groups : undefined;
}
