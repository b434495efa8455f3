/** `tunnel list [--json]`: the tunnels running (foreground and background), and those found dead. */
import { defineCommand } from "citty";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import { corruptError, findTunnels, formatBytes, formatUptime, table } from "../tunnels.ts";

export default defineCommand({
  meta: { name: "list", description: VERB_DESCRIPTIONS.list },
  args: {
    json: { type: "boolean", description: "one JSON object per tunnel (dead ones too, with state dead)" },
  },
  async run({ args }) {
    // Dead tunnels are in the listing itself (state dead), not said again on stderr.
    const found = await findTunnels(true);
    if (args.json) {
      for (const s of found.all) {
        if (s.kind === "live") process.stdout.write(`${JSON.stringify(s.status)}\n`);
        else if (s.kind === "dead")
          process.stdout.write(`${JSON.stringify({ ...s.record, state: "dead", why: s.why })}\n`);
      }
    } else if (found.all.some((s) => s.kind !== "corrupt")) {
      const rows: string[][] = [["NAME", "TARGET", "LOCAL", "VIA", "STATE", "UPTIME", "CONNS", "IN", "OUT", "PID"]];
      for (const s of found.all) {
        if (s.kind === "corrupt") continue;
        const r = s.kind === "live" ? s.status : s.record;
        const state = s.kind === "live" ? s.status.state : "dead";
        const live = s.kind === "live" ? s.status : undefined;
        r.targets.forEach((t, i) => {
          const first = i === 0;
          rows.push([
            first ? r.name : "",
            t.spec,
            t.local,
            first ? r.via : "",
            first ? state : "",
            first && live ? formatUptime(r.started) : "",
            first && live ? String(live.connections) : "",
            first && live ? formatBytes(live.bytesIn) : "",
            first && live ? formatBytes(live.bytesOut) : "",
            first ? String(r.pid) : "",
          ]);
        });
        if (r.targets.length === 0) rows.push([r.name, "", "", r.via, state, "", "", "", "", String(r.pid)]);
      }
      process.stdout.write(`${table(rows)}\n`);
    } else if (!found.all.length) {
      process.stderr.write("No tunnels are running (tunnel open … --detach starts one in the background)\n");
    }
    const bad = corruptError(found);
    if (bad) throw bad;
  },
});
