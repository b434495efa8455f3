/**
 * Helpers for the field tests of issue 13 (test/field-*.test.ts): the CLI as a child process
 * with timestamped output, and assertions on how a connection ended. The TCP targets, clients
 * and byte streams they use are shared with bench/ in @tunnel/testkit, and re-exported here.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { type Ending, RESETS_RELIABLY, sleep } from "@tunnel/testkit";
import { expect } from "vitest";
import { cliCommand, REPO_ROOT, sendSignal } from "./cli.ts";

export {
  closesWithin,
  connectLocal,
  type Ending,
  echoEventually,
  echoRoundTrip,
  endsWithin,
  freePortRun,
  knownHostsFor,
  type Pump,
  pump,
  RESETS_RELIABLY,
  type Recorded,
  record,
  StreamSource,
  type StreamTarget,
  sha256,
  sleep,
  startEcho,
  startPump,
  startStreamTarget,
  startTarget,
  steady,
  streamBytes,
  streamSha,
  streamTransfer,
  type TargetServer,
  type Transfer,
  transferProblems,
  type Upload,
  until,
  within,
} from "@tunnel/testkit";

// ---------------------------------------------------------------- the CLI

export interface Line {
  text: string;
  /** Date.now() when the line was read from the pipe. */
  at: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface CliProcess {
  child: ChildProcess;
  stdoutLines: Line[];
  stderrLines: Line[];
  /** All of stderr so far (a partial last line included). */
  stderr(): string;
  /** Resolves with the first stderr line from index `from` on that matches (rejects after `timeoutMs`, or on exit). */
  waitStderr(re: RegExp, timeoutMs: number, from?: number): Promise<Line>;
  /** Resolves when the process has exited. */
  exited: Promise<Exit>;
  /** The exit, if it has happened. */
  exit(): Exit | undefined;
  /** Sends a signal (process.kill, see sendSignal) and returns Date.now() at that moment. */
  signal(sig: NodeJS.Signals): number;
  /** SIGKILL and wait (for cleanup). */
  kill(): Promise<void>;
}

const live = new Set<CliProcess>();

/** SIGKILLs every CLI process these helpers started that is still running (afterEach). */
export async function killAllCli(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}

/** `tunnel ARGS…` (the bundle for this runtime) with stdout and stderr read line by line. */
export function spawnCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const [command, argv] = cliCommand(args);
  const child = spawn(command, argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdoutLines: Line[] = [];
  const stderrLines: Line[] = [];
  let errText = "";
  const waiters = new Set<() => void>();
  const splitter = (into: Line[], onText?: (s: string) => void) => {
    let partial = "";
    return (d: Buffer | string) => {
      const s = String(d);
      onText?.(s);
      const parts = (partial + s).split("\n");
      partial = parts.pop() ?? "";
      const at = Date.now();
      for (const text of parts) into.push({ text, at });
      for (const w of waiters) w();
    };
  };
  child.stdout?.on(
    "data",
    splitter(stdoutLines, () => {}),
  );
  child.stderr?.on(
    "data",
    splitter(stderrLines, (s) => {
      errText += s;
    }),
  );
  let exitInfo: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      exitInfo = { code, signal, at: Date.now() };
      resolve(exitInfo);
    });
    child.once("error", () => {
      exitInfo ??= { code: null, signal: null, at: Date.now() };
      resolve(exitInfo);
    });
  });
  // stderr may still be in the pipe when 'exit' fires; 'close' comes after both pipes ended.
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  const proc: CliProcess = {
    child,
    stdoutLines,
    stderrLines,
    stderr: () => errText,
    waitStderr(re, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (let i = from; i < stderrLines.length; i++) {
            const l = stderrLines[i]!;
            if (re.test(l.text)) {
              done();
              resolve(l);
              return true;
            }
          }
          return false;
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no stderr line matching ${re} within ${timeoutMs} ms; stderr:\n${errText}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(onLine);
        };
        const onLine = () => {
          check();
        };
        if (check()) return;
        waiters.add(onLine);
        void closed.then(() => {
          if (!check()) {
            done();
            reject(
              new Error(
                `exited (${JSON.stringify(exitInfo)}) without a stderr line matching ${re}; stderr:\n${errText}`,
              ),
            );
          }
        });
      });
    },
    exited: exited.then(async (e) => {
      await Promise.race([closed, sleep(1000)]);
      return e;
    }),
    exit: () => exitInfo,
    signal(sig) {
      const at = Date.now();
      sendSignal(child, sig);
      return at;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      live.delete(proc);
    },
  };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

export interface OpenProcess extends CliProcess {
  /** The local ports, in target order. */
  ports: number[];
}

/**
 * `tunnel open ARGS…`, resolved once it has printed `targets` local addresses on stdout.
 * New options are given as `--name=value`: a build without them ignores them (citty keeps
 * unknown `--name=value` as a string) instead of reading the value as one more target.
 */
export async function startOpen(args: string[], env: Record<string, string> = {}, targets = 1): Promise<OpenProcess> {
  const p = spawnCli(["open", ...args], env);
  const deadline = Date.now() + 20_000;
  while (p.stdoutLines.length < targets) {
    const exit = p.exit();
    if (exit)
      throw new Error(`tunnel open exited (${JSON.stringify(exit)}) before it was ready; stderr:\n${p.stderr()}`);
    if (Date.now() > deadline) {
      await p.kill();
      throw new Error(`tunnel open printed no address within 20 s; stderr:\n${p.stderr()}`);
    }
    await sleep(20);
  }
  const ports = p.stdoutLines.slice(0, targets).map((l) => Number(l.text.slice(l.text.lastIndexOf(":") + 1)));
  return Object.assign(p, { ports });
}

/** Stack traces and uncaught errors the issue says users must never see on stderr. */
export const STACK_TRACE = /TypeError|ReferenceError|Uncaught|Unhandled|^\s+at\s/m;

/**
 * Reading ended with a RST (an error and no FIN): what the peer sent was cut short. Where the
 * runtime cannot always send one (`RESETS_RELIABLY`), it must at least have ended.
 */
export function expectCut(end: Ending, why: string): void {
  if (RESETS_RELIABLY)
    expect({ fin: end.fin, reset: end.error !== undefined }, why).toEqual({ fin: false, reset: true });
  else expect(end.fin || end.error !== undefined, `${why} (ended at least)`).toBe(true);
}
