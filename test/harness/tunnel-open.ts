/**
 * `tunnel open …` as a child process: started, waited for until it prints its local
 * addresses on stdout, stopped with a signal; stderr collected for assertions.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { cliCommand, sendSignal } from "./cli.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface TunnelProcess {
  child: ChildProcess;
  /** stdout lines so far (the local addresses, or JSON objects with --json). */
  lines: string[];
  stderr(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startTunnel(
  args: string[],
  env: Record<string, string> = {},
  expectLines = 1,
): Promise<TunnelProcess> {
  const [command, argv] = cliCommand(["open", ...args]);
  const child = spawn(command, argv, {
    cwd: env.TUNNEL_TEST_CWD ?? ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  let out = "";
  const lines: string[] = [];
  child.stderr?.on("data", (d) => {
    err += String(d);
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`tunnel open did not become ready in 20 s\nstderr:\n${err}`)),
      20_000,
    );
    child.stdout?.on("data", (d) => {
      out += String(d);
      const parts = out.split("\n");
      out = parts.pop() ?? "";
      lines.push(...parts.filter((l) => l !== ""));
      if (lines.length >= expectLines) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (lines.length < expectLines)
        reject(new Error(`tunnel open exited with ${code} before it was ready\nstderr:\n${err}`));
    });
  });
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null) sendSignal(child, signal);
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Runs `tunnel open` expecting it to fail; returns exit code and stderr. */
export function runTunnelExpectingFailure(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const [command, argv] = cliCommand(["open", ...args]);
    const child = spawn(command, argv, {
      cwd: env.TUNNEL_TEST_CWD ?? ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr?.on("data", (d) => {
      err += String(d);
    });
    const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (code) => {
      clearTimeout(t);
      resolve({ code, stderr: err });
    });
  });
}
