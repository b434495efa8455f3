/** `tunnel demo`: server, target and tunnel in one process; data checked, speed measured. */
import { runDemo } from "@tunnel/core";
import { defineCommand } from "citty";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";

export default defineCommand({
  meta: {
    name: "demo",
    description: VERB_DESCRIPTIONS.demo,
  },
  args: {
    megabytes: { type: "string", description: "data to push through the tunnel each way (default 64)" },
    json: { type: "boolean", description: "print one JSON object" },
  },
  async run({ args }) {
    const mb = args.megabytes === undefined ? 64 : Number(args.megabytes);
    if (!Number.isFinite(mb) || mb <= 0)
      throw new TypeError(`--megabytes: "${args.megabytes}" is not a positive number`);
    const r = await runDemo({ megabytes: mb, log: (l) => process.stderr.write(`${l}\n`) });
    if (!r.verified) throw new Error("data pushed through the tunnel did not come back intact");
    if (args.json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    process.stdout.write(
      [
        `server:     ${r.serverAddress} (forwarding-only, fresh ${r.hostKeyAlgorithm} host key ${r.hostKeyFingerprint})`,
        `tunnel:     ${r.localAddress} → echo target`,
        `kex:        ${r.kex}${r.strictKex ? " (strict)" : ""}`,
        `cipher:     ${r.cipher}${r.mac === "implicit" ? "" : ` + ${r.mac}`}`,
        `data:       ${(r.bytes / 1048576).toFixed(0)} MiB each way, verified byte for byte`,
        `throughput: ${r.mbPerSecond.toFixed(1)} MiB/s`,
        `round trip: ${r.rttMicros.toFixed(0)} µs (64-byte messages, median)`,
        "",
      ].join("\n"),
    );
  },
});
