/**
 * The harness pieces the field tests of issue 13 stand on, checked with OpenSSH's own tools so
 * that they hold whatever the product does: sshd killed and restarted on the same port with the
 * same host keys (or fresh ones), sessions killed under a running listener, and the fault relay
 * carrying a real SSH session.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { makeKey, type Sshd, startFaultRelay, startSshd, type UserKey } from "@tunnel/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const execFileP = promisify(execFile);
let dir: string;
let key: UserKey;
let sshd: Sshd;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-field-harness-"));
  key = await makeKey(dir, "id", { type: "ed25519" });
  sshd = await startSshd({ hostKeys: ["ed25519"], authorizedKeys: [key.pubLine] });
});

afterAll(async () => {
  await sshd?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The ed25519 host key line the server on `port` presents, as ssh-keyscan reads it. */
async function scan(port: number): Promise<string> {
  const { stdout } = await execFileP("ssh-keyscan", ["-T", "5", "-t", "ed25519", "-p", String(port), "127.0.0.1"]);
  const line = stdout.split("\n").find((l) => l.includes("ssh-ed25519"));
  if (!line) throw new Error(`ssh-keyscan found no ed25519 key on port ${port}`);
  return line.split(/\s+/).slice(1, 3).join(" ");
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

/** `ssh -N` to `port`, checking the host key against the harness's known_hosts. */
function sshN(port: number): ChildProcess {
  return spawn(
    "ssh",
    [
      "-N",
      "-o",
      "BatchMode=yes",
      "-o",
      `UserKnownHostsFile=${sshd.knownHostsFile}`,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `HostKeyAlias=[127.0.0.1]:${sshd.port}`,
      "-i",
      key.path,
      "-p",
      String(port),
      `${sshd.user}@127.0.0.1`,
    ],
    { stdio: "ignore" },
  );
}

describe("field harness", () => {
  it("sshd kill() then restart(): refused while down, then the same port and the same host key", async () => {
    const before = await scan(sshd.port);
    expect(before).toBe(sshd.hostKey("ssh-ed25519").pubLine);
    await sshd.kill({ signal: "SIGKILL" });
    expect(sshd.running).toBe(false);
    expect(await refused(sshd.port)).toBe(true);
    await sshd.restart();
    expect(sshd.running).toBe(true);
    expect(await scan(sshd.port)).toBe(before);
  });

  it("sshd stop() then restart() puts its files back: same port, same host key, logins still work", async () => {
    const before = await scan(sshd.port);
    await sshd.stop();
    expect(fs.existsSync(sshd.dir)).toBe(false);
    await sshd.restart();
    expect(await scan(sshd.port)).toBe(before);
    const ssh = sshN(sshd.port);
    await new Promise((r) => setTimeout(r, 1500));
    expect(ssh.exitCode).toBeNull(); // logged in and holding the session
    ssh.kill();
  });

  it("sshd restart({ newHostKeys: true }) presents a different key, which its known_hosts refuses", async () => {
    const before = await scan(sshd.port);
    await sshd.restart({ newHostKeys: true });
    const after = await scan(sshd.port);
    expect(after).not.toBe(before);
    expect(after).toBe(sshd.hostKey("ssh-ed25519").pubLine);
    const ssh = sshN(sshd.port);
    const code = await new Promise((r) => ssh.once("exit", r));
    expect(code).toBe(255);
    // put a known_hosts that matches back for the tests after this one
    fs.writeFileSync(sshd.knownHostsFile, `${sshd.knownHostsLine(after)}\n`);
  });

  it("sshd killConnections() ends the sessions and leaves the listener up", async () => {
    const ssh = sshN(sshd.port);
    await new Promise((r) => setTimeout(r, 1500));
    expect(ssh.exitCode).toBeNull();
    const exited = new Promise((r) => ssh.once("exit", r));
    expect(await sshd.killConnections()).toBeGreaterThan(0);
    expect(await exited).toBe(255);
    expect(await scan(sshd.port)).toBe(sshd.hostKey("ssh-ed25519").pubLine);
  });

  it("the fault relay carries an OpenSSH session, and its reset ends it", async () => {
    const relay = await startFaultRelay(sshd.port);
    try {
      const ssh = sshN(relay.port);
      await new Promise((r) => setTimeout(r, 1500));
      expect(ssh.exitCode).toBeNull();
      const [link] = relay.links();
      expect(link!.bytesUp).toBeGreaterThan(1000);
      const exited = new Promise((r) => ssh.once("exit", r));
      await relay.set("reset");
      expect(await exited).toBe(255);
    } finally {
      await relay.stop();
    }
  });
});
