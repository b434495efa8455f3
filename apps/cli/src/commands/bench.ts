/** `tunnel bench`: throughput and round trip on this machine, over loopback or via a bastion. */
import { socketAdapter } from "@tunnel/core";
import { type BenchRow, benchLoopback, benchVia, listenBenchTarget, preferredCipherList } from "@tunnel/core/bench";
import { defineCommand } from "citty";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import { algorithmArgs, algorithmOptions, FLAG_NAMES, hostKeyCheckArg } from "../shared-args.ts";
import { exitLikeSignal, onInterrupt } from "../signals.ts";
import { parseSize } from "../units.ts";

export default defineCommand({
  meta: {
    name: "bench",
    description: VERB_DESCRIPTIONS.bench,
  },
  args: {
    via: { type: "string", description: "measure through this bastion [user@]host[:port] (needs --target)" },
    jump: {
      type: "string",
      alias: "J",
      description: "jump hosts [user@]host[:port],… before the bastion (with --via)",
    },
    target: {
      type: "string",
      description: "host:port of a bench target behind the bastion (run `tunnel bench --serve-target PORT` there)",
    },
    "serve-target": { type: "string", description: "run a bench target on [address:]port until Ctrl+C" },
    megabytes: { type: "string", description: "data each way per measurement (default 64)" },
    rtt: {
      type: "string",
      description: "loopback through a delay relay with this round-trip time in ms (a long link, e.g. 50)",
    },
    "max-window": {
      type: "string",
      description: "largest a channel's receive window may grow to, e.g. 2M for OpenSSH's fixed window (default 16M)",
    },
    identity: { type: "string", alias: "i", description: "private key file (with --via)" },
    "known-hosts": { type: "string", description: "known_hosts file (with --via)" },
    "host-key-check": { ...hostKeyCheckArg, description: "yes | accept-new | no (with --via; default accept-new)" },
    ...algorithmArgs,
    sockets: {
      type: "string",
      description: "socket adapter: this runtime's own (default), or node for the Node compatibility layer of Bun/Deno",
    },
    json: { type: "boolean", description: "one JSON object per measurement" },
  },
  async run({ args }) {
    const err = (l: string) => process.stderr.write(`${l}\n`);
    const sockets = socketAdapter(args.sockets, FLAG_NAMES);
    if (args["serve-target"] !== undefined) {
      // [address:]port; port 0 picks a free one (printed on stdout).
      const m = /^(?:(.+):)?(\d{1,5})$/.exec(args["serve-target"]);
      const port = m ? Number(m[2]) : -1;
      if (!m || port > 65535)
        throw new TypeError(`--serve-target: "${args["serve-target"]}" is not [address:]port; expected e.g. 9000`);
      const l = await listenBenchTarget(m[1] ?? "127.0.0.1", port, sockets);
      // Signals are caught before the address is printed: whoever reads it may stop us at once.
      // A second signal while closing ends the process as that signal would.
      let interrupts: { dispose(): void } | undefined;
      const stopped = new Promise<void>((resolve) => {
        interrupts = onInterrupt(resolve, (signal) => {
          interrupts?.dispose();
          exitLikeSignal(signal);
        });
      });
      err(`bench target listening on ${l.address}:${l.port} (Ctrl+C to stop)`);
      process.stdout.write(`${l.address}:${l.port}\n`);
      await stopped;
      await l.close();
      interrupts?.dispose();
      return;
    }
    const mb = args.megabytes === undefined ? 64 : Number(args.megabytes);
    if (!Number.isFinite(mb) || mb <= 0)
      throw new TypeError(`--megabytes: "${args.megabytes}" is not a positive number`);
    const policy = args["host-key-check"] ?? "accept-new";
    const rtt = args.rtt === undefined ? undefined : Number(args.rtt);
    if (rtt !== undefined && !(rtt >= 0 && rtt <= 10_000))
      throw new TypeError(`--rtt: "${args.rtt}" is not a round-trip time; expected milliseconds from 0 to 10000`);
    const common = {
      bytes: Math.round(mb * 2 ** 20),
      // Over a delayed link each round trip takes the delay: fewer of them, still a median.
      rounds: rtt ? Math.max(10, Math.min(500, Math.round(2000 / rtt))) : 500,
      maxWindow: args["max-window"] === undefined ? undefined : parseSize(args["max-window"], "--max-window", 0),
      // `ciphers` applies with --via; over loopback each cipher of the list is measured in turn.
      ...algorithmOptions(args),
      sockets,
      log: err,
    };
    let rows: BenchRow[];
    if (args.via !== undefined) {
      if (!args.target)
        throw new TypeError(
          "--via needs --target host:port: a bench target behind the bastion (`tunnel bench --serve-target PORT` there)",
        );
      if (rtt !== undefined) throw new TypeError("--rtt: is for the loopback bench; with --via the link is yours");
      err(`measuring through ${args.via} to ${args.target}`);
      rows = await benchVia({
        ...common,
        via: args.via,
        jump: args.jump,
        target: args.target,
        identity: args.identity,
        knownHosts: args["known-hosts"],
        hostKeyCheck: policy,
      });
    } else {
      if (args.target) throw new TypeError("--target needs --via: without it the bench runs over loopback");
      if (args.jump !== undefined) throw new TypeError("--jump needs --via: jump hosts lead to a bastion");
      const cipherList = preferredCipherList(common);
      err(
        `measuring over loopback with ${sockets.name} sockets: server, target and tunnel in this process (both SSH ends share one thread)${rtt === undefined ? "" : `, through a delay relay of ${rtt} ms round trip`}`,
      );
      rows = await benchLoopback({ ...common, cipherList, rttMs: rtt });
    }
    if (args.json) {
      for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    const direct = rows.find((r) => r.through === "direct TCP");
    const lines = rows.map((r) => {
      const vs = direct && r !== direct ? ` (${((100 * r.up) / direct.up).toFixed(0)}% of direct up)` : "";
      const conn = r.connectMs === undefined ? "" : `, connected in ${r.connectMs.toFixed(0)} ms`;
      return `${r.through.padEnd(18)} ${r.cipher.padEnd(30)} up ${(r.up / 1e6).toFixed(0).padStart(5)} MB/s  down ${(r.down / 1e6).toFixed(0).padStart(5)} MB/s  rtt ${r.rtt >= 10_000 ? `${(r.rtt / 1000).toFixed(1).padStart(5)} ms` : `${r.rtt.toFixed(0).padStart(5)} µs`}${vs}${conn}`;
    });
    process.stdout.write(`${lines.join("\n")}\n`);
  },
});
