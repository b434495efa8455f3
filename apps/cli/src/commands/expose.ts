/** `tunnel expose [HOST:]PORT --via BASTION`: a local service reachable on the bastion (as `ssh -R`). */
import { ExposeSession, parsePort } from "@tunnel/core";
import { defineCommand } from "citty";
import { bastionOptions, err, exitSoon, stopOnInterrupt } from "../bastion.ts";
import { UsageError } from "../errors.ts";
import { bastionArgs } from "../shared-args.ts";
import { VERB_DESCRIPTIONS } from "../verbs.ts";

/** `[HOST:]PORT` of the local service; IPv6 in brackets. */
export function parseLocalService(spec: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:[\]]+):)?(\d+)$/.exec(spec.trim());
  if (!m) throw new UsageError(`"${spec}" is not [HOST:]PORT; expected e.g. 3000 or 127.0.0.1:3000`);
  const host = (m[1] ?? "127.0.0.1").replace(/^\[|\]$/g, "");
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new UsageError(`"${spec}": port ${m[2]} is out of range; expected 1-65535`);
  return { host, port };
}

export default defineCommand({
  meta: { name: "expose", description: VERB_DESCRIPTIONS.expose },
  args: {
    service: { type: "positional", required: true, description: "the local service: [host:]port (host 127.0.0.1)" },
    "remote-port": {
      type: "string",
      description: "port to listen on at the bastion (default 0: one it chooses, printed)",
    },
    "remote-bind": {
      type: "string",
      description: "address to listen on at the bastion (default 127.0.0.1; its policy decides what else)",
    },
    ...bastionArgs,
    json: { type: "boolean", description: "print the addresses as a JSON object" },
  },
  async run({ args }) {
    const local = parseLocalService(args.service);
    const remotePort =
      args["remote-port"] === undefined || args["remote-port"] === "0"
        ? 0
        : parsePort(args["remote-port"], "--remote-port");
    const { options, via, graceMs } = bastionOptions(args);
    err(`Exposing ${local.host.includes(":") ? `[${local.host}]` : local.host}:${local.port} via ${via}`);
    const print = (address: string) =>
      process.stdout.write(
        args.json ? `${JSON.stringify({ remote: address, local: session.localAddress, via })}\n` : `${address}\n`,
      );
    const session: ExposeSession = new ExposeSession({
      ...options,
      localHost: local.host,
      localPort: local.port,
      remoteBind: args["remote-bind"],
      remotePort,
      events: {
        ...options.events,
        exposed: (address, again) => {
          if (!again) return;
          err(`The bastion listens on a new port now: ${address}`);
          print(address);
        },
      },
    });
    const address = await session.start();
    const interrupts = stopOnInterrupt(session, graceMs);
    err(`On the bastion's side, ${address} now reaches ${session.localAddress}`);
    print(address);
    err("Press Ctrl+C to close the tunnel");
    const failure = await session.ended;
    interrupts.dispose();
    exitSoon();
    if (failure) throw failure;
  },
});
