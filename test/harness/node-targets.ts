/**
 * Targets for the closing matrix (test/field-closing.test.ts) that need a process of their own,
 * run by plain Node: a target slow to accept (stopped, its accept queue full), and a target
 * that sends its FIN at once with a client that uploads to it. Each writes its script to `dir`;
 * the processes and sockets it starts go into `own`, for the test's clean-up to end.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { sleep, until } from "@tunnel/testkit";

/** What these helpers leave to the caller's clean-up (SIGCONT then SIGKILL; destroy). */
export interface Owned {
  children: ChildProcess[];
  fillers: net.Socket[];
}

// ---------------------------------------------------------------- a target slow to accept

export interface SlowTarget {
  port: number;
  /** How many of our own connections fill its accept queue (their ids are 1…filled). */
  filled: number;
  events(): { ev: string; id: number; text?: string; at: number }[];
  /** SIGCONT: it accepts what is queued, and sshd's next SYN gets through. */
  resume(): void;
}

const SLOW_TARGET = `
import * as net from "node:net";
const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
let n = 0;
const srv = net.createServer({ allowHalfOpen: true }, (s) => {
  const id = ++n;
  let text = "";
  out({ ev: "accept", id });
  s.on("data", (d) => { text += d.toString("latin1"); });
  s.on("end", () => { out({ ev: "end", id, text }); s.end("bye"); });
  s.on("error", (e) => out({ ev: "error", id, text: e.code }));
  s.on("close", () => out({ ev: "close", id }));
});
srv.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => out({ ev: "listening", id: 0, text: String(srv.address().port) }));
`;

/**
 * A target whose accept queue is full: a Node process listening with a backlog of 1, stopped
 * (SIGSTOP) and its queue filled with connections of ours, so the kernel drops further SYNs and
 * sshd's connect for a direct-tcpip channel waits (RFC 4254 §7.2: no confirmation until it
 * connects) — until resume().
 */
export async function slowAcceptTarget(dir: string, own: Owned): Promise<SlowTarget> {
  const script = path.join(dir, "slow-accept.mjs");
  fs.writeFileSync(script, SLOW_TARGET);
  const child = spawn("node", [script], { stdio: ["ignore", "pipe", "inherit"] });
  own.children.push(child);
  const events: { ev: string; id: number; text?: string; at: number }[] = [];
  let partial = "";
  child.stdout?.on("data", (d) => {
    const lines = (partial + String(d)).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) if (l) events.push({ ...JSON.parse(l), at: Date.now() });
  });
  await until(() => events.some((e) => e.ev === "listening"), 10_000, "the slow target listening");
  const port = Number(events.find((e) => e.ev === "listening")!.text);
  process.kill(child.pid!, "SIGSTOP");
  let filled = 0;
  for (;;) {
    const s = net.connect(port, "127.0.0.1");
    s.on("error", () => {});
    const ok = await Promise.race([
      new Promise<boolean>((r) => s.once("connect", () => r(true))),
      sleep(300).then(() => false),
    ]);
    if (!ok) {
      s.destroy(); // its SYN was dropped: the queue is full
      break;
    }
    filled++;
    own.fillers.push(s);
    if (filled > 64) throw new Error("the slow target's accept queue never filled");
  }
  return {
    port,
    filled,
    events: () => events,
    resume: () => process.kill(child.pid!, "SIGCONT"),
  };
}

// ---------------------------------------------------------------- half-close, both ends in Node

const HALF_CLOSE = `
import * as crypto from "node:crypto";
import * as net from "node:net";
const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
const [mode, portArg, totalArg] = process.argv.slice(2);
if (mode === "target") {
  // FIN at once, then read (and hash) everything the client sends, to its FIN
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    s.end();
    const h = crypto.createHash("sha256");
    let bytes = 0;
    s.on("data", (d) => { bytes += d.length; h.update(d); });
    s.on("end", () => { out({ ev: "received", fin: true, bytes, sha256: h.digest("hex") }); s.destroy(); });
    s.on("error", (e) => out({ ev: "received", fin: false, bytes, error: e.code }));
  });
  srv.listen(0, "127.0.0.1", () => out({ ev: "listening", port: srv.address().port }));
} else {
  // upload the stream "upload" (as @tunnel/testkit makes it), then FIN; note when the FIN came
  const total = Number(totalArg);
  const key = crypto.createHash("sha256").update("upload").digest().subarray(0, 16);
  const cipher = crypto.createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(65536);
  const c = net.connect({ port: Number(portArg), host: "127.0.0.1", allowHalfOpen: true });
  let written = 0, read = 0, finAtWritten, error;
  c.on("data", (d) => { read += d.length; });
  c.on("end", () => { finAtWritten = written; });
  c.on("error", (e) => { error = e.code; });
  c.on("close", () => out({ ev: "client", written, read, fin: finAtWritten !== undefined, finAtWritten, error }));
  // At least \`total\`, and on until a chunk has gone after the target's FIN came (so a FIN held
  // until the upload ends shows as finAtWritten === written), but never past 20 s or 256 MiB.
  const deadline = Date.now() + 20000;
  const more = () =>
    (written < total || finAtWritten === undefined || written === finAtWritten) &&
    Date.now() < deadline && written < 256 * 1048576;
  const go = () => {
    while (more()) {
      const k = zeros.length;
      written += k;
      if (!c.write(cipher.update(zeros.subarray(0, k)))) { c.once("drain", go); return; }
    }
    c.end();
  };
  c.on("connect", go);
}
`;

export interface HalfCloseEnds {
  targetPort: number;
  /** Runs the client: uploads at least \`total\` bytes of the stream "upload" to \`port\` (on until the FIN came), then FIN. */
  upload(
    port: number,
    total: number,
  ): Promise<{ written: number; read: number; fin: boolean; finAtWritten?: number; error?: string }>;
  /** What the target read, once the client's FIN (or an error) reached it. */
  received(): Promise<{ fin: boolean; bytes: number; sha256?: string; error?: string }>;
}

/** A target that sends its FIN at once and reads to the end, and a client, both run by Node. */
export async function halfCloseEnds(dir: string, own: Owned): Promise<HalfCloseEnds> {
  const script = path.join(dir, "half-close.mjs");
  fs.writeFileSync(script, HALF_CLOSE);
  const run = (args: string[]) => {
    const child = spawn("node", [script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    own.children.push(child);
    const events: Record<string, unknown>[] = [];
    let partial = "";
    child.stdout?.on("data", (d) => {
      const lines = (partial + String(d)).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) if (l) events.push(JSON.parse(l));
    });
    const next = async (ev: string, ms: number) => {
      await until(() => events.some((e) => e.ev === ev), ms, `the half-close helper's "${ev}"`);
      return events.find((e) => e.ev === ev)!;
    };
    return next;
  };
  const target = run(["target"]);
  const targetPort = Number((await target("listening", 10_000)).port);
  return {
    targetPort,
    upload: async (port, total) =>
      (await run(["client", String(port), String(total)])("client", 30_000)) as Awaited<
        ReturnType<HalfCloseEnds["upload"]>
      >,
    received: async () => (await target("received", 10_000)) as Awaited<ReturnType<HalfCloseEnds["received"]>>,
  };
}
