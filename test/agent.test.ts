/**
 * The ssh-agent against the real OpenSSH programs (issue 15, item 2): keys held only by a real
 * `ssh-agent` (added with `ssh-add`) get `tunnel check` into a real sshd — ed25519, ECDSA and
 * RSA (rsa-sha2-* through the agent's signature flags) and certificates the agent holds; keys
 * are offered in the order `ssh -v` offers them; a key file the agent holds is signed for by
 * the agent, its private key never decrypted; sshd's MaxAuthTries hang-up and an unreachable
 * agent are explained. The suite runs under Node, Bun and Deno (scripts/test.sh): each
 * runtime's own Unix sockets reach the agent, in the CLI and in process.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { runCheck } from "@tunnel/core";
import { type Runtime, runtimes } from "@tunnel/ssh/runtime";
import { makeKey, type Sshd, type SshdOptions, startSshd, type UserKey } from "@tunnel/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runCli } from "./harness/cli.ts";
import { type Agent, startAgent } from "./harness/ssh-agent.ts";

const execFileP = promisify(execFile);

interface CheckJson {
  authMethod: string;
  userKey: { type: string; fingerprint: string; agent?: true } | null;
}

let tmp: string;
/** An empty home: no ~/.ssh/id_* files, so only the agent has keys. */
let home: string;
let ed: UserKey;
let ecdsa: UserKey;
let rsa: UserKey;
const agents: Agent[] = [];

beforeAll(async () => {
  tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tunnel-agent-test-"));
  home = path.join(tmp, "home");
  await fs.promises.mkdir(home);
  const dir = path.join(tmp, "keys");
  [ed, ecdsa, rsa] = await Promise.all([
    makeKey(dir, "ed", { type: "ed25519" }),
    makeKey(dir, "ecdsa", { type: "ecdsa", bits: 256 }),
    makeKey(dir, "rsa", { type: "rsa", bits: 3072 }),
  ]);
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
});

/** A fresh agent holding `files`, in that order. */
async function agentWith(...files: string[]): Promise<Agent> {
  const agent = await startAgent(path.join(tmp, `agent-${agents.length}`));
  agents.push(agent);
  if (files.length > 0) await agent.add(...files);
  return agent;
}

function useSshd(options: () => SshdOptions): () => Sshd {
  let sshd: Sshd | undefined;
  beforeAll(async () => {
    sshd = await startSshd(options());
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  return () => {
    if (!sshd) throw new Error("sshd did not start");
    return sshd;
  };
}

/** `tunnel check` with only `agent` (and no key files unless `args` name one). */
function check(sshd: Sshd, agentSocket: string | undefined, args: string[] = []): Promise<CliResult> {
  return runCli(
    ["check", `${sshd.user}@${sshd.host}:${sshd.port}`, "--known-hosts", sshd.knownHostsFile, "--json", ...args],
    { env: { HOME: home, SSH_AUTH_SOCK: agentSocket, TUNNEL_PASSWORD: undefined } },
  );
}

function report(res: CliResult): CheckJson {
  expect(res.code, `exit code; stderr:\n${res.stderr}`).toBe(0);
  return JSON.parse(res.stdout) as CheckJson;
}

function failure(res: CliResult): string {
  expect(res.code, `exit code; stdout:\n${res.stdout}`).toBe(1);
  expect(res.stderr).toMatch(/^tunnel: authentication failed/);
  expect(res.stderr, "stack trace on stderr").not.toMatch(/^ {4}at /m);
  return res.stderr;
}

/** The fingerprints on the failure message's key lines, in order. */
const offeredFingerprints = (stderr: string) =>
  [...stderr.matchAll(/^ {2}(?:refused|no answer|signature refused|not signed): .* (SHA256:\S+)/gm)].map((m) => m[1]);

describe("keys held only by ssh-agent", () => {
  const sshd = useSshd(() => ({ authorizedKeys: [ed.pubLine, ecdsa.pubLine, rsa.pubLine] }));

  for (const [name, key] of [
    ["ed25519", () => ed],
    ["ECDSA nistp256", () => ecdsa],
    ["RSA 3072 (rsa-sha2-512 through the agent's flags)", () => rsa],
  ] as const) {
    it(`tunnel check authenticates with an ${name} key only the agent holds, no identity file`, async () => {
      const agent = await agentWith(key().path);
      const mark = sshd().logs().length;
      const r = report(await check(sshd(), agent.socket));
      expect(r.authMethod).toBe("publickey");
      expect(r.userKey).toEqual({ type: key().type, fingerprint: key().fingerprint, agent: true });
      await sshd().settle();
      expect(sshd().logs().slice(mark)).toContain(`Accepted publickey for ${sshd().user}`);
      expect(sshd().logs().slice(mark)).toContain(key().fingerprint);
    });
  }

  describe("a key file the agent holds", () => {
    let locked: UserKey;
    let agent: Agent;
    beforeAll(async () => {
      locked = await makeKey(path.join(tmp, "keys"), "locked", { type: "ed25519" });
      // encrypt it, then hand it to the agent through SSH_ASKPASS as ssh-add asks
      await execFileP("ssh-keygen", ["-q", "-p", "-P", "", "-N", "agent test passphrase", "-f", locked.path]);
      const askpass = path.join(tmp, "askpass.sh");
      await fs.promises.writeFile(askpass, "#!/bin/sh\necho 'agent test passphrase'\n", { mode: 0o700 });
      agent = await startAgent(path.join(tmp, "agent-locked"));
      agents.push(agent);
      await execFileP("ssh-add", [locked.path], {
        env: { ...process.env, SSH_AUTH_SOCK: agent.socket, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force" },
      });
      await sshd().addAuthorizedKey(locked.pubLine);
    });
    const viaAgentOnly = (identityFiles: string[]) =>
      runCheck({
        destination: `${sshd().user}@${sshd().host}:${sshd().port}`,
        knownHosts: sshd().knownHostsFile,
        identityFiles,
        identitiesOnly: true,
        agent: agent.socket,
      });

    it("--identity: the agent signs; the encrypted file is never decrypted (no passphrase asked)", async () => {
      const res = await check(sshd(), agent.socket, ["--identity", locked.path]);
      const r = report(res);
      expect(r.userKey).toEqual({ type: "ssh-ed25519", fingerprint: locked.fingerprint, agent: true });
      expect(res.stderr).not.toMatch(/passphrase/i);
    });

    it("IdentitiesOnly: the agent's key is offered because it matches the file (by its .pub)", async () => {
      const r = await viaAgentOnly([locked.path]);
      expect(r.userKey).toEqual({ type: "ssh-ed25519", fingerprint: locked.fingerprint, agent: true });
    });

    it("IdentitiesOnly: an agent key matching no configured file is not offered", async () => {
      // the agent holds only `locked`, which sshd accepts; the configured file is ed's
      const r = await viaAgentOnly([ed.path]);
      expect(r.userKey).toEqual({ type: ed.type, fingerprint: ed.fingerprint });
    });

    it("IdentitiesOnly: without a .pub the file is matched by its openssh-key-v1 header, still unasked", async () => {
      const bare = path.join(tmp, "keys", "locked-bare");
      await fs.promises.copyFile(locked.path, bare);
      await fs.promises.chmod(bare, 0o600);
      const r = await viaAgentOnly([bare]);
      expect(r.userKey).toEqual({ type: "ssh-ed25519", fingerprint: locked.fingerprint, agent: true });
    });
  });

  it("an agent that cannot be reached is skipped: a key file still gets in", async () => {
    const r = report(await check(sshd(), path.join(tmp, "no-such-agent.sock"), ["--identity", ed.path]));
    expect(r.userKey).toEqual({ type: ed.type, fingerprint: ed.fingerprint });
  });

  it("an agent that cannot be reached is named in the failure", async () => {
    const socket = path.join(tmp, "no-such-agent.sock");
    const stderr = failure(await check(sshd(), socket));
    expect(stderr).toContain(`agent not used: cannot connect to ${socket}: no such socket`);
  });

  describe("in process, through each socket adapter of this runtime", () => {
    for (const [name, sockets] of Object.entries(runtimes) as [string, Runtime][]) {
      it(`runCheck reaches the agent through the ${name} adapter's Unix socket (IdentityAgent PATH)`, async () => {
        const agent = await agentWith(ecdsa.path);
        const report = await runCheck({
          destination: `${sshd().user}@${sshd().host}:${sshd().port}`,
          knownHosts: sshd().knownHostsFile,
          identityFiles: [],
          agent: agent.socket,
          sockets,
        });
        expect(report.userKey).toEqual({ type: ecdsa.type, fingerprint: ecdsa.fingerprint, agent: true });
      });
    }

    it("IdentityAgent none: an agent that would get in is not asked, and the failure says so", async () => {
      const agent = await agentWith(ed.path);
      const saved = process.env.SSH_AUTH_SOCK;
      process.env.SSH_AUTH_SOCK = agent.socket;
      try {
        const err = await runCheck({
          destination: `${sshd().user}@${sshd().host}:${sshd().port}`,
          knownHosts: sshd().knownHostsFile,
          identityFiles: [],
          agent: "none",
        }).catch((e: Error) => e);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toMatch(/we tried nothing/);
        expect((err as Error).message).toContain("agent not used: IdentityAgent is none");
        // the same agent, found through SSH_AUTH_SOCK, gets in
        const report = await runCheck({
          destination: `${sshd().user}@${sshd().host}:${sshd().port}`,
          knownHosts: sshd().knownHostsFile,
          identityFiles: [],
        });
        expect(report.userKey).toEqual({ type: ed.type, fingerprint: ed.fingerprint, agent: true });
      } finally {
        if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
        else process.env.SSH_AUTH_SOCK = saved;
      }
    });
  });
});

describe("order of attempts and failures", () => {
  // Accepts none of our keys; takes passwords (so the failure says how to offer one).
  const sshd = useSshd(() => ({ passwordAuthentication: true }));

  it("keys are offered in the order ssh -v offers them: the --identity key the agent holds first", async () => {
    const agent = await agentWith(ed.path, ecdsa.path, rsa.path);
    const stderr = failure(await check(sshd(), agent.socket, ["--identity", rsa.path]));
    const { stderr: sshLog } = await execFileP(
      "ssh",
      [
        "-v",
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        `UserKnownHostsFile=${sshd().knownHostsFile}`,
        "-o",
        "PasswordAuthentication=no",
        "-i",
        rsa.path,
        "-p",
        String(sshd().port),
        `${sshd().user}@${sshd().host}`,
        "true",
      ],
      { env: { ...process.env, SSH_AUTH_SOCK: agent.socket } },
    ).catch((e: { stderr: string }) => e);
    const sshOrder = [...sshLog.matchAll(/Offering public key: .* (SHA256:\S+)/g)].map((m) => m[1]);
    expect(sshOrder).toEqual([rsa.fingerprint, ed.fingerprint, ecdsa.fingerprint]);
    expect(offeredFingerprints(stderr)).toEqual(sshOrder);
  });

  it("the failure names the methods allowed, each key offered (file or comment, type, fingerprint) and how to offer a password", async () => {
    const agent = await agentWith(ed.path, ecdsa.path);
    const stderr = failure(await check(sshd(), agent.socket, ["--identity", ecdsa.path]));
    expect(stderr).toContain(`authentication failed for user "${sshd().user}": the server allows publickey, password;`);
    expect(stderr).toContain(`  refused: ${ecdsa.path} ecdsa-sha2-nistp256 ${ecdsa.fingerprint} (agent)\n`);
    expect(stderr).toContain(`  refused: user-ed ssh-ed25519 ${ed.fingerprint} (agent)\n`);
    expect(stderr).toContain("the server accepts passwords: set TUNNEL_PASSWORD, or run on a terminal");
  });

  it("sshd hanging up after MaxAuthTries (6) names the keys offered and points to IdentitiesOnly", async () => {
    const extra = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => makeKey(path.join(tmp, "keys"), `extra-${i}`, { type: "ed25519" })),
    );
    const agent = await agentWith(ed.path, ecdsa.path, ...extra.map((k) => k.path));
    const stderr = failure(await check(sshd(), agent.socket));
    expect(stderr).toMatch(/server disconnected: Too many authentication failures .* after 6 keys were offered/);
    expect(offeredFingerprints(stderr)).toEqual([ed, ecdsa, ...extra].slice(0, 6).map((k) => k.fingerprint));
    expect(stderr).toContain("MaxAuthTries, 6 by default");
    expect(stderr).toContain("IdentitiesOnly");
  });
});

describe("certificates the agent holds (OpenSSH PROTOCOL.certkeys)", () => {
  let ca: UserKey;
  let certEd: UserKey;
  let certRsa: UserKey;
  beforeAll(async () => {
    const dir = path.join(tmp, "certs");
    [ca, certEd, certRsa] = await Promise.all([
      makeKey(dir, "ca", { type: "ed25519" }),
      makeKey(dir, "cert-ed", { type: "ed25519" }),
      makeKey(dir, "cert-rsa", { type: "rsa", bits: 3072 }),
    ]);
  });
  // Trusts the CA only: no authorized_keys line for either key.
  const sshd = useSshd(() => ({ config: [`TrustedUserCAKeys ${ca.pubPath}`] }));

  /** Signs `key`'s certificate (`<key>-cert.pub`) for the test user, valid now. */
  async function certify(key: UserKey): Promise<void> {
    await execFileP("ssh-keygen", ["-q", "-s", ca.path, "-I", `${key.name}-id`, "-n", sshd().user, key.pubPath]);
  }

  for (const [name, key, certType] of [
    ["ed25519", () => certEd, "ssh-ed25519-cert-v01@openssh.com"],
    ["RSA (rsa-sha2-512-cert-v01@openssh.com)", () => certRsa, "ssh-rsa-cert-v01@openssh.com"],
  ] as const) {
    it(`an ${name} certificate from the agent gets in where only its CA is trusted`, async () => {
      await certify(key());
      // ssh-add adds the key and, beside it, its -cert.pub
      const agent = await agentWith(key().path);
      expect((await agent.list()).some((l) => l.includes("-CERT"))).toBe(true);
      const mark = sshd().logs().length;
      const r = report(await check(sshd(), agent.socket));
      expect(r.userKey).toEqual({ type: certType, fingerprint: key().fingerprint, agent: true });
      await sshd().settle();
      expect(sshd().logs().slice(mark)).toMatch(new RegExp(`Accepted publickey .*-CERT .*ID ${key().name}-id`));
    });
  }
});
