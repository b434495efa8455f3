/**
 * `tunnel serve` as a child process for the server-role tests, and the OpenSSH `ssh` options
 * they all run it with: the set-up test/serve-openssh, serve-policy-openssh, certificates and
 * field-stop share.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { localUserName } from "@tunnel/core";
import { sleep } from "@tunnel/testkit";
import { type CliProcess, spawnCli } from "./field.ts";

/** `tunnel serve ARGS…`, resolved once it has printed its address on stdout (it is killed if it does not). */
export async function startServeCli(args: string[], env: Record<string, string> = {}): Promise<CliProcess> {
  const p = spawnCli(["serve", ...args], env);
  const deadline = Date.now() + 20_000;
  while (p.stdoutLines.length === 0) {
    if (p.exit() || Date.now() > deadline) {
      await p.kill();
      throw new Error(`tunnel serve did not start; stderr:\n${p.stderr()}`);
    }
    await sleep(20);
  }
  return p;
}

/** A known_hosts file `dir/name` naming each public key line at `[127.0.0.1]:port`. */
export function knownHostsAt(dir: string, name: string, port: number, pubLines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, pubLines.map((l) => `[127.0.0.1]:${port} ${l.trim()}\n`).join(""));
  return file;
}

/**
 * The options of every `ssh` these tests run against a server on 127.0.0.1:`port`: no prompts,
 * the host key checked strictly against `knownHosts`, a forward that fails ends ssh, `key`.
 */
export function sshOptions(knownHosts: string, key: string, port: number): string[] {
  return [
    "-o",
    "BatchMode=yes",
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "ExitOnForwardFailure=yes",
    "-i",
    key,
    "-p",
    String(port),
  ];
}

/** OpenSSH's `ssh` with its stderr kept. */
export interface SshClient {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

/** `ssh -N` (no command: forwards only) with `sshOptions` and ARGS, as this user at 127.0.0.1. */
export function sshForwarding(knownHosts: string, key: string, port: number, args: string[]): SshClient {
  const child = spawn("ssh", ["-N", ...sshOptions(knownHosts, key, port), ...args, `${localUserName()}@127.0.0.1`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, stderr: () => err, exited };
}
