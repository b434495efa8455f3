/**
 * The closing matrix of issue 13 ("What must hold" 2), each cell a test through the real CLI
 * (`tunnel open` against a real OpenSSH sshd): whichever end closes first — the local
 * application, the target, or the bastion (sshd's session killed, sshd killed, the link reset
 * or closed by the fault relay) — with FIN or RST, before the channel is confirmed (a target
 * slow to accept, or refusing), mid-transfer either way, or during the drain after Ctrl+C.
 * The other end must be closed cleanly: a FIN when everything was delivered, a RST when bytes
 * the tunnel accepted were lost — never a clean FIN after a truncation — and the process keeps
 * serving (a fresh echo round trip through the same tunnel) and never prints a stack trace.
 *
 * What the tunnel cannot see is not asked of it: OpenSSH's sshd turns a target's RST into
 * CHANNEL_EOF (RFC 4254 §5.3 has no reset), and closes the target's socket with a FIN on
 * CHANNEL_CLOSE, so on the target side only "closed, not left open" and "a prefix of what was
 * sent" are checked; the RST-versus-FIN rule is checked on the local side, which the tunnel owns.
 */
import type { ChildProcess } from "node:child_process";
import type * as net from "node:net";
import { type FaultRelay, freePort, resetSocket, type Sshd } from "@tunnel/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RUNTIME } from "./harness/cli.ts";
import {
  closesWithin,
  type Exit,
  echoEventually,
  echoRoundTrip,
  endsWithin,
  expectCut,
  type OpenProcess,
  pump,
  RESETS_RELIABLY,
  type Recorded,
  STACK_TRACE,
  sleep,
  startPump,
  startStreamTarget,
  streamSha,
  streamTransfer,
  type TargetServer,
  transferProblems,
  until,
} from "./harness/field.ts";
import { FieldBastion } from "./harness/field-bastion.ts";
import { halfCloseEnds, slowAcceptTarget } from "./harness/node-targets.ts";

const MiB = 1024 * 1024;
let dir: string;
let sshd: Sshd;
const children: ChildProcess[] = [];
const fillers: net.Socket[] = [];

const field = new FieldBastion("field-closing");
const { target, cellEcho, local } = field;
const relay = () => field.relayTo();
/** `tunnel open` to the cell's target and the shared echo (for `stillServes`), through `via` or straight to sshd. */
const open = (targetPort: number, extra: string[] = [], via?: FaultRelay) =>
  field.open(targetPort, extra, { relay: via });

beforeAll(async () => {
  await field.start();
  ({ dir, sshd } = field);
});

afterEach(async () => {
  await field.cleanUp();
  for (const s of fillers.splice(0)) s.destroy();
  for (const c of children.splice(0)) {
    if (c.pid !== undefined && c.exitCode === null) {
      try {
        process.kill(c.pid, "SIGCONT");
      } catch {}
      c.kill("SIGKILL");
    }
  }
  if (!sshd.running) await sshd.restart();
});

afterAll(field.stop);

/** Still serving: a fresh echo round trip through the tunnel's second port; nothing printed a stack trace. */
async function stillServes(tunnel: OpenProcess, waitMs = 0): Promise<void> {
  const result = waitMs > 0 ? await echoEventually(tunnel.ports[1]!, waitMs) : await echoRoundTrip(tunnel.ports[1]!);
  expect(result, `fresh echo round trip; stderr:\n${tunnel.stderr()}`).toBe("ok");
  expect(tunnel.exit()).toBeUndefined();
  expect(tunnel.stderr()).not.toMatch(STACK_TRACE);
}

async function exitWithin(tunnel: OpenProcess, ms: number): Promise<Exit> {
  const e = await Promise.race([tunnel.exited, sleep(ms).then(() => undefined)]);
  if (!e) throw new Error(`still running ${ms} ms later; stderr:\n${tunnel.stderr()}`);
  return e;
}

/** A target that sends the stream `seed` (`total` bytes) with backpressure, then FIN. */
function streamingTarget(seed: string, total: number): Promise<TargetServer> {
  return target((c) => void pump(c.socket, seed, total));
}

/** The bytes a recorded end read are the first bytes of the stream `seed`. */
function expectPrefix(r: Recorded, seed: string, what: string): void {
  const end = r.ending();
  expect(end, `${what} has ended`).toBeDefined();
  expect(end!.sha256, `${what}: the ${end!.bytes} bytes read are the stream's first ${end!.bytes}`).toBe(
    streamSha(seed, end!.bytes),
  );
}

// ---------------------------------------------------------------- the local application first

describe("closing matrix: the local application closes first", () => {
  it("FIN after a complete upload: the target gets every byte and a FIN, the reply still comes back whole", async () => {
    const t = await target((c) => c.socket.on("end", () => void pump(c.socket, "reply", 2 * MiB)));
    const tunnel = await open(t.port);
    const l = await local(tunnel.ports[0]!);
    await pump(l.socket, "upload", 8 * MiB);
    const end = await endsWithin(l, 20_000, "local end");
    const te = await endsWithin(t.conns[0]!, 5000, "target end");
    expect(te).toMatchObject({ fin: true, error: undefined, bytes: 8 * MiB, sha256: streamSha("upload", 8 * MiB) });
    expect(end).toMatchObject({ fin: true, error: undefined, bytes: 2 * MiB, sha256: streamSha("reply", 2 * MiB) });
    await stillServes(tunnel);
  });

  it("FIN mid-download (half-close): the download still arrives whole, then a FIN", async () => {
    const t = await streamingTarget("download", 16 * MiB);
    const tunnel = await open(t.port);
    const l = await local(tunnel.ports[0]!);
    l.socket.end("x");
    const end = await endsWithin(l, 20_000, "local end");
    expect(end).toMatchObject({
      fin: true,
      error: undefined,
      bytes: 16 * MiB,
      sha256: streamSha("download", 16 * MiB),
    });
    const te = await endsWithin(t.conns[0]!, 5000, "target end");
    expect(te).toMatchObject({ fin: true, bytes: 1 });
    await stillServes(tunnel);
  });

  it("RST mid-upload: the target's connection is closed (not left open) after a prefix of the upload", async () => {
    const t = await target();
    const tunnel = await open(t.port);
    const l = await local(tunnel.ports[0]!);
    void pump(l.socket, "upload", 256 * MiB, false);
    await t.waitForConns(1);
    await until(() => t.conns[0]!.bytes() >= MiB, 10_000, "1 MiB at the target");
    resetSocket(l.socket);
    await endsWithin(t.conns[0]!, 3000, "target end");
    expectPrefix(t.conns[0]!, "upload", "target");
    await stillServes(tunnel);
  });

  it("RST mid-download: the target's connection is closed (its writes do not hang on a full window)", async () => {
    const t = await streamingTarget("download", 1024 * MiB);
    const tunnel = await open(t.port);
    const l = await local(tunnel.ports[0]!);
    await until(() => l.bytes() >= MiB, 10_000, "1 MiB at the local end");
    resetSocket(l.socket);
    await endsWithin(t.conns[0]!, 3000, "target end");
    await stillServes(tunnel);
  });

  it("RST before the channel is confirmed (slow link): the late target connection is closed, nothing leaks", async () => {
    const r = await relay();
    const t = await target();
    const tunnel = await open(t.port, [], r);
    await r.set({ delay: 300 });
    const l = await local(tunnel.ports[0]!);
    l.socket.write("hello");
    resetSocket(l.socket);
    await sleep(2000); // the open, its confirmation and the close cross the slow link
    for (const c of t.conns) await endsWithin(c, 3000, "the late target connection");
    await r.set("pass");
    await stillServes(tunnel);
  });

  it("FIN before the channel is confirmed (slow link): what it sent is delivered, then the reply and a FIN", async () => {
    const r = await relay();
    const t = await target((c) => c.socket.on("end", () => c.socket.end("bye")), true);
    const tunnel = await open(t.port, [], r);
    await r.set({ delay: 300 });
    const l = await local(tunnel.ports[0]!, true);
    l.socket.end("hello");
    const end = await endsWithin(l, 10_000, "local end");
    expect(t.conns[0]?.data().toString()).toBe("hello");
    expect(end).toMatchObject({ fin: true, error: undefined });
    expect(l.data().toString()).toBe("bye");
    await r.set("pass");
    await stillServes(tunnel);
  });

  it("FIN while the target is slow to accept: once it accepts, what was sent arrives, then the reply and a FIN", async () => {
    const slow = await slowAcceptTarget(dir, { children, fillers });
    const tunnel = await open(slow.port);
    const l = await local(tunnel.ports[0]!, true);
    l.socket.end("hello");
    await sleep(1000); // sshd's connect to the target is stuck in SYN_SENT: the channel is not confirmed
    expect(l.ending()).toBeUndefined();
    slow.resume();
    const end = await endsWithin(l, 15_000, "local end");
    expect(slow.events().some((e) => e.ev === "end" && e.text === "hello")).toBe(true);
    expect(end).toMatchObject({ fin: true, error: undefined });
    expect(l.data().toString()).toBe("bye");
    await stillServes(tunnel);
  });

  it("RST while the target is slow to accept: once it accepts, the late channel is closed at once", async () => {
    const slow = await slowAcceptTarget(dir, { children, fillers });
    const tunnel = await open(slow.port);
    const l = await local(tunnel.ports[0]!);
    l.socket.write("hello");
    await sleep(300);
    resetSocket(l.socket);
    await sleep(700);
    const resumedAt = Date.now();
    slow.resume();
    // sshd's SYN is retried about 3 s after the first; the connection is closed right after
    await until(() => slow.events().some((e) => e.ev === "close" && e.id > slow.filled), 15_000, "the late close");
    const closed = slow.events().find((e) => e.ev === "close" && e.id > slow.filled)!;
    const accepted = slow.events().find((e) => e.ev === "accept" && e.id === closed.id)!;
    expect(closed.at - accepted.at).toBeLessThan(3000);
    expect(accepted.at).toBeGreaterThanOrEqual(resumedAt);
    await stillServes(tunnel);
  });

  it("closing during the drain: its last bytes are delivered, it ends with a FIN, and the tunnel exits 0 at once", async () => {
    const tunnel = await open((await cellEcho()).port, ["--grace=5"]);
    const l = await local(tunnel.ports[0]!, true);
    l.socket.write("first ");
    await until(() => l.bytes() === 6, 5000, "the first echo");
    tunnel.signal("SIGINT");
    await sleep(300);
    l.socket.end("last");
    const end = await endsWithin(l, 3000, "local end");
    expect(end).toMatchObject({ fin: true, error: undefined });
    expect(l.data().toString()).toBe("first last");
    const exit = await exitWithin(tunnel, 1500);
    expect(exit.code).toBe(0);
    expect(tunnel.stderr()).not.toMatch(STACK_TRACE);
  });
});

// ---------------------------------------------------------------- the target first

describe("closing matrix: the target closes first", () => {
  it("FIN after a complete download: the local end gets every byte, then a FIN", async () => {
    const t = await streamingTarget("download", 16 * MiB);
    const tunnel = await open(t.port);
    const l = await local(tunnel.ports[0]!);
    const end = await endsWithin(l, 20_000, "local end");
    expect(end).toMatchObject({
      fin: true,
      error: undefined,
      bytes: 16 * MiB,
      sha256: streamSha("download", 16 * MiB),
    });
    l.socket.end();
    await endsWithin(t.conns[0]!, 5000, "target end");
    await stillServes(tunnel);
  });

  it("FIN mid-upload (half-close): the local end gets a FIN at once and its upload still arrives whole", async () => {
    // Both ends in a Node process: Deno 2.9's node:net turns a FIN received while writing
    // into EPIPE, half-open or not, so a Deno test process cannot play either end here.
    const ends = await halfCloseEnds(dir, { children, fillers });
    const tunnel = await open(ends.targetPort);
    const upload = 16 * MiB;
    // The local end uploads at least 16 MiB and goes on until it has seen the FIN: a tunnel that
    // held the FIN back until the upload ended would leave it writing to its 20 s limit.
    const client = await ends.upload(tunnel.ports[0]!, upload);
    expect(client.error, "the local end's writes").toBeUndefined();
    expect(client).toMatchObject({ fin: true, read: 0 });
    expect(client.written).toBeGreaterThanOrEqual(upload);
    expect(client.finAtWritten, "the target's FIN came while the upload was going on").toBeLessThan(client.written);
    const got = await ends.received();
    expect(got).toMatchObject({ fin: true, bytes: client.written, sha256: streamSha("upload", client.written) });
    await stillServes(tunnel);
  });

  it("close while the local end is still uploading: the local end is reset, never ended as if all was delivered", async () => {
    const t = await target((c) => {
      c.socket.on("data", () => {
        if (c.bytes() >= MiB) c.socket.destroy(); // unread bytes left: the kernel answers with RST
      });
    });
    const tunnel = await open(t.port);
    const l = await local(tunnel.ports[0]!);
    void pump(l.socket, "upload", 256 * MiB);
    // its read side may end with a FIN (the target sent all it had); its writes must fail
    const end = await closesWithin(l, 10_000, "local end");
    expect(end.error, "the upload was cut short: the local end must see a reset").toBeDefined();
    await stillServes(tunnel);
  });

  it("RST mid-download: the local end gets a prefix of the stream and is closed, not left open", async () => {
    const t = await target((c) => {
      const p = startPump(c.socket, "download", 1024 * MiB);
      const check = setInterval(() => {
        if (p.written() >= 2 * MiB) {
          clearInterval(check);
          resetSocket(c.socket);
        }
      }, 5);
    });
    const tunnel = await open(t.port);
    const l = await local(tunnel.ports[0]!);
    await endsWithin(l, 10_000, "local end");
    expectPrefix(l, "download", "local end");
    await stillServes(tunnel);
  });

  it("refusing after the local end sent data (slow link): the local end is reset, with a message", async () => {
    const r = await relay();
    const refused = await freePort();
    const tunnel = await open(refused, [], r);
    await r.set({ delay: 300 });
    const l = await local(tunnel.ports[0]!);
    l.socket.end("hello");
    const end = await endsWithin(l, 10_000, "local end");
    expectCut(end, "bytes it accepted were never delivered: a reset, not a clean close");
    await tunnel.waitStderr(new RegExp(`127\\.0\\.0\\.1:${refused}.*(refused|failed)`), 5000);
    await r.set("pass");
    await stillServes(tunnel);
  });

  it("closing during the drain: the rest of its reply arrives with a FIN, and the tunnel exits 0", async () => {
    let go: () => void = () => {};
    const started = new Promise<void>((r) => {
      go = r;
    });
    const t = await target((c) => void started.then(() => pump(c.socket, "late", 4 * MiB)));
    const tunnel = await open(t.port, ["--grace=10"]);
    const l = await local(tunnel.ports[0]!);
    await t.waitForConns(1);
    tunnel.signal("SIGINT");
    await sleep(300);
    go();
    const end = await endsWithin(l, 10_000, "local end");
    expect(end).toMatchObject({ fin: true, error: undefined, bytes: 4 * MiB, sha256: streamSha("late", 4 * MiB) });
    l.socket.end();
    const exit = await exitWithin(tunnel, 3000);
    expect(exit.code).toBe(0);
    expect(tunnel.stderr()).not.toMatch(STACK_TRACE);
  });

  it("the grace period ending mid-transfer: the local end is reset, never given a FIN after a truncated stream", async () => {
    const t = await target((c) => {
      const src = setInterval(() => {
        if (c.socket.writable) c.socket.write(Buffer.alloc(1024, 1));
        else clearInterval(src);
      }, 20);
      c.socket.on("close", () => clearInterval(src));
    });
    const tunnel = await open(t.port, ["--grace=1"]);
    const l = await local(tunnel.ports[0]!);
    await until(() => l.bytes() > 0, 5000, "the stream at the local end");
    const t0 = tunnel.signal("SIGINT");
    const end = await endsWithin(l, 3000, "local end");
    expectCut(end, "cut mid-stream at the end of the grace period: a reset");
    const exit = await exitWithin(tunnel, 3000);
    expect(exit.code).toBe(0);
    expect(exit.at - t0).toBeLessThanOrEqual(2000);
    expect(tunnel.stderr()).not.toMatch(STACK_TRACE);
  });
});

// ---------------------------------------------------------------- the bastion first

describe("closing matrix: the bastion goes first", () => {
  it("sshd's session killed mid-download: the local end is reset after a prefix; a new connection works after the reconnect", async () => {
    const t = await streamingTarget("download", 1024 * MiB);
    const tunnel = await open(t.port);
    const l = await local(tunnel.ports[0]!);
    await until(() => l.bytes() >= 2 * MiB, 10_000, "2 MiB at the local end");
    expect(await sshd.killConnections("SIGKILL")).toBeGreaterThan(0);
    const end = await endsWithin(l, 3000, "local end");
    expectCut(end, "the download was cut: a reset, not a FIN");
    expectPrefix(l, "download", "local end");
    await tunnel.waitStderr(/^Connection to bastion lost \(.+\); reconnecting in [\d.]+ s \(attempt \d+\)/, 5000);
    await stillServes(tunnel, 10_000);
  });

  it("link reset (RST) mid-upload: the local end is reset; a new connection works after the reconnect", async () => {
    const r = await relay();
    const t = await target();
    const tunnel = await open(t.port, [], r);
    const l = await local(tunnel.ports[0]!);
    void pump(l.socket, "upload", 1024 * MiB);
    await t.waitForConns(1);
    await until(() => t.conns[0]!.bytes() >= 2 * MiB, 10_000, "2 MiB at the target");
    await r.set("reset", "existing");
    const end = await endsWithin(l, 3000, "local end");
    expectCut(end, "the upload was cut: a reset");
    await endsWithin(t.conns[0]!, 5000, "target end");
    expectPrefix(t.conns[0]!, "upload", "target");
    await stillServes(tunnel, 10_000);
  });

  it("link closed (FIN) mid-download: the local end is reset, not given a clean FIN", async () => {
    const r = await relay();
    const t = await streamingTarget("download", 1024 * MiB);
    const tunnel = await open(t.port, [], r);
    const l = await local(tunnel.ports[0]!);
    await until(() => l.bytes() >= 2 * MiB, 10_000, "2 MiB at the local end");
    await r.set("close", "existing");
    const end = await endsWithin(l, 3000, "local end");
    expectCut(end, "the download was cut: a reset, not a FIN");
    expectPrefix(l, "download", "local end");
    await stillServes(tunnel, 10_000);
  });

  it("sshd killed mid-transfer and restarted: the local end is reset; a new connection works once sshd is back", async () => {
    const t = await streamingTarget("download", 1024 * MiB);
    const tunnel = await open(t.port);
    const l = await local(tunnel.ports[0]!);
    await until(() => l.bytes() >= 2 * MiB, 10_000, "2 MiB at the local end");
    await sshd.kill({ signal: "SIGKILL" });
    const end = await endsWithin(l, 3000, "local end");
    expectCut(end, "the download was cut: a reset");
    expectPrefix(l, "download", "local end");
    await sleep(1000);
    await sshd.restart();
    await stillServes(tunnel, 15_000);
  });

  it("link lost before the channel is confirmed: the local end is carried after the reconnect or reset, never closed cleanly with its bytes lost", async () => {
    const r = await relay();
    const tunnel = await open((await cellEcho()).port, [], r);
    await r.set({ delay: 500 }, "existing");
    const l = await local(tunnel.ports[0]!, true);
    l.socket.write("hello");
    await sleep(200);
    await r.set("reset", "existing");
    await Promise.race([until(() => l.bytes() >= 5, 15_000, "the echo").catch(() => {}), l.ended]);
    if (l.bytes() >= 5) {
      // carried over the new connection: it must finish cleanly
      l.socket.end();
      const end = await endsWithin(l, 5000, "local end");
      expect(end).toMatchObject({ fin: true, error: undefined });
      expect(l.data().toString()).toBe("hello");
    } else {
      const end = await endsWithin(l, 1000, "local end");
      expectCut(end, "its bytes were lost with the link: a reset, not a clean close");
    }
    await stillServes(tunnel, 10_000);
  });

  it("link reset under 64 busy channels, three times: every local end is reset, none is given a FIN, no byte is wrong", async () => {
    const PER = 4 * MiB;
    const r = await relay();
    const t = await startStreamTarget(PER);
    field.targets.push(t);
    const tunnel = await open(t.port, [], r);
    for (let round = 0; round < 3; round++) {
      let read = 0;
      const transfers = Array.from({ length: 64 }, (_, i) =>
        streamTransfer(tunnel.ports[0]!, t, `r${round}-${i}`.padEnd(16, "_"), PER, 30_000, (k) => {
          read += k;
        }),
      );
      await until(() => read >= 32 * MiB, 20_000, "32 MiB read by the local ends");
      await r.set("reset", "existing");
      const done = await Promise.all(transfers);
      expect(done.flatMap((x) => transferProblems(x, PER)).join("\n")).toBe("");
      if (RESETS_RELIABLY) expect(done.filter((x) => x.local.fin).map((x) => x.id)).toEqual([]);
      await echoEventually(tunnel.ports[1]!, 10_000);
    }
    await stillServes(tunnel);
  });

  it("link lost while a finished upload is still in flight: the local end is reset, not closed as if it had been delivered", async () => {
    // The local end sends 1 MiB and its FIN; the link holds them (frozen towards sshd) while the
    // target's reply and FIN come back. A FIN passed on to the local end now would close its
    // connection cleanly with the upload undelivered; the link then dies.
    const r = await relay();
    let reply: () => void = () => {};
    const t = await target((c) => {
      reply = () => c.socket.end("ok");
    });
    const tunnel = await open(t.port, [], r);
    const l = await local(tunnel.ports[0]!, true);
    await t.waitForConns(1);
    await r.set({ freeze: "up" }, "existing");
    await new Promise<void>((resolve) => l.socket.end(Buffer.alloc(MiB, 7), () => resolve()));
    await sleep(300); // the tunnel has read all of it and the FIN
    reply();
    await sleep(500);
    await r.set("reset", "existing");
    const end = await closesWithin(l, 5000, "local end");
    expect(t.conns[0]!.bytes(), "nothing of the upload got through").toBeLessThan(MiB);
    // Deno cannot send an RST (see RESETS_RELIABLY): there the cut ends the socket plainly.
    if (RESETS_RELIABLY || RUNTIME !== "deno")
      expect(
        end.error,
        "its upload was lost with the link: the local end must be reset, not closed cleanly",
      ).toBeDefined();
    await stillServes(tunnel, 10_000);
  });

  it("link lost during the drain: connections are reset, no reconnect, exit 0 within grace + 1 s", async () => {
    const r = await relay();
    const t = await streamingTarget("download", 1024 * MiB);
    const tunnel = await open(t.port, ["--grace=3"], r);
    const l = await local(tunnel.ports[0]!);
    await until(() => l.bytes() >= MiB, 10_000, "1 MiB at the local end");
    const t0 = tunnel.signal("SIGINT");
    await sleep(300);
    await r.set("reset", "existing");
    const end = await endsWithin(l, 3000, "local end");
    expectCut(end, "the download was cut: a reset");
    const exit = await exitWithin(tunnel, 5000);
    expect(exit.code).toBe(0);
    expect(exit.at - t0).toBeLessThanOrEqual(4000);
    expect(tunnel.stderr()).not.toMatch(/reconnecting in/);
    expect(tunnel.stderr()).not.toMatch(STACK_TRACE);
  });
});
