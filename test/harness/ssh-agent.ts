/**
 * A real OpenSSH ssh-agent for interop tests: `ssh-agent -D -a SOCK` in the foreground (so it
 * is our child and dies with the test), keys added with the real `ssh-add`.
 *
 *   const agent = await startAgent(dir);
 *   await agent.add(key.path);            // its `-cert.pub`, if any, goes in too
 *   ... SSH_AUTH_SOCK=agent.socket ...
 *   await agent.stop();
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { promisify } from "node:util";

const execFileP = promisify(execFile);
const READY_TIMEOUT_MS = 10_000;

export interface Agent {
  /** The agent's socket: what SSH_AUTH_SOCK names. */
  socket: string;
  /** `ssh-add FILE…` (with the agent's socket); `-cert.pub` files beside a key are added with it. */
  add(...files: string[]): Promise<void>;
  /** `ssh-add -l` lines: `bits SHA256:… comment (TYPE)`. */
  list(): Promise<string[]>;
  /** Ends the agent and removes its socket. Idempotent. */
  stop(): Promise<void>;
}

function accepts(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect({ path: socket });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

export async function startAgent(dir: string, name = "agent.sock"): Promise<Agent> {
  await fs.promises.mkdir(dir, { recursive: true });
  const socket = path.join(dir, name);
  await fs.promises.rm(socket, { force: true });
  const child: ChildProcess = spawn("ssh-agent", ["-D", "-a", socket], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  // The socket file appears at bind(), a moment before listen(): ready is when a connect works.
  while (!(await accepts(socket))) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`ssh-agent exited before creating ${socket}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`ssh-agent did not create ${socket} within ${READY_TIMEOUT_MS} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const env = { ...process.env, SSH_AUTH_SOCK: socket };
  let stopped: Promise<void> | undefined;
  return {
    socket,
    async add(...files) {
      await execFileP("ssh-add", files, { env });
    },
    async list() {
      const { stdout } = await execFileP("ssh-add", ["-l"], { env });
      return stdout.trim().split("\n");
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          await exited;
        }
        await fs.promises.rm(socket, { force: true });
      })();
      return stopped;
    },
  };
}
