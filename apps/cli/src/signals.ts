/**
 * The one place the CLI listens for Ctrl+C and SIGTERM. The first signal asks for a graceful
 * stop; a second one (either signal) asks to stop at once. Used by every long-running verb.
 */

export interface Interrupts {
  /** Stop listening (the command is over). */
  dispose(): void;
}

export function onInterrupt(graceful: () => void, atOnce: (signal: NodeJS.Signals) => void): Interrupts {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) graceful();
    else atOnce(signal);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

/** The signals `passSignals` hands on; each one the runtime cannot listen for is skipped. */
const PASSED: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

export interface PassedSignals extends Interrupts {
  /** The command is started: signals go to it from now on, those caught before it first. */
  to(child: { pid?: number | undefined }): void;
}

/**
 * While a command we start runs (`tunnel run`), signals sent to us go on to it and it
 * decides when to exit; we never die of them meanwhile. Call it before starting the
 * command: whoever saw its first output may signal us at once. Ctrl+C and Ctrl+\ on a
 * terminal signal its whole foreground process group, the command included: SIGINT and
 * SIGQUIT are passed on only when our stdin is not a terminal, so that a program which
 * counts its Ctrl+C (graceful first, at once on the second) does not see one press as two.
 */
export function passSignals(stdinIsTerminal: boolean): PassedSignals {
  let target: { pid?: number | undefined } | undefined;
  const early: NodeJS.Signals[] = [];
  const send = (sig: NodeJS.Signals) => {
    if (stdinIsTerminal && (sig === "SIGINT" || sig === "SIGQUIT")) return;
    if (!target) {
      early.push(sig);
      return;
    }
    // process.kill, not child.kill: Deno's ChildProcess then reports the signal as the
    // command's end even when the command caught it and exited by itself.
    try {
      if (target.pid !== undefined) process.kill(target.pid, sig);
    } catch {
      // the command is already gone
    }
  };
  const installed: [NodeJS.Signals, () => void][] = [];
  for (const sig of PASSED) {
    const handler = () => send(sig);
    try {
      process.on(sig, handler);
      installed.push([sig, handler]);
    } catch {
      // a runtime that reserves this signal: it keeps its default action
    }
  }
  return {
    to(child) {
      target = child;
      for (const sig of early.splice(0)) send(sig);
    },
    dispose() {
      for (const [sig, handler] of installed) process.off(sig, handler);
    },
  };
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/**
 * Ends this process as `signal` ended the command, so whoever waits for us sees the same:
 * the signal itself where the runtime lets it take its default action, else the shell's
 * status for it, 128 + its number.
 */
export function exitLikeSignal(signal: NodeJS.Signals): void {
  const code = 128 + (SIGNAL_NUMBERS[signal] ?? 0);
  process.exitCode = code;
  try {
    process.kill(process.pid, signal);
  } catch {
    // not allowed here: the status says it
  }
  const t = setTimeout(() => process.exit(code), 200);
  (t as { unref?: () => void }).unref?.();
}
