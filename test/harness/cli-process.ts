/**
 * A long-running `tunnel` verb (or any command) as a child process: started, waited for
 * until it has printed `expectLines` lines on stdout (its addresses), stopped with a signal;
 * stdout and stderr kept for assertions. `tunnel-open.ts` does the same for `open` alone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cliCommand, REPO_ROOT, sendSignal } from "./cli.ts";

export interface CliProcess {
  child: ChildProcess;
  /** stdout lines so far. */
  lines: string[];
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stderr contains `text` (or rejects after `timeoutMs`). */
  waitForStderr(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves once stdout has at least `n` lines. */
  waitForLines(n: number, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Wait for this many stdout lines before resolving (default 1; 0: do not wait). */
  expectLines?: number;
  timeoutMs?: number;
}

/** The bundled CLI under this runtime (cli.ts's `cliCommand`). */
export function startVerb(args: string[], opts: StartOptions = {}): Promise<CliProcess> {
  const [command, argv] = cliCommand(args);
  return startProcess(command, argv, opts);
}

export async function startProcess(command: string, argv: string[], opts: StartOptions = {}): Promise<CliProcess> {
  const child = spawn(command, argv, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const lines: string[] = [];
  let partial = "";
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    const parts = (partial + d).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts.filter((l) => l !== ""));
    poke();
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
    poke();
  });
  child.stdin?.on("error", () => {});
  // "close", not "exit": by then everything the process wrote has been read — unless a
  // process it started outlives it with the same stdout, so "exit" counts too, a moment later.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      resolve({ code, signal });
      poke();
    };
    child.once("close", done);
    child.once("exit", (code, signal) => setTimeout(() => done(code, signal), 2000).unref());
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const until = (what: string, ok: () => boolean, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (ok()) {
          finish();
          resolve();
        } else if (done) {
          finish();
          reject(new Error(`${command} exited before ${what}\n--- stdout:\n${out}\n--- stderr:\n${err}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${timeoutMs} ms\n--- stdout:\n${out}\n--- stderr:\n${err}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const p: CliProcess = {
    child,
    lines,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStderr: (text, timeoutMs = 20_000) =>
      until(`"${text}" on stderr`, () => (typeof text === "string" ? err.includes(text) : text.test(err)), timeoutMs),
    waitForLines: (n, timeoutMs = 20_000) => until(`${n} line(s) on stdout`, () => lines.length >= n, timeoutMs),
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) sendSignal(child, signal);
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  const expect = opts.expectLines ?? 1;
  if (expect > 0) {
    try {
      await p.waitForLines(expect, opts.timeoutMs ?? 30_000);
    } catch (e) {
      child.kill("SIGKILL");
      throw e;
    }
  }
  return p;
}
