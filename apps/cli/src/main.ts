#!/usr/bin/env node
/**
 * `tunnel` CLI entry: argument parsing is citty's, after argv.ts has checked every token
 * against the verb's definitions (citty alone takes unknown options silently); every verb
 * (descriptions.ts) lives in `commands/<verb>.ts` and is loaded only when it runs (`verbs.ts`),
 * so `tunnel --help` and `tunnel --version` load nothing else. Errors become one line on stderr
 * (`tunnel: …`, TUNNEL_DEBUG=1 adds the stack trace) and the exit status says what kind:
 * 1 a failure, 2 a command line that is wrong (errors.ts).
 */
import type { ArgsDef } from "citty";
import { checkArgs } from "./argv.ts";
import { isVerb, VERB_DESCRIPTIONS } from "./descriptions.ts";
import { exitCodeFor, formatError, UsageError } from "./errors.ts";
import { renderMainHelp, renderVerbHelp, useColor, VERB_HELP, VERSION } from "./help.ts";
import { VERB_LOADERS } from "./verbs.ts";

async function run(argv: string[]): Promise<void> {
  const first = argv[0];
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(renderMainHelp(useColor(process.stdout)));
    return;
  }
  if (first === "--version" || first === "-v") {
    console.log(VERSION);
    return;
  }
  if (!isVerb(first)) {
    const what = first.startsWith("-") ? `unknown option ${first}` : `unknown command "${first}"`;
    throw new UsageError(`${what}; expected one of: ${Object.keys(VERB_DESCRIPTIONS).join(", ")} (tunnel --help)`);
  }
  const rest = argv.slice(1);
  const [{ runCommand }, command] = await Promise.all([import("citty"), VERB_LOADERS[first]()]);
  const args = (command.args ?? {}) as ArgsDef;
  // Help is asked for before `--` only: after it, `--help` belongs to the command `run` runs.
  const end = rest.indexOf("--");
  const options = end < 0 ? rest : rest.slice(0, end);
  if (options.includes("--help") || options.includes("-h")) {
    process.stdout.write(renderVerbHelp(first, args, useColor(process.stdout)));
    return;
  }
  const help = VERB_HELP[first];
  checkArgs(args, rest, { verb: first, positionals: help.positionals, command: help.command ?? false });
  await runCommand(command, { rawArgs: rest });
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
    process.exitCode = exitCodeFor(err);
  },
);
