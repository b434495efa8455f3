/**
 * `tunnel run TARGET… -- COMMAND [ARGS…]`: opens the tunnels on free local ports, runs the
 * command with each TARGET variable pointing through its tunnel (run-env.ts in the engine
 * says which value each gets), passes signals on while it runs, then closes the tunnels and
 * exits with the command's status (or dies of the signal that ended it).
 */
import { spawn } from "node:child_process";
import { isatty } from "node:tty";
import { loadEnvironment, parsePort, resolveRunTargets, runVariables, TunnelSession } from "@tunnel/core";
import { defineCommand } from "citty";
import { bastionOptions, err, exitSoon, hostPort } from "../bastion.ts";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import { UsageError } from "../errors.ts";
import { bastionArgs, bindArg, envFileArg, FLAG_NAMES } from "../shared-args.ts";
import { exitLikeSignal, passSignals } from "../signals.ts";

/** The shell's statuses for a command that could not be run. */
const NOT_FOUND = 127;
const NOT_EXECUTABLE = 126;

export default defineCommand({
  meta: { name: "run", description: VERB_DESCRIPTIONS.run },
  args: {
    target: {
      type: "positional",
      required: true,
      description:
        "NAME of a variable holding a service URL or host:port, or NAME=URL, NAME=host:port; several allowed; then -- and the command",
    },
    port: { type: "string", alias: "p", description: "first local port (default: free ports the system picks)" },
    bind: bindArg,
    "env-file": envFileArg,
    ...bastionArgs,
  },
  async run({ args, rawArgs }) {
    const dashes = rawArgs.indexOf("--");
    if (dashes < 0 || dashes === rawArgs.length - 1) {
      throw new UsageError("no command given; expected tunnel run TARGET… -- COMMAND [ARGS…]");
    }
    const command = rawArgs.slice(dashes + 1);
    const positionals = args._ as string[];
    const specs = positionals.slice(0, positionals.length - command.length);
    const { options, via, graceMs } = bastionOptions(args);
    const env = loadEnvironment(process.env, { envFile: args["env-file"] });
    const targets = resolveRunTargets(specs, env, FLAG_NAMES);
    const port = args.port === undefined ? 0 : parsePort(args.port, "--port");
    const session = new TunnelSession({ ...options, targets, port, bind: args.bind });
    const opened = await session.start();
    const variables = runVariables(opened);
    for (const o of opened) {
      const shown = o.maskedUrl ?? hostPort(o.localHost, o.localPort);
      err(`${o.target.variable}=${shown}  (${hostPort(o.target.host, o.target.port)} via ${via})`);
    }
    const libpq = Object.keys(variables).filter((k) => k.startsWith("PG"));
    if (libpq.length > 0) err(`${libpq.join(", ")} set too, for psql and other libpq clients`);

    const [file, ...argv] = command as [string, ...string[]];
    const signals = passSignals(isatty(0));
    const child = spawn(file, argv, { stdio: "inherit", env: { ...process.env, ...variables } });
    signals.to(child);
    void session.ended.then((failure) => {
      if (failure && child.exitCode === null && child.signalCode === null) {
        err(`tunnel: the tunnel ended (${failure.message}); ${file} goes on without it`);
      }
    });
    const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
      (resolve) => {
        child.once("error", (error) => resolve({ code: null, signal: null, error }));
        child.once("exit", (code, signal) => resolve({ code, signal }));
      },
    );
    signals.dispose();
    // What the command left open is cut after the grace (its own children may still be using it).
    await session.stop(graceMs);
    exitSoon();
    if (outcome.error) {
      const code = (outcome.error as NodeJS.ErrnoException).code;
      err(
        code === "ENOENT"
          ? `tunnel: ${file}: command not found`
          : `tunnel: cannot run ${file}: ${outcome.error.message}`,
      );
      process.exitCode = code === "ENOENT" ? NOT_FOUND : NOT_EXECUTABLE;
      return;
    }
    if (outcome.signal) {
      exitLikeSignal(outcome.signal);
      return;
    }
    process.exitCode = outcome.code ?? 1;
  },
});
