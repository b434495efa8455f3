/**
 * Diagnosis behind the WAN figures: one channel through a delay relay, traced every 10 ms —
 * bytes moved, and the window that limits them.
 *
 *   node --import tsx bench/window-trace.ts [--rtt 50] [--server sshd|serve] [--direction down|up]
 *        [--megabytes 64] [--max-window-mib 16] [--sink socket|direct] [--relay-runtime bun]
 *
 * The SSH client runs in this process (as `tunnel open` does, with this runtime's defaults), so
 * its channel can be read: downloads show our receive window (`channel.receiveWindowSize`)
 * and how much of it is in use; uploads show the credit the server grants us (the most
 * `remoteWindow` reached per interval: a lower bound of the server's receive window). The
 * server is OpenSSH's sshd (harness) or `tunnel serve` (startForwardingServer, in a process of
 * its own through the CLI bundle, so that it does not share this thread).
 * `--sink socket` hands downloaded bytes to a local TCP socket, as `tunnel open` does (window
 * re-granted as the socket takes them); `direct` consumes them at once.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadIdentity, localUserName } from "@tunnel/core";
import { encodeHeader, patternBlock, startTarget } from "@tunnel/core/bench";
import { type Conn, connectClient, parsePublicKeyLine, publicKeyEquals } from "@tunnel/ssh";
import { runtime } from "@tunnel/ssh/runtime";
import { makeKey, startSshd } from "@tunnel/testkit";
import { providerFor, resolveAlgorithms } from "../packages/tunnel/src/algorithms.ts";
import { parseArgs } from "./lib/args.ts";
import { type JsRuntime, snapshotCli } from "./lib/forwarders.ts";
import { startRelayProcess, startServeProcess } from "./lib/wan.ts";

const args = parseArgs({
  name: "bench/window-trace.ts",
  summary: "One channel through the delay relay, traced every 10 ms: bytes moved and the window that limits them.",
  options: {
    rtt: { type: "number", min: 0, default: 50, description: "round trip of the relay, ms" },
    server: { type: "string", choices: ["sshd", "serve"], default: "sshd", description: "OpenSSH or tunnel serve" },
    direction: { type: "string", choices: ["down", "up"], default: "down", description: "which way the bytes go" },
    megabytes: { type: "number", above: 0, default: 64, description: "MiB to move" },
    "max-window-mib": { type: "number", above: 0, default: 16, description: "cap of our receive window" },
    sink: {
      type: "string",
      choices: ["socket", "direct"],
      default: "socket",
      description: "downloaded bytes to a local socket, or consumed at once",
    },
    "relay-runtime": {
      type: "string",
      choices: ["node", "bun", "deno"],
      default: "bun",
      description: "runtime of the delay relay",
    },
    all: { type: "boolean", description: "print every sample, not every 10th" },
  },
});
const rtt = args.rtt;
const server = args.server;
const direction = args.direction;
const bytes = args.megabytes * 2 ** 20;
const maxWindow = args["max-window-mib"] * 2 ** 20;
const sink = args.sink;
const relayRuntime: JsRuntime = args["relay-runtime"];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-trace-"));
const key = await makeKey(dir, "id_ed25519", { type: "ed25519" });
const target = await startTarget(runtime);
const stops: (() => Promise<void>)[] = [async () => target.close()];
try {
  let port: number;
  let hostPubLines: string[];
  if (server === "sshd") {
    const sshd = await startSshd({ hostKeys: ["ed25519"] });
    stops.push(() => sshd.stop());
    await sshd.addAuthorizedKey(key.pubLine);
    port = sshd.port;
    hostPubLines = fs
      .readFileSync(sshd.knownHostsFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.slice(l.indexOf(" ") + 1));
  } else {
    snapshotCli(path.join(dir, "cli"));
    const serve = await startServeProcess(dir, key.path, target.port, "node");
    stops.push(() => serve.stop());
    port = serve.port;
    hostPubLines = [serve.hostPub];
  }
  const relay = await startRelayProcess(relayRuntime, port, rtt, 64 * 2 ** 20);
  stops.push(() => relay.stop());
  const relayPort = Number(relay.line.slice(relay.line.lastIndexOf(":") + 1));

  const provider = providerFor("auto");
  const hostKeys = hostPubLines.map((l) => parsePublicKeyLine(l));
  const conn = await runtime.connect("127.0.0.1", relayPort);
  const client = await connectClient(conn, {
    // As tunnel open does (hop-login.ts): the round trip that lets the window grow on long links only.
    measureRoundTrip: true,
    host: "127.0.0.1",
    port: relayPort,
    username: localUserName(),
    identities: [loadIdentity(key.path)],
    algorithms: resolveAlgorithms({}, provider),
    provider,
    verifyHostKey: (info) => hostKeys.some((k) => publicKeyEquals(info.key, k)),
  });
  client.mux.maxWindow = maxWindow;
  const channel = await client.mux.openDirectTcpip("127.0.0.1", target.port, "127.0.0.1", 1);
  const t0 = performance.now();
  let moved = 0;
  let peakCredit = 0;
  let mostCredit = 0;
  const samples: string[] = [];
  const sampler = setInterval(() => {
    const ms = performance.now() - t0;
    const line =
      direction === "down"
        ? `${ms.toFixed(0).padStart(6)} ms  ${(moved / 2 ** 20).toFixed(1).padStart(7)} MiB  window ${(channel.receiveWindowSize / 2 ** 20).toFixed(1)} MiB  credit left ${(channel.localWindow / 2 ** 20).toFixed(2)} MiB`
        : `${ms.toFixed(0).padStart(6)} ms  ${(moved / 2 ** 20).toFixed(1).padStart(7)} MiB  most credit granted ${(peakCredit / 2 ** 20).toFixed(1)} MiB  queued ${(channel.writableLength / 2 ** 20).toFixed(2)} MiB`;
    samples.push(line);
    mostCredit = Math.max(mostCredit, peakCredit);
    peakCredit = channel.remoteWindow;
  }, 10);
  let peek: ReturnType<typeof setInterval> | undefined;
  const done = new Promise<void>((resolve) => {
    if (direction === "down") {
      let local: Conn | undefined;
      const deliver = (data: Uint8Array) => {
        moved += data.length;
        if (moved >= bytes) resolve();
      };
      if (sink === "socket") {
        // A local socket pair, as tunnel open has: the window is re-granted as it takes bytes.
        void (async () => {
          let peer!: Conn;
          const l = await runtime.listen("127.0.0.1", 0, (c) => {
            peer = c;
            c.setHandlers({ data: deliver, drain() {}, end() {}, close() {} });
          });
          local = await runtime.connect("127.0.0.1", l.port);
          // Closed with the rest: left open, they kept the process from exiting.
          const opened = local;
          stops.push(async () => {
            opened.destroy();
            peer?.destroy();
            await l.close();
          });
          let unacked = 0;
          local.setHandlers({
            data() {},
            drain() {
              channel.consumed(unacked);
              unacked = 0;
            },
            end() {},
            close() {},
          });
          channel.events = {
            data(d) {
              if ((local as Conn).write(d)) channel.consumed(d.length);
              else unacked += d.length;
            },
          };
          void peer;
          channel.write(encodeHeader("D", bytes));
        })();
      } else {
        channel.events = {
          data(d) {
            deliver(d);
            channel.consumed(d.length);
          },
        };
        channel.write(encodeHeader("D", bytes));
      }
    } else {
      channel.events = {
        data() {
          resolve();
        },
        drain: () => pump(),
      };
      const block = patternBlock();
      channel.write(encodeHeader("U", bytes));
      const pump = () => {
        while (moved < bytes) {
          const n = Math.min(block.length, bytes - moved);
          moved += n;
          peakCredit = Math.max(peakCredit, channel.remoteWindow);
          if (!channel.write(n === block.length ? block : block.subarray(0, n))) return;
        }
      };
      // The credit the server grants, peeked at between writes too.
      peek = setInterval(() => {
        peakCredit = Math.max(peakCredit, channel.remoteWindow);
      }, 1);
      pump();
    }
  });
  await done;
  clearInterval(sampler);
  clearInterval(peek);
  const seconds = (performance.now() - t0) / 1000;
  // Every 10th sample, and the last ones.
  const every = args.all ? 1 : 10;
  for (const [i, s] of samples.entries()) if (i % every === 0 || i > samples.length - 3) console.log(s);
  const window = direction === "down" ? channel.receiveWindowSize : Math.max(mostCredit, peakCredit);
  console.log(
    `${direction} ${bytes / 2 ** 20} MiB through ${server} at ${rtt} ms: ${(bytes / seconds / 1e6).toFixed(0)} MB/s in ${seconds.toFixed(2)} s; ${direction === "down" ? `our receive window at the end ${(window / 2 ** 20).toFixed(1)} MiB (max ${channel.receiveWindowMax / 2 ** 20} MiB: ours ${maxWindow / 2 ** 20}, within the server's ceiling)` : `most credit the server granted ${(window / 2 ** 20).toFixed(1)} MiB`}; that window ÷ RTT = ${(window / (rtt / 1000) / 1e6).toFixed(0)} MB/s`,
  );
  client.close();
} finally {
  for (const s of stops.reverse()) await s();
  fs.rmSync(dir, { recursive: true, force: true });
}
