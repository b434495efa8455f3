/** `tunnel open TARGET… --via [user@]host[:port]`: local ports carried to private services. */
import {
  type CryptoMode,
  HOST_KEY_POLICIES,
  type HostKeyPolicy,
  loadEnvironment,
  parsePort,
  resolveTarget,
  TunnelSession,
} from "@tunnel/core";
import { defineCommand } from "citty";
import { algorithmArgs } from "../shared-args.ts";
import { VERB_DESCRIPTIONS } from "../verbs.ts";

export default defineCommand({
  meta: { name: "open", description: VERB_DESCRIPTIONS.open },
  args: {
    target: {
      type: "positional",
      required: true,
      description: "env var name (e.g. DATABASE_URL), URL, or host:port; several allowed",
    },
    via: { type: "string", description: "bastion [user@]host[:port] (default: $TUNNEL_VIA)" },
    port: { type: "string", alias: "p", description: "local port (default 10000, next free if busy)" },
    bind: { type: "string", description: "local address to listen on (default 127.0.0.1)" },
    "env-file": { type: "string", description: "read variables from this file" },
    identity: { type: "string", alias: "i", description: "private key file" },
    "known-hosts": { type: "string", description: "known_hosts file (default: ~/.ssh/known_hosts)" },
    "host-key-check": { type: "string", description: "yes | accept-new | no (default: accept-new)" },
    ...algorithmArgs,
    json: { type: "boolean", description: "one JSON object per target on stdout" },
    verbose: { type: "boolean", alias: "v", description: "log each connection" },
  },
  async run({ args }) {
    const policy = (args["host-key-check"] ?? "accept-new") as HostKeyPolicy;
    if (!HOST_KEY_POLICIES.includes(policy)) {
      throw new TypeError(`--host-key-check: "${policy}" is not a policy; expected yes, accept-new or no`);
    }
    const via = args.via ?? process.env.TUNNEL_VIA;
    if (!via)
      throw new TypeError("no bastion given; expected --via [user@]host[:port] or the TUNNEL_VIA environment variable");
    const env = loadEnvironment(process.env, { envFile: args["env-file"] });
    const specs = [args.target, ...(args._ as string[]).filter((a) => a !== args.target)];
    const targets = specs.map((s) => resolveTarget(s, env));
    const port = args.port === undefined ? undefined : parsePort(args.port, "--port");
    const err = (line: string) => process.stderr.write(`${line}\n`);
    if (policy === "no")
      err("WARNING: host key checking is OFF (--host-key-check no): anyone in the path can impersonate the bastion");
    for (const t of targets) err(`Building tunnel to ${t.host}:${t.port} via ${via}`);
    const session = new TunnelSession({
      targets,
      via,
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
      events: {
        info: err,
        ...(args.verbose ? { verbose: err } : {}),
        added: (info, file) => err(`Added ${info.key.type} host key ${info.fingerprint} for ${via} to ${file}`),
        unchecked: (info) => err(`WARNING: accepted ${info.key.type} host key ${info.fingerprint} without checking`),
      },
    });
    const opened = await session.start();
    // Signals are caught before the addresses are printed: whoever reads them may stop us at once.
    let interrupts = 0;
    const onSignal = () => {
      interrupts++;
      if (interrupts === 1) {
        err(`Closing: waiting for ${session.activeConnections} open connection(s) (Ctrl+C again to close at once)`);
        void session.stop(3000);
      } else session.forceStop();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    for (const o of opened) {
      const addr = o.localHost.includes(":") ? `[${o.localHost}]:${o.localPort}` : `${o.localHost}:${o.localPort}`;
      err(`You can access your ${o.target.url ? "service" : "target"} on ${addr}`);
      if (o.maskedUrl) err(`  ${o.maskedUrl}`);
      if (args.json) {
        process.stdout.write(
          `${JSON.stringify({ target: o.target.spec, remote: `${o.target.host}:${o.target.port}`, local: addr, url: o.url ?? null })}\n`,
        );
      } else process.stdout.write(`${addr}\n`);
    }
    err("Press Ctrl+C to close the tunnel");
    const failure = await session.ended;
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (failure) throw failure;
  },
});
