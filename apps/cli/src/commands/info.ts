/**
 * `tunnel info [NAME…] [--encode]`: each tunnel's details; `--encode` prints them as one line
 * of base64 JSON for an environment variable, as Platform.sh's `tunnel:info --encode` does:
 * an object keyed by tunnel name, each a list of its services with the rewritten URL (the
 * password included: that is what the program reading the variable needs) and its parts.
 */
import { ask, type SecretTarget, type TunnelStatus } from "@tunnel/core";
import { defineCommand } from "citty";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import { findTunnels, formatBytes, formatUptime, namesFrom, pick } from "../tunnels.ts";

export interface Service {
  /** The variable the URL came from, if any. */
  variable: string | null;
  /** host:port behind the bastion. */
  remote: string;
  host: string;
  port: number;
  url: string | null;
  scheme?: string;
  username?: string;
  password?: string;
  path?: string;
  query?: Record<string, string>;
}

/** A target as a service: the local host and port, and the URL's parts when it has one. */
export function service(t: SecretTarget): Service {
  const colon = t.local.lastIndexOf(":");
  const host = t.local.slice(0, colon).replace(/^\[|\]$/g, "");
  const out: Service = {
    variable: t.variable,
    remote: t.remote,
    host,
    port: Number(t.local.slice(colon + 1)),
    url: t.fullUrl,
  };
  if (t.fullUrl) {
    try {
      const u = new URL(t.fullUrl);
      out.scheme = u.protocol.replace(/:$/, "");
      if (u.username) out.username = decodeURIComponent(u.username);
      if (u.password) out.password = decodeURIComponent(u.password);
      const path = decodeURIComponent(u.pathname.replace(/^\//, ""));
      if (path) out.path = path;
      if (u.search) out.query = Object.fromEntries(u.searchParams);
    } catch {
      // not a URL the WHATWG parser takes: the url field alone says it
    }
  }
  return out;
}

/** Each named tunnel's `info` answer (targets with their full URLs). */
export async function secretInfo(dir: string, tunnels: readonly TunnelStatus[]): Promise<TunnelStatus[]> {
  return Promise.all(tunnels.map((t) => ask(dir, t.name, "info") as Promise<TunnelStatus>));
}

export default defineCommand({
  meta: { name: "info", description: VERB_DESCRIPTIONS.info },
  args: {
    name: { type: "positional", required: false, description: "tunnel names (default: every running tunnel)" },
    encode: { type: "boolean", description: "one line of base64 JSON: services by tunnel name, with their URLs" },
  },
  async run({ args }) {
    const found = await findTunnels();
    const tunnels = pick(found, namesFrom(args));
    if (args.encode) {
      const infos = await secretInfo(found.dir, tunnels);
      const out: Record<string, Service[]> = {};
      for (const t of infos) out[t.name] = (t.targets as SecretTarget[]).map(service);
      process.stdout.write(`${Buffer.from(JSON.stringify(out)).toString("base64")}\n`);
      return;
    }
    if (tunnels.length === 0) {
      process.stderr.write("No tunnels are running\n");
      return;
    }
    const lines: string[] = [];
    for (const t of tunnels) {
      lines.push(
        `${t.name}: ${t.state}, pid ${t.pid}, ${t.detached ? "in the background" : "in the foreground"}, up ${formatUptime(t.started)}`,
        `  via ${t.via}; ${t.connections} open connection(s); ${formatBytes(t.bytesIn)} in, ${formatBytes(t.bytesOut)} out`,
      );
      for (const s of t.targets) {
        lines.push(`  ${s.local} → ${s.remote}${s.variable ? ` (${s.variable})` : ""}`);
        if (s.url) lines.push(`    ${s.url}`);
      }
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  },
});
