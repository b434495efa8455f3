/** Runs the `tunnel` CLI from source (`node --import tsx apps/cli/src/main.ts …`) at the repo root. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root: two levels above this file. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

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

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "apps/cli/src/main.ts", ...args], {
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
