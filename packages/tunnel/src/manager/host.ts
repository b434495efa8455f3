/**
 * The running side of a managed tunnel: a process that opened a tunnel (in the foreground or
 * in the background) takes its name in the state directory, answers on its control socket,
 * writes its events to its log, and removes its record when it ends.
 *
 * What it steers is any session with the counters and verbs below (`TunnelSession` has them):
 * nothing here knows about command lines.
 */
import type { Listener } from "@tunnel/ssh/runtime";
import type { PipeStats } from "../forward.ts";
import { type OptionNames, optionName } from "../option-names.ts";
import { type ControlOp, serveControl } from "./control.ts";
import { EventLog } from "./event-log.ts";
import {
  claimRecord,
  ensureStateDir,
  pathsFor,
  processAlive,
  readRecords,
  removeRecord,
  STATE_VERSION,
  type TargetRecord,
  type TunnelRecord,
  writeRecord,
} from "./state.ts";

export interface ManagedSession {
  readonly activeConnections: number;
  readonly reconnecting: boolean;
  readonly paused: boolean;
  readonly accepting: boolean;
  readonly bytes: PipeStats;
  pause(): Promise<void>;
  resume(): Promise<void>;
}

export type TunnelState = "starting" | "up" | "reconnecting" | "paused" | "closing";

/** What `status` answers (and `tunnel list --json` prints). */
export interface TunnelStatus extends TunnelRecord {
  /** `starting` until its ports listen, then `up`, `reconnecting`, `paused`, or `closing` once it stops. */
  state: TunnelState;
  /** Its session's connections open now (`activeConnections`). */
  connections: number;
  /** Bytes from the SSH channels to the local sockets since it started. */
  bytesIn: number;
  /** Bytes from the local sockets into the SSH channels since it started. */
  bytesOut: number;
}

/** A target with its full rewritten URL (password included): only ever sent over the control socket. */
export interface SecretTarget extends TargetRecord {
  /** The rewritten URL with its password, when the target was a URL; else null. */
  fullUrl: string | null;
}

/** Which tunnel a `TunnelHost` records, where, and the session it steers. */
export interface HostOptions {
  /** The state directory its record, control socket and log go in (`stateDir`); created if missing. */
  dir: string;
  /** The tunnel's name (`tunnel list`, `tunnel close NAME`), which its files are named after. */
  name: string;
  /**
   * What made it (the CLI: `open` or `expose`). Only an `open` tunnel can be paused and
   * resumed, and only its ports count as taken for another tunnel's `ports`.
   */
  kind: string;
  /** The bastion as given, for the record. */
  via: string;
  /** It runs in the background, for the record. */
  detached: boolean;
  /** The session `status` reads and `pause` and `resume` steer. */
  session: ManagedSession;
  /** Local ports asked for explicitly: refused when another tunnel has them. */
  ports?: readonly number[];
  /** Asked to close (through the control socket): start the graceful stop. */
  close(): void;
  /** How a `TakenError` names the options to change (`name`, `port`; option-names.ts). */
  optionNames?: OptionNames | undefined;
}

/** Someone else holds the name or the port. */
export class TakenError extends TypeError {
  /** "TakenError", so that a printed error says what it is. */
  override readonly name = "TakenError";
  constructor(
    message: string,
    /** Which of the two is taken. */
    readonly what: "name" | "port",
  ) {
    super(message);
  }
}

/** Makes a running session a managed tunnel: its record, control socket and log. */
export class TunnelHost {
  /** The tunnel's event log (`tunnel logs` reads it). */
  readonly log: EventLog;
  private record: TunnelRecord;
  private secrets: SecretTarget[] = [];
  private listener: Listener | undefined;
  private released = false;

  private constructor(private readonly o: HostOptions) {
    this.log = new EventLog(pathsFor(o.dir, o.name).log);
    this.record = {
      version: STATE_VERSION,
      name: o.name,
      kind: o.kind,
      pid: process.pid,
      via: o.via,
      started: new Date().toISOString(),
      ready: false,
      detached: o.detached,
      targets: [],
    };
  }

  /**
   * Takes the name (failing with a one-line `TakenError` if a live tunnel has it or one of
   * `ports`; a dead one's record is cleaned and the name taken) and starts answering on the
   * control socket.
   */
  static async claim(o: HostOptions): Promise<TunnelHost> {
    ensureStateDir(o.dir);
    for (const { name, record } of readRecords(o.dir)) {
      if (record instanceof Error || name === o.name || !processAlive(record.pid)) continue;
      for (const t of record.targets) {
        const port = Number(t.local.slice(t.local.lastIndexOf(":") + 1));
        if (record.kind === "open" && o.ports?.includes(port)) {
          throw new TakenError(
            `port ${port} is taken by tunnel "${name}"; choose another with ${optionName(o.optionNames, "port")}`,
            "port",
          );
        }
      }
    }
    const host = new TunnelHost(o);
    for (let tries = 0; ; tries++) {
      const { taken } = claimRecord(o.dir, host.record);
      if (!taken) break;
      if (taken instanceof Error) throw taken;
      if (processAlive(taken.pid) || tries > 0) {
        throw new TakenError(
          `a tunnel named "${o.name}" is already running (pid ${taken.pid}); choose another with ${optionName(o.optionNames, "name")}, or close that one first`,
          "name",
        );
      }
      host.log.write(`cleaned the record of a previous "${o.name}" whose process (pid ${taken.pid}) was gone`);
      removeRecord(o.dir, o.name);
    }
    try {
      host.listener = await serveControl(pathsFor(o.dir, o.name).socket, (op) => host.answer(op));
    } catch (err) {
      removeRecord(o.dir, o.name);
      throw err;
    }
    return host;
  }

  /** Where the tunnel's record, control socket and log live. */
  get paths() {
    return pathsFor(this.o.dir, this.o.name);
  }

  /** The ports listen: the record says where. */
  ready(targets: SecretTarget[]): void {
    this.secrets = targets;
    this.record = { ...this.record, ready: true, targets: targets.map(({ fullUrl: _, ...t }) => t) };
    writeRecord(this.o.dir, this.record);
  }

  /** The address on the far side changed (`expose` after a reconnection). */
  update(targets: SecretTarget[]): void {
    if (this.released) return;
    this.ready(targets);
  }

  /** The record with the session's state, connection count and bytes now (what `status` answers). */
  status(): TunnelStatus {
    const s = this.o.session;
    const state: TunnelState = !this.record.ready
      ? "starting"
      : !s.accepting
        ? "closing"
        : s.reconnecting
          ? "reconnecting"
          : s.paused
            ? "paused"
            : "up";
    const { bytesIn, bytesOut } = s.bytes;
    return { ...this.record, state, connections: s.activeConnections, bytesIn, bytesOut };
  }

  private async answer(op: ControlOp): Promise<unknown> {
    const s = this.o.session;
    switch (op) {
      case "status":
        return this.status();
      case "info":
        return { ...this.status(), targets: this.secrets };
      case "pause":
        if (this.o.kind !== "open") throw new Error(`a tunnel made by ${this.o.kind} has no local port to pause`);
        if (!this.record.ready) throw new Error(`"${this.o.name}" is still starting; pause it once it listens`);
        await s.pause();
        this.log.write("paused: local ports closed, open connections go on");
        return this.status();
      case "resume":
        if (this.o.kind !== "open") throw new Error(`a tunnel made by ${this.o.kind} has no local port to resume`);
        await s.resume();
        this.log.write("resumed: listening again");
        return this.status();
      case "close":
        this.log.write("close asked for");
        // Answered first: the stop may take the grace period, and the asker waits for the pid.
        setTimeout(() => this.o.close(), 0);
        return { pid: process.pid };
    }
  }

  /** The tunnel ended: stop answering and remove the record (the log stays). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.listener?.close().catch(() => {});
    removeRecord(this.o.dir, this.o.name);
  }
}
