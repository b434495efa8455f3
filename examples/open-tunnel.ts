/**
 * Open a tunnel from a program: a local port that reaches TARGET through the SSH server VIA,
 * as `tunnel open` does — host key checked against known_hosts, keys as ssh would offer them,
 * kept alive and reconnected until Ctrl+C.
 *
 *   node --import tsx examples/open-tunnel.ts deploy@bastion.example.com 10.0.0.12:5432
 *   (also `--known-hosts FILE`, `--identity FILE`; TARGET may be a URL or a variable holding one)
 */
import { parseArgs } from "node:util";
import { resolveTarget, TunnelSession } from "@tunnel/core";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { "known-hosts": { type: "string" }, identity: { type: "string" } },
});
const [via = "", target = ""] = positionals;
const session = new TunnelSession({
  via,
  targets: [resolveTarget(target, process.env)],
  port: 0, // any free local port
  knownHosts: values["known-hosts"],
  identity: values.identity,
  hostKeyCheck: "yes",
});
const [opened] = await session.start();
console.log(`${target} is on ${opened?.localHost}:${opened?.localPort}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void session.stop());
