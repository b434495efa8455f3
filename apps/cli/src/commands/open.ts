/** `tunnel open TARGET… --via [user@]host[:port]`: local ports carried to private services. */
import {
  ask,
  checkName,
  defaultName,
  type EventLog,
  loadEnvironment,
  parsePort,
  resolveTarget,
  type SecretTarget,
  TunnelSession,
  type TunnelStatus,
} from "@tunnel/core";
import { defineCommand } from "citty";
import { startInBackground } from "../background.ts";
import { err, exitSoon, gracefulStop, hostPort, readBastionArgs, stopOnInterrupt } from "../bastion.ts";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import {
  backgroundName,
  eventSinks,
  hostTunnel,
  openedRecords,
  runHosted,
  startHosted,
  stateDirectory,
} from "../managed.ts";
import {
  algorithmArgs,
  bindArg,
  envFileArg,
  FLAG_NAMES,
  graceArg,
  hostKeyCheckArg,
  identityArg,
  keepaliveArgs,
  knownHostsArg,
  routeArgs,
  verboseArg,
  viaArg,
} from "../shared-args.ts";

export default defineCommand({
  meta: { name: "open", description: VERB_DESCRIPTIONS.open },
  args: {
    target: {
      type: "positional",
      required: true,
      description: "env var name (e.g. DATABASE_URL), URL, or host:port; several allowed",
    },
    via: viaArg,
    ...routeArgs,
    port: { type: "string", alias: "p", description: "local port (default 10000, next free if busy)" },
    bind: bindArg,
    "env-file": envFileArg,
    identity: identityArg,
    "known-hosts": knownHostsArg,
    "host-key-check": hostKeyCheckArg,
    ...algorithmArgs,
    grace: { ...graceArg, description: "on Ctrl+C, seconds open connections may finish in (default 3)" },
    ...keepaliveArgs,
    "connect-timeout": {
      ...keepaliveArgs["connect-timeout"],
      description:
        "seconds to wait for the bastion (default: ssh_config's ConnectTimeout, else 15), and a local connection to wait during an outage (default 15)",
    },
    json: { type: "boolean", description: "one JSON object per target on stdout" },
    detach: {
      type: "boolean",
      alias: "d",
      description: "run in the background once it listens (tunnel list, logs, close NAME)",
    },
    name: {
      type: "string",
      description: "the tunnel's name in tunnel list (default: from the first variable, e.g. database, or host-port)",
    },
    verbose: verboseArg,
  },
  async run({ args }) {
    const background = backgroundName();
    let log: EventLog | undefined;
    const sinks = eventSinks(background !== undefined, args.verbose === true, () => log);
    const { say } = sinks;
    const { options, via, graceMs, warnings } = readBastionArgs(args, sinks);
    const env = loadEnvironment(process.env, { envFile: args["env-file"] });
    const specs = [args.target, ...(args._ as string[]).filter((a) => a !== args.target)];
    const targets = specs.map((s) => resolveTarget(s, env, FLAG_NAMES));
    const port = args.port === undefined ? undefined : parsePort(args.port, "--port");
    const explicitName = args.name === undefined ? undefined : checkName(args.name, FLAG_NAMES);
    if (args.detach && background === undefined) {
      // Every flag above is checked before the background process starts.
      const record = await startInBackground(
        process.argv.slice(2),
        explicitName ?? defaultName(targets[0] as (typeof targets)[0]),
        explicitName !== undefined,
      );
      // --json prints the full URL as the foreground does: asked of the process, never on disk.
      const full = args.json ? ((await ask(stateDirectory(), record.name, "info")) as TunnelStatus) : record;
      for (const t of full.targets as SecretTarget[]) {
        err(`You can access your ${t.url ? "service" : "target"} on ${t.local}`);
        if (t.url) err(`  ${t.url}`);
        if (args.json) {
          const line = {
            target: t.spec,
            remote: t.remote,
            local: t.local,
            url: t.fullUrl,
            name: record.name,
            pid: record.pid,
          };
          process.stdout.write(`${JSON.stringify(line)}\n`);
        } else process.stdout.write(`${t.local}\n`);
      }
      err(
        `Tunnel "${record.name}" runs in the background (pid ${record.pid}); tunnel logs ${record.name}, tunnel close ${record.name}`,
      );
      return;
    }
    // Not a flag: lets tests force frequent key re-exchanges.
    const rekeyBytes = process.env.TUNNEL_REKEY_BYTES ? Number(process.env.TUNNEL_REKEY_BYTES) : undefined;
    for (const line of warnings) say(line);
    const session = new TunnelSession({
      ...options,
      targets,
      port,
      bind: args.bind,
      // In the background nobody can answer a prompt (BatchMode).
      ...(background !== undefined ? { prompter: false as const } : {}),
      rekeyBytes,
    });
    const stop = gracefulStop(session, graceMs, say);
    const host = await hostTunnel({
      name: background ?? explicitName ?? defaultName(targets[0] as (typeof targets)[0]),
      explicit: background !== undefined || explicitName !== undefined,
      kind: "open",
      via,
      detached: background !== undefined,
      session,
      ports: port === undefined ? [] : targets.map((_, i) => port + i),
      close: stop,
    });
    log = host?.log;
    const through = args.jump !== undefined && args.jump !== "none" ? ` through ${args.jump}` : "";
    for (const t of targets) say(`Building tunnel to ${t.host}:${t.port} via ${via}${through}`);
    const opened = await startHosted(session, host, background);
    // Signals are caught before the addresses are printed: whoever reads them may stop us at once.
    const interrupts = stopOnInterrupt(session, graceMs, say, stop);
    host?.ready(openedRecords(opened));
    for (const o of opened) {
      const addr = hostPort(o.localHost, o.localPort);
      say(`You can access your ${o.target.url ? "service" : "target"} on ${addr}`);
      if (o.maskedUrl) say(`  ${o.maskedUrl}`);
      if (background !== undefined) continue;
      if (args.json) {
        process.stdout.write(
          `${JSON.stringify({ target: o.target.spec, remote: `${o.target.host}:${o.target.port}`, local: addr, url: o.url ?? null })}\n`,
        );
      } else process.stdout.write(`${addr}\n`);
    }
    if (background === undefined) err("Press Ctrl+C to close the tunnel");
    const failure = await runHosted(session, host, background, interrupts);
    exitSoon();
    if (failure) throw failure;
  },
});
