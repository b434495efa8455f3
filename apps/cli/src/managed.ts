/**
 * A tunnel this process runs, made visible to `tunnel list` and steerable by `tunnel close`,
 * `pause`, `resume` (the manager: packages/tunnel/src/manager/). `open` (and `expose`) take a
 * name here: an explicit `--name` that another live tunnel holds is an error; a default name
 * moves on to `NAME-2`, `NAME-3`… as a default port does.
 *
 * `TUNNEL_INTERNAL_BACKGROUND` is how `--detach` tells the background process it started
 * (background.ts) that it is that process, and under which name.
 */
import {
  type EventLog,
  type HostOptions,
  mask,
  type OpenedTarget,
  type SecretTarget,
  stateDir,
  TakenError,
  TunnelHost,
} from "@tunnel/core";
import { err, hostPort } from "./bastion.ts";
import { FLAG_NAMES } from "./shared-args.ts";

export const BACKGROUND_ENV = "TUNNEL_INTERNAL_BACKGROUND";

/** The name this process runs under as a background tunnel, or undefined in the foreground. */
export function backgroundName(): string | undefined {
  const v = process.env[BACKGROUND_ENV];
  return v ? v : undefined;
}

export function stateDirectory(): string {
  return stateDir(process.env);
}

/** How far a default name may move when taken. */
const NAME_SEARCH = 50;

/**
 * Takes a name and starts the control socket. In the foreground, trouble other than a taken
 * name or port (a state directory that cannot be written) is a warning: the tunnel runs,
 * unlisted. In the background it is fatal: an unlisted background tunnel could not be closed.
 */
export async function hostTunnel(
  o: Omit<HostOptions, "dir" | "name"> & { name: string; explicit: boolean },
): Promise<TunnelHost | undefined> {
  const dir = stateDirectory();
  for (let i = 1; ; i++) {
    const name = i === 1 ? o.name : `${o.name}-${i}`;
    try {
      const host = await TunnelHost.claim({ ...o, dir, name, optionNames: FLAG_NAMES });
      if (i > 1) host.log.write(`the name "${o.name}" is taken; running as "${name}"`);
      if (i > 1 && !o.detached) err(`Name "${o.name}" is taken; this tunnel is "${name}"`);
      return host;
    } catch (e) {
      const nameTaken = e instanceof TakenError && e.what === "name";
      if (nameTaken && !o.explicit && i < NAME_SEARCH) continue;
      if (e instanceof TakenError || o.detached) throw e;
      err(`WARNING: this tunnel will not appear in tunnel list: ${(e as Error).message}`);
      return undefined;
    }
  }
}

/** Lines for people: on stderr in the foreground, and in the tunnel's log either way. */
export function eventSinks(
  background: boolean,
  verbose: boolean,
  log: () => EventLog | undefined,
): { say(line: string): void; detail(line: string): void } {
  return {
    say(line) {
      if (!background) err(line);
      log()?.write(line);
    },
    detail(line) {
      if (verbose && !background) err(line);
      log()?.write(line);
    },
  };
}

/** What the record and the control socket say about each opened target. */
export function openedRecords(opened: readonly OpenedTarget[]): SecretTarget[] {
  return opened.map((o) => ({
    spec: o.target.variable ?? mask(o.target.spec),
    variable: o.target.variable ?? null,
    remote: hostPort(o.target.host, o.target.port),
    local: hostPort(o.localHost, o.localPort),
    url: o.maskedUrl ?? null,
    fullUrl: o.url ?? null,
  }));
}

/**
 * Starts a hosted session. If that fails, the reason goes to the tunnel's log (in the
 * background, main.ts's error line lands there already) and the name is given up.
 */
export async function startHosted<T>(
  session: { start(): Promise<T> },
  host: TunnelHost | undefined,
  background: string | undefined,
): Promise<T> {
  try {
    return await session.start();
  } catch (e) {
    if (background === undefined) host?.log.write(`tunnel: ${(e as Error).message}`);
    await host?.release();
    throw e;
  }
}

/**
 * Waits for a hosted session to end, then stops listening for signals, logs how it ended and
 * gives the name up. Resolves with the failure that ended it, if one did.
 */
export async function runHosted(
  session: { ended: Promise<Error | undefined> },
  host: TunnelHost | undefined,
  background: string | undefined,
  interrupts: { dispose(): void },
): Promise<Error | undefined> {
  const failure = await session.ended;
  interrupts.dispose();
  if (!failure) host?.log.write("Closed");
  else if (background === undefined) host?.log.write(`tunnel: ${failure.message}`);
  await host?.release();
  return failure;
}
