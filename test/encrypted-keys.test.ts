/**
 * Encrypted private keys through the shipped CLI against a real sshd (issue 15, item 3): keys
 * made by `ssh-keygen -N`, the passphrase from SSH_ASKPASS under SSH_ASKPASS_REQUIRE=force (how
 * scripts supply it) or typed on a terminal (a pseudo-terminal from script(1), nothing
 * echoed); an encrypted id_ed25519 whose passphrase fails does not stop a plain id_rsa; with
 * neither a terminal nor askpass nothing waits. Whether askpass is used is checked against the
 * real ssh(1) for every SSH_ASKPASS_REQUIRE × DISPLAY combination, without a terminal.
 *
 * Every child runs in a session of its own (setsid), so it has no controlling terminal even
 * when the tests are started from one: /dev/tty cannot be opened there, as on a CI machine.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fingerprintOf, type Sshd, startSshd } from "@tunnel/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliCommand, REPO_ROOT } from "./harness/cli.ts";

const PASS = "correct horse battery";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program in a new session (no controlling terminal), stdin closed, with `env` added. */
function runDetached(command: string, args: string[], env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const full: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) full[k] = v;
    const child = spawn(command, args, { cwd: REPO_ROOT, env: full, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.end();
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let tmp: string;
let sshd: Sshd;
/** An ed25519 key in ssh-keygen's default encryption (aes256-ctr, bcrypt, 16 rounds). */
let encEd25519: string;
/** An ECDSA key in PEM, encrypted by ssh-keygen -m PEM (AES-128-CBC, DEK-Info). */
let encPem: string;
/** A home whose ~/.ssh holds an encrypted id_ed25519 and a plain id_rsa, both authorized. */
let home: string;
let homeRsa: string;

/** An askpass program printing `answer`, appending each prompt it gets to its log. */
function askpass(name: string, answer: string): { program: string; prompts: () => string[] } {
  const program = path.join(tmp, name);
  const log = `${program}.log`;
  fs.writeFileSync(program, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${log}'\nprintf '%s\\n' '${answer}'\n`, {
    mode: 0o700,
  });
  return {
    program,
    prompts: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").replace(/\n$/, "").split("\n") : []),
  };
}

function keygen(file: string, passphrase: string, args: string[]): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  execFileSync("ssh-keygen", ["-q", "-N", passphrase, "-C", path.basename(file), "-f", file, ...args]);
  return file;
}

/** What every run gets: no agent, no DISPLAY, no askpass settings unless a test adds them. */
const BASE_ENV = {
  SSH_AUTH_SOCK: undefined,
  DISPLAY: undefined,
  WAYLAND_DISPLAY: undefined,
  SSH_ASKPASS: undefined,
  SSH_ASKPASS_REQUIRE: undefined,
};

function check(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  const [command, argv] = cliCommand([
    "check",
    `${sshd.user}@${sshd.host}:${sshd.port}`,
    "--known-hosts",
    sshd.knownHostsFile,
    "--json",
    ...args,
  ]);
  return runDetached(command, argv, { ...BASE_ENV, ...env });
}

function userKeyOf(run: Run): { type: string; fingerprint: string } {
  expect(run.code, `tunnel check failed:\n${run.stderr}`).toBe(0);
  return (JSON.parse(run.stdout) as { userKey: { type: string; fingerprint: string } }).userKey;
}

beforeAll(async () => {
  tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tunnel-encrypted-keys-"));
  encEd25519 = keygen(path.join(tmp, "keys", "enc_ed25519"), PASS, ["-t", "ed25519"]);
  encPem = keygen(path.join(tmp, "keys", "enc_pem"), PASS, ["-t", "ecdsa", "-b", "256", "-m", "PEM"]);
  home = path.join(tmp, "home");
  const homeEd = keygen(path.join(home, ".ssh", "id_ed25519"), PASS, ["-t", "ed25519"]);
  homeRsa = keygen(path.join(home, ".ssh", "id_rsa"), "", ["-t", "rsa", "-b", "2048"]);
  const pubs = [encEd25519, encPem, homeEd, homeRsa].map((f) =>
    fs.readFileSync(`${f}.pub`, "utf8").split(" ").slice(0, 2).join(" "),
  );
  sshd = await startSshd({ authorizedKeys: pubs });
});

afterAll(async () => {
  await sshd?.stop();
  if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
});

describe("tunnel check with an encrypted key", () => {
  it("passphrase from SSH_ASKPASS with SSH_ASKPASS_REQUIRE=force: asked once, with ssh's prompt", async () => {
    const a = askpass("askpass-right", PASS);
    const run = await check(["--identity", encEd25519], { SSH_ASKPASS: a.program, SSH_ASKPASS_REQUIRE: "force" });
    expect(userKeyOf(run)).toEqual({ type: "ssh-ed25519", fingerprint: await fingerprintOf(`${encEd25519}.pub`) });
    expect(a.prompts()).toEqual([`Enter passphrase for key '${encEd25519}': `]);
  });

  it("a PEM key encrypted by ssh-keygen -m PEM, the same way", async () => {
    const a = askpass("askpass-pem", PASS);
    const run = await check(["--identity", encPem], { SSH_ASKPASS: a.program, SSH_ASKPASS_REQUIRE: "force" });
    expect(userKeyOf(run)).toEqual({ type: "ecdsa-sha2-nistp256", fingerprint: await fingerprintOf(`${encPem}.pub`) });
    expect(a.prompts()).toHaveLength(1);
  });

  it("encrypted id_ed25519 whose passphrase fails + plain id_rsa → connects with id_rsa", async () => {
    const a = askpass("askpass-wrong", "not the passphrase");
    const run = await check([], { HOME: home, SSH_ASKPASS: a.program, SSH_ASKPASS_REQUIRE: "force" });
    expect(userKeyOf(run)).toEqual({ type: "ssh-rsa", fingerprint: await fingerprintOf(`${homeRsa}.pub`) });
    // Three tries at id_ed25519, as ssh makes (NumberOfPasswordPrompts), then on to id_rsa.
    expect(a.prompts()).toEqual(Array(3).fill(`Enter passphrase for key '${path.join(home, ".ssh", "id_ed25519")}': `));
  });

  it("no terminal and no askpass: nothing waits, and the failure says why", async () => {
    const a = askpass("askpass-unused", PASS);
    // SSH_ASKPASS alone is not enough for ssh: it also needs DISPLAY or SSH_ASKPASS_REQUIRE.
    const run = await check(["--identity", encEd25519], { SSH_ASKPASS: a.program });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`identity file ${encEd25519} is encrypted and there is no terminal to ask on`);
    expect(a.prompts()).toEqual([]);
  });
});

describe("askpass is used exactly when ssh uses it (no terminal)", () => {
  const combos: [string | undefined, string | undefined][] = [];
  for (const display of [undefined, ":0"])
    for (const require of [undefined, "prefer", "force", "never"]) combos.push([display, require]);

  it.each(combos)("DISPLAY=%s SSH_ASKPASS_REQUIRE=%s", async (display, require) => {
    const env = { DISPLAY: display, SSH_ASKPASS_REQUIRE: require };
    const forSsh = askpass(`oracle-ssh-${display}-${require}`, PASS);
    await runDetached(
      "ssh",
      [
        "-F",
        "/dev/null",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-o",
        "PasswordAuthentication=no",
        "-o",
        "KbdInteractiveAuthentication=no",
        "-o",
        `UserKnownHostsFile=${sshd.knownHostsFile}`,
        "-o",
        "StrictHostKeyChecking=yes",
        "-i",
        encEd25519,
        "-p",
        String(sshd.port),
        `${sshd.user}@${sshd.host}`,
        "true",
      ],
      { ...BASE_ENV, ...env, SSH_ASKPASS: forSsh.program },
    );
    const forUs = askpass(`oracle-tunnel-${display}-${require}`, PASS);
    const run = await check(["--identity", encEd25519], { ...env, SSH_ASKPASS: forUs.program });
    const sshAsked = forSsh.prompts().length > 0;
    expect(forUs.prompts().length > 0, `ssh ${sshAsked ? "used" : "did not use"} askpass`).toBe(sshAsked);
    expect(forUs.prompts()).toEqual(forSsh.prompts());
    expect(run.code === 0).toBe(sshAsked);
  });
});

describe("the passphrase typed on a terminal", () => {
  it("is read with nothing echoed, and the key is used", async () => {
    const [command, argv] = cliCommand([
      "check",
      `${sshd.user}@${sshd.host}:${sshd.port}`,
      "--known-hosts",
      sshd.knownHostsFile,
      "--identity",
      encEd25519,
      "--json",
    ]);
    const line = [command, ...argv].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...BASE_ENV })) if (v !== undefined) env[k] = v;
    const { code, screen } = await new Promise<{ code: number | null; screen: string }>((resolve, reject) => {
      // script(1) runs the CLI on a new pseudo-terminal; what we write to it is typed there.
      const child = spawn("script", ["-qec", line, "/dev/null"], { cwd: REPO_ROOT, env, detached: true });
      let screen = "";
      let typed = false;
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.stdout.setEncoding("utf8").on("data", (s: string) => {
        screen += s;
        if (!typed && screen.includes(`Enter passphrase for key '${encEd25519}': `)) {
          typed = true;
          child.stdin.write(`${PASS}\r`);
        }
      });
      child.once("error", reject);
      child.once("close", (c) => {
        clearTimeout(timer);
        child.stdin.destroy();
        resolve({ code: c, screen });
      });
    });
    expect(code, screen).toBe(0);
    expect(screen).toContain('"userKey":{"type":"ssh-ed25519"');
    expect(screen).not.toContain(PASS);
  });
});
