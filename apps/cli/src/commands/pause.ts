/**
 * `tunnel pause NAME…`: the tunnel stops accepting local connections (its port is closed: a
 * client is refused) and keeps its connection to the bastion and the connections already
 * open; `tunnel resume` listens again on the same port.
 */
import { ask, type TunnelStatus } from "@tunnel/core";
import { defineCommand } from "citty";
import { err } from "../bastion.ts";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import { findTunnels, namesFrom, pick } from "../tunnels.ts";

/** Sends `op` to each named tunnel and says what became of it. */
export async function steer(names: readonly string[], op: "pause" | "resume"): Promise<void> {
  const found = await findTunnels();
  for (const t of pick(found, names)) {
    const s = (await ask(found.dir, t.name, op)) as TunnelStatus;
    const ports = s.targets.map((x) => x.local).join(", ");
    err(
      op === "pause"
        ? `Paused ${t.name}: ${ports} refuses new connections`
        : `Resumed ${t.name}: listening on ${ports}`,
    );
  }
}

export default defineCommand({
  meta: { name: "pause", description: VERB_DESCRIPTIONS.pause },
  args: {
    name: { type: "positional", required: true, description: "names of the tunnels to pause (tunnel list)" },
  },
  async run({ args }) {
    await steer(namesFrom(args), "pause");
  },
});
