#!/usr/bin/env node
/**
 * `tunnel` CLI entry: argument parsing is citty's; every verb lives in `commands/<verb>.ts`
 * and is loaded lazily. Errors become one line on stderr (`tunnel: …`) and a non-zero exit,
 * never a stack trace (set TUNNEL_DEBUG=1 to see one).
 */
import { defineCommand, runCommand, showUsage } from "citty";
import { formatError } from "./errors.ts";

const main = defineCommand({
  meta: { name: "tunnel", version: "0.1.0", description: "SSH tunnels to private services, in pure TypeScript" },
  subCommands: {
    check: () => import("./commands/check.ts").then((m) => m.default),
    open: () => import("./commands/open.ts").then((m) => m.default),
    demo: () => import("./commands/demo.ts").then((m) => m.default),
    bench: () => import("./commands/bench.ts").then((m) => m.default),
    serve: () => import("./commands/serve.ts").then((m) => m.default),
  },
});

async function run(argv: string[]): Promise<void> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h") {
    await showUsage(main);
    return;
  }
  if (argv[0] === "--version" || argv[0] === "-v") {
    console.log("0.1.0");
    return;
  }
  const subs = main.subCommands as Record<string, () => Promise<Parameters<typeof showUsage>[0]>>;
  const sub = subs[argv[0] as string];
  if (!sub) {
    throw new TypeError(`unknown command "${argv[0]}"; expected one of: ${Object.keys(subs).join(", ")}`);
  }
  if (argv.includes("--help") || argv.includes("-h")) {
    await showUsage(await sub(), main);
    return;
  }
  await runCommand(main, { rawArgs: argv });
}

run(process.argv.slice(2)).then(
  () => {
    if (process.exitCode === undefined) process.exitCode = 0;
  },
  (err: unknown) => {
    process.stderr.write(`${formatError(err)}\n`);
    if (process.env.TUNNEL_DEBUG) console.error(err);
    process.exitCode = 1;
  },
);
