/**
 * `tunnel logs NAME [-f]`: the tunnel's events (connects, reconnections, errors, each
 * connection with its bytes), the turned-over part of the log first; `-f` goes on printing
 * what is added until the tunnel ends (or Ctrl+C). The log of a tunnel that has ended stays
 * readable until a tunnel of that name starts again.
 */
import * as fs from "node:fs";
import { isName, pathsFor, processAlive, readLog, readRecordFile } from "@tunnel/core";
import { defineCommand } from "citty";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import { stateDirectory } from "../managed.ts";

export default defineCommand({
  meta: { name: "logs", description: VERB_DESCRIPTIONS.logs },
  args: {
    name: { type: "positional", required: true, description: "the tunnel's name (tunnel list)" },
    follow: { type: "boolean", alias: "f", description: "keep printing new events until the tunnel ends" },
  },
  async run({ args }) {
    const paths = pathsFor(stateDirectory(), args.name);
    if (!isName(args.name) || (!fs.existsSync(paths.log) && !fs.existsSync(paths.record))) {
      throw new Error(`no tunnel named "${args.name}" and no log of one (tunnel list shows the running ones)`);
    }
    process.stdout.write(readLog(paths.log));
    if (!args.follow) return;
    let at = size(paths.log);
    const running = () => {
      const r = readRecordFile(paths.record);
      return !(r instanceof Error) && processAlive(r.pid);
    };
    for (let stop = false; !stop; ) {
      await new Promise((r) => setTimeout(r, 200));
      // Checked before reading, so that the last lines of a tunnel that just ended are printed.
      stop = !running();
      const now = size(paths.log);
      if (now < at) at = 0; // turned over: the new file from its start
      if (now > at) {
        const fd = fs.openSync(paths.log, "r");
        const buf = new Uint8Array(now - at);
        fs.readSync(fd, buf, 0, buf.length, at);
        fs.closeSync(fd);
        process.stdout.write(buf);
        at = now;
      }
    }
  },
});

function size(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
