/** `tunnel socks [--port 1080] --via BASTION`: a SOCKS5 proxy through the bastion (as `ssh -D`). */
import { parsePort, socksRouter, socksTarget, TunnelSession } from "@tunnel/core";
import { defineCommand } from "citty";
import { bastionOptions, err, exitSoon, hostPort, stopOnInterrupt } from "../bastion.ts";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import { bastionArgs, bindArg } from "../shared-args.ts";

export const DEFAULT_SOCKS_PORT = 1080;

export default defineCommand({
  meta: { name: "socks", description: VERB_DESCRIPTIONS.socks },
  args: {
    port: { type: "string", alias: "p", description: `local port (default ${DEFAULT_SOCKS_PORT}; 0: any free one)` },
    bind: bindArg,
    ...bastionArgs,
    json: { type: "boolean", description: "print the proxy's address as a JSON object" },
  },
  async run({ args }) {
    const { options, via, graceMs } = bastionOptions(args);
    const port = args.port === undefined ? DEFAULT_SOCKS_PORT : args.port === "0" ? 0 : parsePort(args.port, "--port");
    err(`Building a SOCKS5 proxy via ${via}`);
    const session = new TunnelSession({
      ...options,
      targets: [socksTarget()],
      port,
      bind: args.bind,
      route: socksRouter({ events: options.events ?? {} }),
    });
    const [opened] = await session.start();
    const interrupts = stopOnInterrupt(session, graceMs);
    if (opened) {
      const addr = hostPort(opened.localHost, opened.localPort);
      err(`SOCKS5 proxy on ${addr}: e.g. curl --socks5-hostname ${addr} http://host.internal/`);
      process.stdout.write(args.json ? `${JSON.stringify({ socks5: addr, via })}\n` : `${addr}\n`);
    }
    err("Press Ctrl+C to close the proxy");
    const failure = await session.ended;
    interrupts.dispose();
    exitSoon();
    if (failure) throw failure;
  },
});
