/**
 * What the benchmark measures through: nothing (direct TCP), OpenSSH's `ssh -L`, and
 * `tunnel open` under each runtime. Each forwarder listens on a local port and carries
 * connections to the bench target through the harness's real sshd.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import type { JsRuntime, Sshd } from "@tunnel/testkit";
import { freePort } from "@tunnel/testkit";

export const ROOT = path.resolve(import.meta.dirname, "../..");

export type { JsRuntime };

/**
 * The command line that runs a module under a runtime, or undefined if that runtime is absent.
 * `typescript`: Node needs tsx's loader for a .ts entry (Bun and Deno run TypeScript as is).
 */
function commandFor(rt: JsRuntime, entry: string, typescript: boolean): string[] | undefined {
  if (rt === "node") {
    // BENCH_NODE_ARGS: extra Node flags for profiling, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const extra = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
    return [process.execPath, ...extra, ...(typescript ? ["--import", "tsx"] : []), entry];
  }
  // The binaries themselves, not the package-manager shims (deno's shim starts Node first).
  const bin = path.join(ROOT, rt === "bun" ? "node_modules/bun/bin/bun.exe" : "node_modules/deno/deno");
  if (!fs.existsSync(bin)) return undefined;
  // BENCH_BUN_ARGS / BENCH_DENO_ARGS: the same for Bun ("--cpu-prof --cpu-prof-dir=/tmp/prof") and Deno.
  const extra = process.env[`BENCH_${rt.toUpperCase()}_ARGS`]?.split(" ").filter(Boolean) ?? [];
  return rt === "bun" ? [bin, ...extra, entry] : [bin, "run", "-A", ...extra, entry];
}

/** The command line that runs a TypeScript entry point under a runtime, or undefined if absent. */
export function runtimeCommand(rt: JsRuntime, entry: string): string[] | undefined {
  return commandFor(rt, entry, true);
}

let cliDist = path.join(ROOT, "apps/cli/dist");

/**
 * Copies the bundled CLI to `dir` and runs it from there from now on: a rebuild in the
 * checkout (which empties apps/cli/dist first) during a long benchmark cannot pull the
 * program out from under it, and every figure is of the same build.
 */
export function snapshotCli(dir: string, from = path.join(ROOT, "apps/cli/dist")): void {
  if (!fs.existsSync(path.join(from, "node", "tunnel.mjs")))
    throw new Error(`${from} is missing: run \`node scripts/build.mjs\` first`);
  fs.cpSync(from, dir, { recursive: true });
  cliDist = dir;
}

/**
 * The command line that runs the bundled CLI (what ships; `node scripts/build.mjs` makes it)
 * under a runtime, or undefined if that runtime is absent.
 */
export function tunnelCommand(rt: JsRuntime): string[] | undefined {
  const bundle = path.join(cliDist, rt, "tunnel.mjs");
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`node scripts/build.mjs\` first`);
  return commandFor(rt, bundle, false);
}

export interface Forwarder {
  label: string;
  port: number;
  pid: number | undefined;
  stop(): Promise<void>;
}

function waitListening(port: number, child: ChildProcess, what: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`${what} exited with ${child.exitCode}: ${stderr()}`));
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve();
      });
      s.once("error", () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`${what} did not listen on ${port} in 20 s: ${stderr()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Stops `child`: SIGTERM, then SIGKILL if it has not exited within 5 s; resolves once it has. */
export function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      child.kill("SIGTERM");
    });
}

export interface SshTarget {
  sshd: Sshd;
  identity: string;
  targetPort: number;
  /**
   * Where to connect instead of the sshd itself (a delay relay in front of it, or `tunnel
   * serve`), with a known_hosts file naming that port's host key.
   */
  via?: { port: number; knownHostsFile: string; label?: string };
}

const viaPort = (t: SshTarget) => t.via?.port ?? t.sshd.port;
const viaKnownHosts = (t: SshTarget) => t.via?.knownHostsFile ?? t.sshd.knownHostsFile;

/** `ssh -N -L` with one cipher (undefined: OpenSSH's default order), OpenSSH's own client. */
export async function startSshL(t: SshTarget, cipher: string | undefined): Promise<Forwarder> {
  const port = await freePort();
  const args = [
    "-N",
    "-F",
    "/dev/null",
    "-L",
    `127.0.0.1:${port}:127.0.0.1:${t.targetPort}`,
    "-p",
    String(viaPort(t)),
    "-i",
    t.identity,
    "-o",
    `UserKnownHostsFile=${viaKnownHosts(t)}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "ExitOnForwardFailure=yes",
    ...(cipher === undefined ? [] : ["-o", `Ciphers=${cipher}`]),
    `${t.sshd.user}@127.0.0.1`,
  ];
  const child = spawn("ssh", args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr?.on("data", (d) => {
    err += String(d);
  });
  await waitListening(port, child, "ssh -L", () => err);
  return { label: "ssh -L", port, pid: child.pid, stop: stopper(child) };
}

/**
 * `tunnel open` under a runtime, with one cipher (undefined: the runtime's default order), and
 * `extra` flags (`--crypto noble` for the pure mode, `--max-window`).
 */
export async function startTunnelOpen(
  t: SshTarget,
  rt: JsRuntime,
  cipher: string | undefined,
  extra: string[] = [],
): Promise<Forwarder> {
  const cmd = tunnelCommand(rt);
  if (!cmd) throw new Error(`${rt} is not installed (node_modules/.bin/${rt})`);
  const port = await freePort();
  const args = [
    ...cmd.slice(1),
    "open",
    `127.0.0.1:${t.targetPort}`,
    "--via",
    `${t.sshd.user}@127.0.0.1:${viaPort(t)}`,
    "--port",
    String(port),
    "--identity",
    t.identity,
    "--known-hosts",
    viaKnownHosts(t),
    "--host-key-check",
    "yes",
    ...(cipher === undefined ? [] : ["--ciphers", cipher]),
    ...extra,
  ];
  const child = spawn(cmd[0] as string, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr?.on("data", (d) => {
    err += String(d);
  });
  // Ready once it prints its local address (the SSH connection is up by then).
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tunnel open (${rt}) not ready in 20 s: ${err}`)), 20_000);
    child.stdout?.once("data", () => {
      clearTimeout(timer);
      resolve();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`tunnel open (${rt}) exited with ${code}: ${err}`));
    });
  });
  return { label: `tunnel (${rt})`, port, pid: child.pid, stop: stopper(child) };
}

/** Peak resident set of a process so far (Linux VmHWM), in bytes. */
export function peakRss(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far (Linux /proc/PID/stat), or undefined. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): utime is the 14th field overall.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}
