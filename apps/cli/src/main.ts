#!/usr/bin/env node
/**
 * `tunnel` CLI entry: argument parsing is citty's; every verb lives in `commands/<verb>.ts`
 * and is loaded only when it runs (`verbs.ts`), so `tunnel --help` and `tunnel --version`
 * load nothing else. Errors become one line on stderr (`tunnel: …`) and a non-zero exit,
 * never a stack trace (set TUNNEL_DEBUG=1 to see one).
 */
import { formatError } from "./errors.ts";
import { isVerb, VERB_DESCRIPTIONS, VERB_LOADERS } from "./verbs.ts";

const VERSION = "0.1.0";

function usage(): string {
  const names = Object.keys(VERB_DESCRIPTIONS);
  const width = Math.max(...names.map((n) => n.length));
  const lines = Object.entries(VERB_DESCRIPTIONS).map(([name, text]) => `  ${name.padEnd(width)}  ${text}`);
  return [
    `SSH tunnels to private services, in pure TypeScript (tunnel v${VERSION})`,
    "",
    `Usage: tunnel ${names.join("|")} [options]`,
    "",
    "Commands:",
    ...lines,
    "",
    "Use `tunnel <command> --help` for the options of a command.",
    "",
  ].join("\n");
}

async function run(argv: string[]): Promise<void> {
  const first = argv[0];
  if (first === undefined || first === "--help" || first === "-h") {
    process.stdout.write(usage());
    return;
  }
  if (first === "--version" || first === "-v") {
    console.log(VERSION);
    return;
  }
  if (!isVerb(first)) {
    throw new TypeError(`unknown command "${first}"; expected one of: ${Object.keys(VERB_DESCRIPTIONS).join(", ")}`);
  }
  const [{ runCommand, showUsage }, command] = await Promise.all([import("citty"), VERB_LOADERS[first]()]);
  if (argv.includes("--help") || argv.includes("-h")) {
    await showUsage(command, { meta: { name: "tunnel", version: VERSION } });
    return;
  }
  await runCommand(command, { rawArgs: argv.slice(1) });
}

// A reader that went away (`| head`, a closed terminal) ends the command quietly, with the
// status it had so far, never with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED") process.exit(process.exitCode ?? 0);
    throw err;
  });
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
