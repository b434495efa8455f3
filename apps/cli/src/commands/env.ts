/**
 * `tunnel env [NAME…]`: `export VARIABLE='local URL'` lines for `eval "$(tunnel env)"`, one
 * per target that came from a variable; values single-quoted for sh (a `'` inside becomes
 * `'\''`), so nothing in a password is ever run by the shell.
 */
import type { SecretTarget } from "@tunnel/core";
import { defineCommand } from "citty";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import { findTunnels, namesFrom, pick } from "../tunnels.ts";
import { secretInfo } from "./info.ts";

/** Single-quoted for sh. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export default defineCommand({
  meta: { name: "env", description: VERB_DESCRIPTIONS.env },
  args: {
    name: { type: "positional", required: false, description: "tunnel names (default: every running tunnel)" },
  },
  async run({ args }) {
    const found = await findTunnels();
    const infos = await secretInfo(found.dir, pick(found, namesFrom(args)));
    const lines: string[] = [];
    for (const t of infos) {
      for (const s of t.targets as SecretTarget[]) {
        if (s.variable) lines.push(`export ${s.variable}=${shellQuote(s.fullUrl ?? s.local)}`);
        else lines.push(`# ${t.name}: ${s.remote} is on ${s.local} (no variable named it)`);
      }
    }
    if (lines.length) process.stdout.write(`${lines.join("\n")}\n`);
  },
});
