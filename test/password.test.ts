/**
 * Passwords against a real sshd with PAM and a local user (issue 15, item 5): keyboard-
 * interactive (PAM's "Password: " round) and the password method, the password from
 * TUNNEL_PASSWORD or asked through SSH_ASKPASS (SSH_ASKPASS_REQUIRE=force) with ssh's prompts,
 * and the failure when it is wrong. The user is made with useradd/chpasswd and removed after:
 * the suite runs as root (scripts/test.sh), as sshd must to check passwords through PAM.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { type Sshd, type SshdOptions, startSshd } from "@tunnel/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runCli } from "./harness/cli.ts";

const execFileP = promisify(execFile);

const USER = `tunnelpw${randomBytes(3).toString("hex")}`;
const PASSWORD = `pw-${randomBytes(6).toString("hex")}`;
let tmp: string;
let home: string;
/** An askpass program printing the password and recording each prompt it was shown. */
let askpass: string;
let promptLog: string;

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error(
      "test/password.test.ts must run as root: it adds a local user, and sshd checks passwords through PAM",
    );
  tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tunnel-password-test-"));
  home = path.join(tmp, "home");
  await fs.promises.mkdir(home);
  await execFileP("useradd", ["--no-create-home", "--shell", "/bin/sh", USER]);
  await new Promise<void>((resolve, reject) => {
    const child = execFile("chpasswd", (err) => (err ? reject(err) : resolve()));
    child.stdin?.end(`${USER}:${PASSWORD}\n`);
  });
  promptLog = path.join(tmp, "prompts.txt");
  askpass = path.join(tmp, "askpass.sh");
  await fs.promises.writeFile(askpass, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${promptLog}'\necho '${PASSWORD}'\n`, {
    mode: 0o700,
  });
});

afterAll(async () => {
  await execFileP("userdel", [USER]).catch(() => {});
  if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
});

function useSshd(options: SshdOptions): () => Sshd {
  let sshd: Sshd | undefined;
  beforeAll(async () => {
    sshd = await startSshd(options);
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  return () => {
    if (!sshd) throw new Error("sshd did not start");
    return sshd;
  };
}

/** `tunnel check USER@sshd` with no agent, no key files, no terminal; `env` supplies the password. */
function check(sshd: Sshd, env: Record<string, string>): Promise<CliResult> {
  return runCli(["check", `${USER}@${sshd.host}:${sshd.port}`, "--known-hosts", sshd.knownHostsFile, "--json"], {
    env: {
      HOME: home,
      SSH_AUTH_SOCK: undefined,
      TUNNEL_PASSWORD: undefined,
      SSH_ASKPASS: undefined,
      SSH_ASKPASS_REQUIRE: undefined,
      DISPLAY: undefined,
      ...env,
    },
  });
}

const viaAskpass = () => ({ SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force" });

async function promptsShown(): Promise<string[]> {
  const text = await fs.promises.readFile(promptLog, "utf8").catch(() => "");
  await fs.promises.rm(promptLog, { force: true });
  return text.split("\n").filter((l) => l !== "");
}

function authMethod(res: CliResult): string {
  expect(res.code, `exit code; stderr:\n${res.stderr}`).toBe(0);
  return (JSON.parse(res.stdout) as { authMethod: string }).authMethod;
}

const pam = ["UsePAM yes"];

describe("sshd with PAM, keyboard-interactive and password", () => {
  const sshd = useSshd({ config: [...pam, "KbdInteractiveAuthentication yes"], passwordAuthentication: true });

  it("TUNNEL_PASSWORD answers PAM's password prompt (keyboard-interactive, ssh's first choice)", async () => {
    expect(authMethod(await check(sshd(), { TUNNEL_PASSWORD: PASSWORD }))).toBe("keyboard-interactive");
  });

  it("SSH_ASKPASS is shown ssh's prompt, `(user@host) ` before the server's", async () => {
    await promptsShown();
    expect(authMethod(await check(sshd(), viaAskpass()))).toBe("keyboard-interactive");
    expect(await promptsShown()).toEqual([`(${USER}@127.0.0.1) Password: `]);
  });

  it("a wrong password fails both methods; the failure says what was tried", async () => {
    const res = await check(sshd(), { TUNNEL_PASSWORD: "not the password" });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      new RegExp(
        `^tunnel: authentication failed for user "${USER}": the server allows publickey, password, keyboard-interactive; we tried keyboard-interactive, password`,
      ),
    );
    expect(res.stderr).not.toContain("not the password");
  });

  it("without a password or a way to ask, the failure says how to offer one", async () => {
    const res = await check(sshd(), { SSH_ASKPASS_REQUIRE: "never" });
    expect(res.code).toBe(1);
    // keyboard-interactive was started, and given no answer
    expect(res.stderr).toContain("we tried keyboard-interactive (no identity key was given)\n");
    expect(res.stderr).toContain("no password: there is no terminal to ask on");
    expect(res.stderr).toContain("the server accepts passwords: set TUNNEL_PASSWORD");
  });
});

describe("sshd with PAM, password only", () => {
  const sshd = useSshd({ config: [...pam, "KbdInteractiveAuthentication no"], passwordAuthentication: true });

  it("TUNNEL_PASSWORD logs in with the password method", async () => {
    expect(authMethod(await check(sshd(), { TUNNEL_PASSWORD: PASSWORD }))).toBe("password");
  });

  it("SSH_ASKPASS is asked with ssh's prompt `user@host's password: `", async () => {
    await promptsShown();
    expect(authMethod(await check(sshd(), viaAskpass()))).toBe("password");
    expect(await promptsShown()).toEqual([`${USER}@127.0.0.1's password: `]);
  });
});
