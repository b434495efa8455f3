/** `tunnel open TARGET… --via [user@]host[:port]`: local ports carried to private services. */
import {
  ask,
  type CryptoMode,
  checkName,
  defaultName,
  type EventLog,
  HOST_KEY_POLICIES,
  type HostKeyPolicy,
  loadEnvironment,
  parsePort,
  resolveTarget,
  type SecretTarget,
  TunnelSession,
  type TunnelStatus,
} from "@tunnel/core";
import { defineCommand } from "citty";
import { startInBackground } from "../background.ts";
import { err, hostPort } from "../bastion.ts";
import { UsageError } from "../errors.ts";
import { backgroundName, eventSinks, hostTunnel, openedRecords, stateDirectory } from "../managed.ts";
import { algorithmArgs } from "../shared-args.ts";
import { onInterrupt, parseCount, parseSeconds } from "../signals.ts";
import { parseSize } from "../units.ts";
import { VERB_DESCRIPTIONS } from "../verbs.ts";

export default defineCommand({
  meta: { name: "open", description: VERB_DESCRIPTIONS.open },
  args: {
    target: {
      type: "positional",
      required: true,
      description: "env var name (e.g. DATABASE_URL), URL, or host:port; several allowed",
    },
    via: {
      type: "string",
      description: "bastion [user@]host[:port], or a Host from ssh_config (default: $TUNNEL_VIA)",
    },
    jump: {
      type: "string",
      alias: "J",
      description:
        "jump hosts [user@]host[:port],… to pass through first, each resolved through ssh_config (none: not the config's ProxyJump)",
    },
    config: {
      type: "string",
      alias: "F",
      description: "ssh_config file to read instead of ~/.ssh/config and /etc/ssh/ssh_config (none: no file)",
    },
    port: { type: "string", alias: "p", description: "local port (default 10000, next free if busy)" },
    bind: { type: "string", description: "local address to listen on (default 127.0.0.1)" },
    "env-file": { type: "string", description: "read variables from this file" },
    identity: {
      type: "string",
      alias: "i",
      description: "private key file, tried before ssh_config's IdentityFile ones",
    },
    "known-hosts": {
      type: "string",
      description: "the known_hosts file (default: ssh_config's, else ~/.ssh/known_hosts and the system's)",
    },
    "host-key-check": {
      type: "string",
      description: "yes | accept-new | no (default: ssh_config's StrictHostKeyChecking, else accept-new)",
    },
    ...algorithmArgs,
    grace: { type: "string", description: "on Ctrl+C, seconds open connections may finish in (default 3)" },
    keepalive: {
      type: "string",
      description:
        "seconds of silence before an SSH keepalive is sent (default: ssh_config's ServerAliveInterval, else 15; 0 turns them off)",
    },
    "keepalive-count": {
      type: "string",
      description:
        "silent keepalive intervals before the bastion counts as gone (default: ServerAliveCountMax, else 3)",
    },
    reconnect: {
      type: "boolean",
      default: true,
      description: "reconnect when the connection to the bastion is lost (--no-reconnect: exit instead)",
    },
    "connect-timeout": {
      type: "string",
      description:
        "seconds to wait for the bastion (default: ssh_config's ConnectTimeout, else 15), and a local connection to wait during an outage (default 15)",
    },
    "max-window": {
      type: "string",
      description: "largest receive window a connection may grow to on long links (default 16M)",
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
    verbose: { type: "boolean", alias: "v", description: "log each connection and the ssh_config lines that applied" },
  },
  async run({ args }) {
    const policy = args["host-key-check"] as HostKeyPolicy | undefined;
    if (policy !== undefined && !HOST_KEY_POLICIES.includes(policy)) {
      throw new TypeError(`--host-key-check: "${policy}" is not a policy; expected yes, accept-new or no`);
    }
    const via = args.via ?? process.env.TUNNEL_VIA;
    if (!via) {
      throw new UsageError(
        "no bastion given; expected --via [user@]host[:port] or the TUNNEL_VIA environment variable",
      );
    }
    const env = loadEnvironment(process.env, { envFile: args["env-file"] });
    const specs = [args.target, ...(args._ as string[]).filter((a) => a !== args.target)];
    const targets = specs.map((s) => resolveTarget(s, env));
    const port = args.port === undefined ? undefined : parsePort(args.port, "--port");
    const graceMs = parseSeconds(args.grace, "--grace", 3);
    // Absent flags stay undefined: ssh_config's values, then the session's defaults, apply.
    const keepaliveMs = args.keepalive === undefined ? undefined : parseSeconds(args.keepalive, "--keepalive", 15);
    const keepaliveCountMax =
      args["keepalive-count"] === undefined ? undefined : parseCount(args["keepalive-count"], "--keepalive-count", 3);
    const connectTimeoutMs =
      args["connect-timeout"] === undefined
        ? undefined
        : parseSeconds(args["connect-timeout"], "--connect-timeout", 15);
    const maxWindow = parseSize(args["max-window"], "--max-window", 16 * 1024 * 1024);
    const explicitName = args.name === undefined ? undefined : checkName(args.name);
    const background = backgroundName();
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
    let log: EventLog | undefined;
    const { say, detail } = eventSinks(background !== undefined, args.verbose === true, () => log);
    if (policy === "no")
      say("WARNING: host key checking is OFF (--host-key-check no): anyone in the path can impersonate the bastion");
    const session = new TunnelSession({
      targets,
      via,
      jump: args.jump,
      sshConfig: args.config ?? true,
      port,
      bind: args.bind,
      identity: args.identity,
      knownHosts: args["known-hosts"],
      hostKeyCheck: policy,
      kexAlgorithms: args["kex-algorithms"],
      hostKeyAlgorithms: args["host-key-algorithms"],
      ciphers: args.ciphers,
      macs: args.macs,
      crypto: args.crypto as CryptoMode | undefined,
      password: process.env.TUNNEL_PASSWORD,
      // In the background nobody can answer a prompt (BatchMode).
      ...(background !== undefined ? { prompter: false as const } : {}),
      keepaliveMs,
      keepaliveCountMax,
      connectTimeoutMs,
      reconnect: args.reconnect !== false,
      rekeyBytes,
      maxWindow,
      events: {
        info: say,
        verbose: detail,
        added: (info, file) =>
          say(`Added ${info.key.type} host key ${info.fingerprint} for ${hostPort(info.host, info.port)} to ${file}`),
        unchecked: (info) => say(`WARNING: accepted ${info.key.type} host key ${info.fingerprint} without checking`),
      },
    });
    const stop = () => {
      const n = session.activeConnections;
      if (n === 0) say("Closing");
      else
        say(`Closing: waiting up to ${graceMs / 1000} s for ${n} open connection(s) (Ctrl+C again to close at once)`);
      void session.stop(graceMs).then((cut) => {
        if (cut > 0) say(`Closed ${cut} connection(s) still open after ${graceMs / 1000} s`);
      });
    };
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
    let opened: Awaited<ReturnType<TunnelSession["start"]>>;
    try {
      opened = await session.start();
    } catch (e) {
      // In the background, main.ts's error line lands in the log (its stderr) already.
      if (background === undefined) log?.write(`tunnel: ${(e as Error).message}`);
      await host?.release();
      throw e;
    }
    // Signals are caught before the addresses are printed: whoever reads them may stop us at once.
    const interrupts = onInterrupt(stop, () => {
      say("Closing at once");
      session.forceStop();
    });
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
    const failure = await session.ended;
    interrupts.dispose();
    if (!failure) log?.write("Closed");
    else if (background === undefined) log?.write(`tunnel: ${failure.message}`);
    await host?.release();
    // Sockets still lingering over their last bytes must not hold the exit up past the grace.
    const exitSoon = setTimeout(() => process.exit(), 500);
    (exitSoon as { unref?: () => void }).unref?.();
    if (failure) throw failure;
  },
});
