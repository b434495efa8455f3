/**
 * `tunnel close NAME… | --all`: the graceful stop of `tunnel open` (what Ctrl+C does: no new
 * connections, open ones finish within the tunnel's --grace, then the rest are cut), asked
 * over each tunnel's control socket; returns once each process has exited.
 */
import { ask, waitForExit } from "@tunnel/core";
import { defineCommand } from "citty";
import { err } from "../bastion.ts";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import { UsageError } from "../errors.ts";
import { findTunnels, namesFrom, pick } from "../tunnels.ts";

/** How long a tunnel may take to exit once asked: its grace period and then some. */
const EXIT_WAIT_MS = 60_000;

export default defineCommand({
  meta: { name: "close", description: VERB_DESCRIPTIONS.close },
  args: {
    name: { type: "positional", required: false, description: "names of the tunnels to close (tunnel list)" },
    all: { type: "boolean", description: "close every running tunnel" },
  },
  async run({ args }) {
    const names = namesFrom(args);
    if (names.length === 0 && !args.all) throw new UsageError("missing NAME; expected tunnel close NAME… or --all");
    if (names.length > 0 && args.all)
      throw new UsageError("--all closes every tunnel; expected names or --all, not both");
    const found = await findTunnels();
    const tunnels = pick(found, names);
    if (tunnels.length === 0) err("No tunnels are running");
    await Promise.all(
      tunnels.map(async (t) => {
        const { pid } = (await ask(found.dir, t.name, "close")) as { pid: number };
        if (!(await waitForExit(pid, EXIT_WAIT_MS))) {
          throw new Error(`tunnel "${t.name}" (pid ${pid}) did not exit within ${EXIT_WAIT_MS / 1000} s`);
        }
        err(`Closed ${t.name}`);
      }),
    );
  },
});
