/**
 * Runs the `tunnel` CLI as it ships — the bundle `node scripts/build.mjs` makes for the runtime
 * running the tests (Node, Bun or Deno: scripts/test.sh runs the suite under each) — at the
 * repo root.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { RUNTIME } from "@tunnel/testkit";

/** The repository root: two levels above this file. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export { RUNTIME } from "@tunnel/testkit";

/**
 * The command line that starts the bundled CLI under this runtime, followed by `args`.
 * `process.execPath` is this runtime's own binary (node 20, node 24, bun or deno).
 */
export function cliCommand(args: string[]): [string, string[]] {
  const bundle = path.join(REPO_ROOT, "apps/cli/dist", RUNTIME, "tunnel.mjs");
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`node scripts/build.mjs\` first`);
  const runtimeArgs = RUNTIME === "deno" ? ["run", "-A", bundle] : [bundle];
  return [process.execPath, [...runtimeArgs, ...args]];
}

const DEFAULT_TIMEOUT_MS = 30_000;

export interface CliOptions {
  /** Added to (and overriding) the test process's environment. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Written to stdin, which is then closed (stdin is closed at once without it). */
  input?: string;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Sends a signal to a child whose exit status the test then checks. Not `child.kill(sig)`:
 * under Deno, a ChildProcess killed that way reports the signal as its exit reason even when
 * the child caught it and exited 0 itself (seen with Deno 2.9); `process.kill` leaves the
 * exit status as the child made it, on every runtime.
 */
export function sendSignal(child: { pid?: number | undefined }, sig: NodeJS.Signals): void {
  if (child.pid === undefined) throw new Error("the child has no pid (it never started)");
  process.kill(child.pid, sig);
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const [command, argv] = cliCommand(args);
    const child = spawn(command, argv, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run the tunnel CLI: ${err.message}`));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(
          new Error(
            `tunnel ${args.join(" ")}: no exit within ${timeoutMs} ms (killed)\n--- stdout:\n${stdout}\n--- stderr:\n${stderr}`,
          ),
        );
      } else {
        resolve({ code, stdout, stderr });
      }
    });
    child.stdin.on("error", () => {
      // the CLI may exit without reading stdin
    });
    child.stdin.end(opts.input ?? "");
  });
}
