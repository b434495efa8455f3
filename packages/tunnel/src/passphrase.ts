/**
 * Engine: asking the user for a key's passphrase, where and how ssh(1) asks (OpenSSH
 * readpass.c, read_passphrase with no flags, as ssh calls it to load an identity file; ssh(1)
 * ENVIRONMENT, "SSH_ASKPASS" and "SSH_ASKPASS_REQUIRE"):
 *
 *   - askpass is *allowed* when DISPLAY or WAYLAND_DISPLAY is set and not empty;
 *   - SSH_ASKPASS_REQUIRE (any case) `force`: askpass, allowed or not, terminal or not;
 *     `prefer`: askpass whenever it is allowed; `never`: askpass never;
 *   - otherwise the terminal (/dev/tty), echo off; with no terminal, askpass if allowed;
 *   - askpass is the program in SSH_ASKPASS (default /usr/bin/ssh-askpass), run with the
 *     prompt as its one argument; its standard output up to the first CR or LF is the
 *     passphrase; a non-zero exit is "no passphrase";
 *   - with neither, nothing is asked and nothing waits.
 *
 * There is no environment variable holding the passphrase itself (ssh has none): scripts and
 * tests set SSH_ASKPASS to a program that prints it, with SSH_ASKPASS_REQUIRE=force.
 *
 * The terminal is read synchronously — this runs before a connection exists, and keeps key
 * loading synchronous for every caller — in raw mode through node:tty (so nothing is echoed),
 * on a second descriptor of /dev/tty: the ReadStream that switches the mode makes its own
 * descriptor non-blocking. Raw mode turns off the terminal's own line editing and signals, so
 * backspace, Ctrl-U, Ctrl-D and Ctrl-C are handled here; Ctrl-C restores the terminal and then
 * raises SIGINT, as readpassphrase(3) does. Works the same under Node, Bun and Deno.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as tty from "node:tty";

type Env = Readonly<Record<string, string | undefined>>;

/** Where ssh's own build looks when SSH_ASKPASS is unset (Debian's _PATH_SSH_ASKPASS_DEFAULT). */
export const DEFAULT_ASKPASS = "/usr/bin/ssh-askpass";

/** What readpass.c's buffer holds: longer answers are cut there. */
const MAX_PASSPHRASE_BYTES = 1023;

export type PassphraseRoute =
  | { kind: "askpass"; program: string }
  | { kind: "terminal" }
  | { kind: "none"; why: string };

/**
 * Where ssh would ask: `terminal` says whether /dev/tty can be opened. Pure, so that the rules
 * above are tested on their own.
 */
export function passphraseRoute(env: Env, terminal: boolean): PassphraseRoute {
  const display = (env.DISPLAY ?? "") !== "" || (env.WAYLAND_DISPLAY ?? "") !== "";
  let allowAskpass = display;
  let useAskpass = false;
  const require = env.SSH_ASKPASS_REQUIRE?.toLowerCase();
  if (require === "force") {
    useAskpass = true;
    allowAskpass = true;
  } else if (require === "prefer") useAskpass = allowAskpass;
  else if (require === "never") allowAskpass = false;
  if (!useAskpass && !terminal) useAskpass = true;
  if (useAskpass && allowAskpass) return { kind: "askpass", program: env.SSH_ASKPASS || DEFAULT_ASKPASS };
  if (terminal) return { kind: "terminal" };
  return {
    kind: "none",
    why:
      require === "never"
        ? "there is no terminal to ask on, and SSH_ASKPASS_REQUIRE=never"
        : "there is no terminal to ask on (SSH_ASKPASS with SSH_ASKPASS_REQUIRE=force supplies it from a program)",
  };
}

/**
 * The answer: the passphrase, or why there is none (not asked, cancelled, empty) as a clause
 * that reads after "…is encrypted and": "no passphrase was given".
 */
export type PassphraseAnswer = { passphrase: string } | { passphrase: undefined; why: string };

/** Asks once, as ssh asks for a key's passphrase. Never throws; never waits without a terminal or askpass. */
export type PassphrasePrompter = (prompt: string) => PassphraseAnswer;

export interface PromptOptions {
  env?: Env;
  /** The terminal device (default /dev/tty). */
  ttyPath?: string;
}

/** ssh's read_passphrase(prompt, 0): askpass or the terminal, as `passphraseRoute` decides. */
export function readPassphrase(prompt: string, o: PromptOptions = {}): PassphraseAnswer {
  const env = o.env ?? process.env;
  const ttyPath = o.ttyPath ?? "/dev/tty";
  let ttyFd: number | undefined;
  try {
    ttyFd = fs.openSync(ttyPath, "r+");
  } catch {
    ttyFd = undefined;
  }
  try {
    const route = passphraseRoute(env, ttyFd !== undefined);
    if (route.kind === "askpass") return askpass(route.program, prompt);
    if (route.kind === "none") return { passphrase: undefined, why: route.why };
    return readTerminal(ttyFd as number, ttyPath, prompt);
  } finally {
    if (ttyFd !== undefined) fs.closeSync(ttyFd);
  }
}

/** readpass.c ssh_askpass: the program's stdout up to CR/LF; a failure is no passphrase. */
function askpass(program: string, prompt: string): PassphraseAnswer {
  const r = spawnSync(program, [prompt], {
    stdio: ["inherit", "pipe", "inherit"],
    maxBuffer: 64 * 1024,
  });
  const out = r.stdout ? new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength) : undefined;
  try {
    if (r.error)
      return { passphrase: undefined, why: `the askpass program ${program} did not run: ${r.error.message}` };
    if (r.status !== 0)
      return {
        passphrase: undefined,
        why: `the askpass program ${program} ${r.signal ? `was killed by ${r.signal}` : `exited with status ${r.status}`}`,
      };
    const bytes = (out ?? new Uint8Array(0)).subarray(0, MAX_PASSPHRASE_BYTES);
    let end = bytes.findIndex((b) => b === 0x0d || b === 0x0a);
    if (end < 0) end = bytes.length;
    const passphrase = new TextDecoder().decode(bytes.subarray(0, end));
    return passphrase === ""
      ? { passphrase: undefined, why: `the askpass program ${program} gave an empty passphrase` }
      : { passphrase };
  } finally {
    out?.fill(0);
  }
}

/** Sleeps without the event loop (the terminal is read synchronously). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Reads one line from the terminal in raw mode, nothing echoed. `io` is an open descriptor of
 * the terminal (blocking); the mode is switched through a second one.
 */
function readTerminal(io: number, ttyPath: string, prompt: string): PassphraseAnswer {
  let ctl: number | undefined;
  let stream: tty.ReadStream | undefined;
  try {
    ctl = fs.openSync(ttyPath, "r");
    stream = new tty.ReadStream(ctl);
    stream.setRawMode(true);
  } catch (err) {
    stream?.destroy();
    if (ctl !== undefined && !stream) fs.closeSync(ctl);
    return { passphrase: undefined, why: `echo could not be turned off on ${ttyPath}: ${(err as Error).message}` };
  }
  const typed: number[] = [];
  const one = new Uint8Array(1);
  let outcome: "line" | "eof" | "interrupt" = "line";
  try {
    // readpass.c writes a CR first: the prompt starts its line, over anything typed ahead.
    fs.writeSync(io, `\r${prompt}`);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(io, one, 0, 1, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EAGAIN" || code === "EINTR") {
          pause(10);
          continue;
        }
        throw err;
      }
      if (n === 0) {
        outcome = "eof";
        break;
      }
      const c = one[0] as number;
      if (c === 0x0d || c === 0x0a) break;
      if (c === 0x03) {
        outcome = "interrupt";
        break;
      }
      if (c === 0x04) {
        if (typed.length === 0) {
          outcome = "eof";
          break;
        }
        continue;
      }
      if (c === 0x7f || c === 0x08) {
        // Erase one character: its UTF-8 continuation bytes, then its lead byte.
        while (typed.length > 0 && ((typed[typed.length - 1] as number) & 0xc0) === 0x80) typed.pop();
        typed.pop();
        continue;
      }
      if (c === 0x15) {
        typed.fill(0);
        typed.length = 0;
        continue;
      }
      if (typed.length < MAX_PASSPHRASE_BYTES) typed.push(c);
    }
  } catch (err) {
    return { passphrase: undefined, why: `${ttyPath} could not be read: ${(err as Error).message}` };
  } finally {
    try {
      stream.setRawMode(false);
    } catch {
      // The terminal went away; nothing to restore.
    }
    stream.destroy();
    try {
      fs.writeSync(io, "\r\n");
    } catch {
      // As above.
    }
  }
  const bytes = Uint8Array.from(typed);
  typed.fill(0);
  const passphrase = new TextDecoder().decode(bytes);
  bytes.fill(0);
  if (outcome === "interrupt") {
    process.kill(process.pid, "SIGINT");
    return { passphrase: undefined, why: "the prompt was interrupted" };
  }
  if (outcome === "eof") return { passphrase: undefined, why: "no passphrase was given (end of input)" };
  if (passphrase === "") return { passphrase: undefined, why: "no passphrase was given" };
  return { passphrase };
}

/** The prompter ssh would be: `readPassphrase` with this environment. */
export function defaultPassphrasePrompter(o: PromptOptions = {}): PassphrasePrompter {
  return (prompt) => readPassphrase(prompt, o);
}
