/**
 * `--detach`: the same command line started again as a background process of this same
 * runtime (its executable, and the entry this process runs from), in its own session, with
 * stdin closed and stdout/stderr appended to the tunnel's log. This process waits until the
 * background one has recorded that its ports listen — then prints what the foreground
 * command would have and returns — or until it exits, and then prints its error.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { ensureStateDir, pathsFor, readRecordFile, survey, TakenError, type TunnelRecord } from "@tunnel/core";
import { BACKGROUND_ENV, stateDirectory } from "./managed.ts";
import { onInterrupt } from "./signals.ts";

/** The command that runs this same program again, with `args`. */
export function selfCommand(args: readonly string[]): [string, string[]] {
  const script = process.argv[1] ?? "";
  // A `bun build --compile` executable: its entry lives inside it, and argv[1] names that.
  if (script === "" || script.startsWith("/$bunfs/") || script.includes("~BUN")) {
    return [process.execPath, [...args]];
  }
  // Deno reports no execArgv: its flags are the launcher's (scripts/install-cli.sh).
  if ("Deno" in globalThis) return [process.execPath, ["run", "-A", "--no-config", script, ...args]];
  return [process.execPath, [...process.execArgv, script, ...args]];
}

/** A name another live tunnel holds; its dead records are cleaned on the way. */
async function liveHolder(dir: string, name: string): Promise<TunnelRecord | undefined> {
  const file = pathsFor(dir, name).record;
  if (!fs.existsSync(file)) return undefined;
  const found = await survey(dir, name, readRecordFile(file));
  if (found.kind === "corrupt") throw found.error;
  return found.kind === "live" ? found.status : undefined;
}

/** The first free name: `name` if explicit (else an error), or `name-2`… as `hostTunnel` would choose. */
async function freeName(dir: string, name: string, explicit: boolean): Promise<string> {
  for (let i = 1; i < 50; i++) {
    const candidate = i === 1 ? name : `${name}-${i}`;
    const holder = await liveHolder(dir, candidate);
    if (!holder) return candidate;
    if (explicit) {
      throw new TakenError(
        `a tunnel named "${name}" is already running (pid ${holder.pid}); choose another with --name, or tunnel close ${name}`,
        "name",
      );
    }
  }
  throw new TakenError(`every name from "${name}" to "${name}-49" is taken; choose one with --name`, "name");
}

/**
 * Starts the background process for the command line `argv` (this one's, `--detach`
 * included) and waits until it listens. Returns its record.
 */
export async function startInBackground(
  argv: readonly string[],
  name: string,
  explicit: boolean,
): Promise<TunnelRecord> {
  const dir = stateDirectory();
  ensureStateDir(dir);
  const chosen = await freeName(dir, name, explicit);
  const paths = pathsFor(dir, chosen);
  const log = fs.openSync(paths.log, "a", 0o600);
  const offset = fs.fstatSync(log).size;
  const [command, args] = selfCommand(argv);
  const child = spawn(command, args, {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, [BACKGROUND_ENV]: chosen },
  });
  fs.closeSync(log);
  const exited = new Promise<string>((resolve) => {
    child.once("error", (e) => resolve(`cannot start the background process: ${e.message}`));
    child.once("exit", (code, signal) =>
      resolve(signal ? `the background process was ended by ${signal}` : `the background process exited (${code})`),
    );
  });
  let gone: string | undefined;
  void exited.then((why) => {
    gone = why;
  });
  // Ctrl+C while it connects: the background process is not wanted any more.
  const interrupts = onInterrupt(
    () => child.kill("SIGTERM"),
    () => child.kill("SIGKILL"),
  );
  try {
    for (;;) {
      if (gone !== undefined) throw new Error(childError(paths.log, offset) ?? gone);
      const record = readRecordFile(paths.record);
      if (!(record instanceof Error) && record.pid === child.pid && record.ready) {
        child.unref();
        return record;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    interrupts.dispose();
  }
}

/** The error the background process printed (main.ts's `tunnel: …` line), from the log. */
function childError(file: string, offset: number): string | undefined {
  let text: string;
  try {
    const buf = fs.readFileSync(file);
    text = new TextDecoder().decode(buf.subarray(offset));
  } catch {
    return undefined;
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const last = lines.filter((l) => l.startsWith("tunnel: ")).at(-1);
  return last?.slice("tunnel: ".length);
}
