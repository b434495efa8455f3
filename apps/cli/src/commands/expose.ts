/** `tunnel expose [HOST:]PORT --via BASTION`: a local service reachable on the bastion (as `ssh -R`). */
import { checkName, type EventLog, ExposeSession, parsePort, type SecretTarget } from "@tunnel/core";
import { defineCommand } from "citty";
import { startInBackground } from "../background.ts";
import { err, exitSoon, readBastionArgs, stopOnInterrupt } from "../bastion.ts";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import { UsageError } from "../errors.ts";
import { backgroundName, eventSinks, hostTunnel, runHosted, startHosted } from "../managed.ts";
import { bastionArgs, FLAG_NAMES } from "../shared-args.ts";

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
    detach: {
      type: "boolean",
      alias: "d",
      description: "run in the background once the bastion listens (tunnel list, logs, close NAME)",
    },
    name: { type: "string", description: "the tunnel's name in tunnel list (default: expose-PORT)" },
  },
  async run({ args }) {
    const local = parseLocalService(args.service);
    const remotePort =
      args["remote-port"] === undefined || args["remote-port"] === "0"
        ? 0
        : parsePort(args["remote-port"], "--remote-port");
    const background = backgroundName();
    let log: EventLog | undefined;
    const sinks = eventSinks(background !== undefined, args.verbose === true, () => log);
    const { say } = sinks;
    const { options, via, graceMs, warnings } = readBastionArgs(args, sinks);
    for (const line of warnings) err(line);
    const explicitName = args.name === undefined ? undefined : checkName(args.name, FLAG_NAMES);
    const name = explicitName ?? `expose-${local.port}`;
    const localSpec = `${local.host.includes(":") ? `[${local.host}]` : local.host}:${local.port}`;
    if (args.detach && background === undefined) {
      const record = await startInBackground(process.argv.slice(2), name, explicitName !== undefined);
      const remote = record.targets[0]?.remote ?? "";
      err(`On the bastion's side, ${remote} now reaches ${localSpec}`);
      process.stdout.write(
        args.json
          ? `${JSON.stringify({ remote, local: localSpec, via, name: record.name, pid: record.pid })}\n`
          : `${remote}\n`,
      );
      err(
        `Tunnel "${record.name}" runs in the background (pid ${record.pid}); tunnel logs ${record.name}, tunnel close ${record.name}`,
      );
      return;
    }
    say(`Exposing ${localSpec} via ${via}`);
    const print = (address: string) => {
      if (background === undefined)
        process.stdout.write(
          args.json ? `${JSON.stringify({ remote: address, local: session.localAddress, via })}\n` : `${address}\n`,
        );
    };
    const records = (address: string): SecretTarget[] => [
      { spec: args.service, variable: null, remote: address, local: session.localAddress, url: null, fullUrl: null },
    ];
    const session: ExposeSession = new ExposeSession({
      ...options,
      ...(background !== undefined ? { prompter: false as const } : {}),
      localHost: local.host,
      localPort: local.port,
      remoteBind: args["remote-bind"],
      remotePort,
      events: {
        ...options.events,
        added: (info, file) => say(`Added ${info.key.type} host key ${info.fingerprint} for ${via} to ${file}`),
        exposed: (address, again) => {
          if (!again) return;
          say(`The bastion listens on a new port now: ${address}`);
          host?.update(records(address));
          print(address);
        },
      },
    });
    const host = await hostTunnel({
      name: background ?? name,
      explicit: background !== undefined || explicitName !== undefined,
      kind: "expose",
      via,
      detached: background !== undefined,
      session,
      close: () => {
        say("Closing");
        void session.stop(graceMs);
      },
    });
    log = host?.log;
    const address = await startHosted(session, host, background);
    const interrupts = stopOnInterrupt(session, graceMs);
    host?.ready(records(address));
    say(`On the bastion's side, ${address} now reaches ${session.localAddress}`);
    print(address);
    if (background === undefined) err("Press Ctrl+C to close the tunnel");
    const failure = await runHosted(session, host, background, interrupts);
    exitSoon();
    if (failure) throw failure;
  },
});
