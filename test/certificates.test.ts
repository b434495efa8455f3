/**
 * OpenSSH certificates against the real OpenSSH programs (issue 15, item 4), all made by
 * `ssh-keygen -s` (OpenSSH PROTOCOL.certkeys):
 *
 * - our client's user certificates (ed25519, ECDSA, RSA with rsa-sha2-512) into an sshd that
 *   trusts only their CA (TrustedUserCAKeys), from `<key>-cert.pub` and from CertificateFile;
 *   expired, not-yet-valid, wrong-principal and wrong-CA certificates refused, the failure
 *   saying why where the client can know;
 * - sshd's host certificates (HostCertificate) accepted through a known_hosts
 *   `@cert-authority` line alone, under the host name or its HostKeyAlias; expired,
 *   not-yet-valid, wrong-principal, wrong-CA and @revoked ones refused on one line;
 * - OpenSSH's ssh into `tunnel serve --trusted-user-ca-keys` (the same refusals, each logged
 *   on one line; critical options we do not honour refuse the certificate; source-address
 *   honoured) and `--host-certificate`.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { localUserName, runCheck } from "@tunnel/core";
import { freePort, makeKey, type Sshd, startSshd, type UserKey } from "@tunnel/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServeCli } from "./harness/serve-cli.ts";

const execFileP = promisify(execFile);

let tmp: string;
let ca: UserKey;
let otherCa: UserKey;
const children: ChildProcess[] = [];

beforeAll(async () => {
  tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tunnel-certs-test-"));
  [ca, otherCa] = await Promise.all([
    makeKey(path.join(tmp, "ca"), "ca", { type: "ed25519" }),
    makeKey(path.join(tmp, "ca"), "other-ca", { type: "ed25519" }),
  ]);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
});

/** `ssh-keygen -s`: signs `pubPath`, writing `<key>-cert.pub`; returns its path. */
async function certify(pubPath: string, args: string[], signer: UserKey = ca): Promise<string> {
  await execFileP("ssh-keygen", ["-q", "-s", signer.path, ...args, pubPath]);
  return pubPath.replace(/\.pub$/, "-cert.pub");
}

/** The first line of a failure, and the whole message. */
async function failure(p: Promise<unknown>): Promise<{ first: string; all: string }> {
  const err = await p.then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err, "the connection should have been refused").toBeInstanceOf(Error);
  const all = (err as Error).message;
  return { first: all.split("\n")[0] as string, all };
}

describe("our client's user certificates into sshd (TrustedUserCAKeys)", () => {
  let sshd: Sshd;
  let keys: Record<string, UserKey>;
  beforeAll(async () => {
    sshd = await startSshd({ config: [`TrustedUserCAKeys ${ca.pubPath}`], hostKeys: ["ed25519"] });
    const dir = path.join(tmp, "user");
    const specs = {
      ed25519: { type: "ed25519" },
      ecdsa256: { type: "ecdsa", bits: 256 },
      ecdsa521: { type: "ecdsa", bits: 521 },
      rsa: { type: "rsa", bits: 3072 },
      elsewhere: { type: "ed25519" },
      expired: { type: "ed25519" },
      future: { type: "ed25519" },
      principal: { type: "ed25519" },
      wrongCa: { type: "ed25519" },
    } as const;
    const made = await Promise.all(Object.entries(specs).map(([n, s]) => makeKey(dir, n, s)));
    keys = Object.fromEntries(made.map((k) => [k.name, k]));
    const user = sshd.user;
    await Promise.all([
      ...["ed25519", "ecdsa256", "ecdsa521", "rsa"].map((n) =>
        certify((keys[n] as UserKey).pubPath, ["-I", `${n}-id`, "-n", `${user},other`, "-V", "-5m:+1h"]),
      ),
      certify(keys.expired!.pubPath, ["-I", "expired-id", "-n", user, "-V", "20200101:20200102"]),
      certify(keys.future!.pubPath, ["-I", "future-id", "-n", user, "-V", "+1d:+2d"]),
      certify(keys.principal!.pubPath, ["-I", "principal-id", "-n", "somebody-else"]),
      certify(keys.wrongCa!.pubPath, ["-I", "wrong-ca-id", "-n", user], otherCa),
    ]);
    // A certificate kept away from its key, named by CertificateFile.
    const cert = await certify(keys.elsewhere!.pubPath, ["-I", "elsewhere-id", "-n", user]);
    await fs.promises.mkdir(path.join(tmp, "certdir"));
    await fs.promises.rename(cert, path.join(tmp, "certdir", "my-cert.pub"));
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  const check = (key: UserKey, extra: Record<string, unknown> = {}) =>
    runCheck({
      destination: `${sshd.user}@${sshd.host}:${sshd.port}`,
      knownHosts: sshd.knownHostsFile,
      hostKeyCheck: "yes",
      identity: key.path,
      agent: "none",
      prompter: false,
      ...extra,
    });

  for (const [name, certType] of [
    ["ed25519", "ssh-ed25519-cert-v01@openssh.com"],
    ["ecdsa256", "ecdsa-sha2-nistp256-cert-v01@openssh.com"],
    ["ecdsa521", "ecdsa-sha2-nistp521-cert-v01@openssh.com"],
    ["rsa", "ssh-rsa-cert-v01@openssh.com"],
  ] as const) {
    it(`a ${name} certificate beside its key (<key>-cert.pub) gets in where only its CA is trusted`, async () => {
      const key = keys[name] as UserKey;
      const mark = sshd.logs().length;
      const r = await check(key);
      expect(r.authMethod).toBe("publickey");
      expect(r.userKey).toEqual({ type: certType, fingerprint: key.fingerprint });
      await sshd.settle();
      const log = sshd.logs().slice(mark);
      expect(log).toMatch(new RegExp(`Accepted publickey for ${sshd.user} .*-CERT .*ID ${name}-id`));
      // OpenSSH 8.8+ refuses SHA-1 certificates: an RSA one got in with rsa-sha2-*.
      if (name === "rsa") expect(log).not.toMatch(/ssh-rsa-cert-v01@openssh.com.*not in PubkeyAcceptedAlgorithms/);
    });
  }

  it("a certificate named by CertificateFile in ssh_config, its key by IdentityFile", async () => {
    const config = path.join(tmp, "ssh_config");
    await fs.promises.writeFile(
      config,
      [
        "Host certhost",
        `  HostName ${sshd.host}`,
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${keys.elsewhere!.path}`,
        `  CertificateFile ${path.join(tmp, "certdir", "my-cert.pub")}`,
        `  UserKnownHostsFile ${sshd.knownHostsFile}`,
        "  IdentityAgent none",
        "",
      ].join("\n"),
    );
    const mark = sshd.logs().length;
    const r = await runCheck({ destination: "certhost", sshConfig: config, prompter: false });
    expect(r.userKey).toEqual({ type: "ssh-ed25519-cert-v01@openssh.com", fingerprint: keys.elsewhere!.fingerprint });
    await sshd.settle();
    expect(sshd.logs().slice(mark)).toMatch(/Accepted publickey .*ED25519-CERT .*ID elsewhere-id/);
  });

  for (const [name, why] of [
    ["expired", /expired-cert\.pub \(id "expired-id"\): it expired at 2020-01-02T00:00:00Z/],
    ["future", /future-cert\.pub \(id "future-id"\): it is not valid before \d{4}-/],
    ["principal", /principal-cert\.pub \(id "principal-id"\): "[^"]+" is not among its principals \("somebody-else"\)/],
    ["wrongCa", undefined],
  ] as const) {
    it(`sshd refuses a ${name} certificate; the failure names it${why ? " and why" : ""}`, async () => {
      const key = keys[name] as UserKey;
      const { first, all } = await failure(check(key));
      expect(first).toMatch(/^authentication failed for user "[^"]+": the server allows publickey/);
      expect(all).toContain(`refused: ${key.path}-cert.pub ssh-ed25519-cert-v01@openssh.com ${key.fingerprint}`);
      if (why) expect(all).toMatch(why);
    });
  }
});

describe("sshd's host certificates (HostCertificate) and known_hosts @cert-authority", () => {
  let sshd: Sshd;
  let hostCa: UserKey;
  beforeAll(async () => {
    hostCa = await makeKey(path.join(tmp, "ca"), "host-ca", { type: "ed25519" });
    sshd = await startSshd({
      hostKeys: ["ed25519", "ecdsa-256", "ecdsa-384", "ecdsa-521", "rsa"],
      authorizedKeys: [ca.pubLine],
    });
    // One certificate per host key: the ed25519 one valid, each other one wrong in one way.
    const pub = (kind: string) => `${sshd.hostKeys.find((k) => k.kind === kind)!.path}.pub`;
    const certs = await Promise.all([
      certify(pub("ed25519"), ["-h", "-I", "good", "-n", "127.0.0.1,bastion.alias", "-V", "-5m:+1h"], hostCa),
      certify(pub("ecdsa-256"), ["-h", "-I", "expired", "-n", "127.0.0.1", "-V", "20200101:20200102"], hostCa),
      certify(pub("ecdsa-384"), ["-h", "-I", "future", "-n", "127.0.0.1", "-V", "+1d:+2d"], hostCa),
      certify(pub("ecdsa-521"), ["-h", "-I", "elsewhere", "-n", "elsewhere.example"], hostCa),
      certify(pub("rsa"), ["-h", "-I", "other-ca", "-n", "127.0.0.1"], otherCa),
    ]);
    await fs.promises.appendFile(sshd.configFile, certs.map((c) => `HostCertificate ${c}\n`).join(""));
    await sshd.restart();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  /** known_hosts holding only `lines`: no plain key of the server. */
  async function knownHosts(...lines: string[]): Promise<string> {
    const file = path.join(tmp, `kh-${Math.random().toString(36).slice(2)}`);
    await fs.promises.writeFile(file, lines.map((l) => `${l}\n`).join(""));
    return file;
  }
  const caLine = (pattern: string, key: UserKey = hostCa) => `@cert-authority ${pattern} ${key.pubLine}`;
  const check = (kh: string, extra: Record<string, unknown> = {}) =>
    runCheck({
      destination: `${sshd.user}@${sshd.host}:${sshd.port}`,
      knownHosts: kh,
      hostKeyCheck: "yes",
      identity: ca.path,
      agent: "none",
      prompter: false,
      ...extra,
    });

  it("a @cert-authority line alone lets us in, the certificate algorithm asked for first", async () => {
    const kh = await knownHosts(caLine(`[127.0.0.1]:${sshd.port}`));
    const r = await check(kh);
    expect(r.hostKeyAlgorithm).toBe("ssh-ed25519-cert-v01@openssh.com");
    expect(r.hostKeyFingerprint).toBe(sshd.hostKey("ssh-ed25519").fingerprint);
    // Patterns and negation as on other lines.
    expect((await check(await knownHosts(caLine("[127.0.0.*]:*")))).hostKeyAlgorithm).toMatch(/-cert-v01/);
    const negated = await failure(check(await knownHosts(caLine(`[127.0.0.*]:*,![127.0.0.1]:${sshd.port}`))));
    expect(negated.first).toMatch(/^host key for \[127\.0\.0\.1\]:\d+ is not known/);
  });

  it("the certificate is checked against HostKeyAlias when one is set", async () => {
    const config = path.join(tmp, "ssh_config_alias");
    const kh = await knownHosts(caLine("bastion.alias"));
    await fs.promises.writeFile(
      config,
      `Host b\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.user}\n  HostKeyAlias bastion.alias\n  UserKnownHostsFile ${kh}\n  IdentityFile ${ca.path}\n  IdentityAgent none\n`,
    );
    const r = await runCheck({ destination: "b", sshConfig: config, hostKeyCheck: "yes", prompter: false });
    expect(r.hostKeyAlgorithm).toBe("ssh-ed25519-cert-v01@openssh.com");
  });

  for (const [name, algorithm, message] of [
    ["expired", "ecdsa-sha2-nistp256-cert-v01@openssh.com", /refused: it expired at 2020-01-02T00:00:00Z$/],
    ["not yet valid", "ecdsa-sha2-nistp384-cert-v01@openssh.com", /refused: it is not valid before \d{4}-[^ ]+$/],
    [
      "for another host",
      "ecdsa-sha2-nistp521-cert-v01@openssh.com",
      /refused: "127\.0\.0\.1" is not among its principals \("elsewhere\.example"\)$/,
    ],
  ] as const) {
    it(`a host certificate ${name} is refused on one line`, async () => {
      const kh = await knownHosts(caLine("*"));
      const { first, all } = await failure(check(kh, { hostKeyAlgorithms: algorithm }));
      expect(all).toBe(first);
      expect(first).toMatch(
        /^host certificate for \[127\.0\.0\.1\]:\d+ \(key SHA256:\S+, id "[^"]+"\) signed by CA SHA256:/,
      );
      expect(first).toMatch(message);
    });
  }

  it("a host certificate from another CA is checked as its plain key: unknown, so refused", async () => {
    const kh = await knownHosts(caLine("*"));
    const { first, all } = await failure(check(kh, { hostKeyAlgorithms: "rsa-sha2-512-cert-v01@openssh.com" }));
    expect(all).toBe(first);
    expect(first).toContain(`is not known (ssh-rsa ${sshd.hostKey("ssh-rsa").fingerprint})`);
    // ... and accepted when that plain key is pinned, as ssh falls back to it.
    const pinned = await knownHosts(caLine("*"), sshd.knownHostsLine(sshd.hostKey("ssh-rsa").pubLine));
    expect((await check(pinned, { hostKeyAlgorithms: "rsa-sha2-512-cert-v01@openssh.com" })).hostKeyAlgorithm).toBe(
      "rsa-sha2-512-cert-v01@openssh.com",
    );
  });

  it("@revoked refuses a certificate whose CA or key is revoked, on one line", async () => {
    const caRevoked = await failure(check(await knownHosts(caLine("*"), `@revoked * ${hostCa.pubLine}`)));
    expect(caRevoked.all).toBe(caRevoked.first);
    expect(caRevoked.first).toMatch(
      /^host certificate for \[127\.0\.0\.1\]:\d+ \(SHA256:\S+\) refused: its certificate authority \(CA SHA256:\S+\) is marked @revoked in \S+:2$/,
    );
    const keyRevoked = await failure(
      check(await knownHosts(caLine("*"), `@revoked * ${sshd.hostKey("ssh-ed25519").pubLine}`)),
    );
    expect(keyRevoked.first).toMatch(/refused: its key is marked @revoked in \S+:2$/);
  });
});

describe("OpenSSH's ssh into tunnel serve --trusted-user-ca-keys / --host-certificate", () => {
  let echo: net.Server;
  let echoPort: number;
  let dir: string;
  afterAll(() => {
    echo?.close();
  });

  interface Serve {
    port: number;
    log: () => string;
    child: ChildProcess;
  }
  async function startServe(extra: string[], authorizedKeys = ""): Promise<Serve> {
    const port = await freePort();
    await fs.promises.writeFile(path.join(dir, "authorized_keys"), authorizedKeys);
    const p = await startServeCli(
      [
        "--listen",
        `127.0.0.1:${port}`,
        "--authorized-keys",
        path.join(dir, "authorized_keys"),
        "--allow",
        `127.0.0.1:${echoPort}`,
        ...extra,
      ],
      { XDG_STATE_HOME: path.join(dir, "state") },
    );
    children.push(p.child);
    return { port, log: p.stderr, child: p.child };
  }

  /** `ssh -W` to the echo server through serve: what came back, ssh's exit code and stderr. */
  function sshW(
    serve: Serve,
    key: UserKey,
    knownHosts: string,
    options: string[] = [],
  ): Promise<{ code: number | null; out: string; err: string }> {
    const child = spawn(
      "ssh",
      [
        "-v",
        "-o",
        "BatchMode=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-F",
        "none",
        "-i",
        key.path,
        ...options,
        "-p",
        String(serve.port),
        "-W",
        `127.0.0.1:${echoPort}`,
        `${localUserName()}@127.0.0.1`,
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    children.push(child);
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.stdin.end("certificate says hello\n");
    return new Promise((resolve) => child.once("close", (code) => resolve({ code, out, err })));
  }

  let serve: Serve;
  let hostKh: string;
  let userKeys: Record<string, UserKey>;
  beforeAll(async () => {
    dir = path.join(tmp, "serve");
    await fs.promises.mkdir(dir);
    echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
    echoPort = (echo.address() as net.AddressInfo).port;
    const hostKey = await makeKey(dir, "host_ed25519", { type: "ed25519" });
    const hostCert = await certify(hostKey.pubPath, ["-h", "-I", "serve-host", "-n", "127.0.0.1"]);
    const caFile = path.join(dir, "user_ca.pub");
    await fs.promises.writeFile(caFile, `# the user CA\n${ca.pubLine}\n`);
    // A certificate written into authorized_keys is skipped, as sshd never matches one there.
    const listed = await makeKey(dir, "listed", { type: "ed25519" });
    const listedCert = await certify(listed.pubPath, ["-I", "listed", "-n", localUserName()]);
    serve = await startServe(
      ["--host-key", hostKey.path, "--host-certificate", hostCert, "--trusted-user-ca-keys", caFile],
      await fs.promises.readFile(listedCert, "utf8"),
    );
    hostKh = path.join(dir, "known_hosts");
    await fs.promises.writeFile(hostKh, `@cert-authority [127.0.0.1]:${serve.port} ${ca.pubLine}\n`);
    const user = localUserName();
    const specs = {
      ed25519: { type: "ed25519" },
      ecdsa384: { type: "ecdsa", bits: 384 },
      rsa: { type: "rsa", bits: 3072 },
      expired: { type: "ed25519" },
      future: { type: "ed25519" },
      principal: { type: "ed25519" },
      wrongCa: { type: "ed25519" },
      forced: { type: "ed25519" },
      fromHere: { type: "ed25519" },
      fromElsewhere: { type: "ed25519" },
      noForwarding: { type: "ed25519" },
    } as const;
    const made = await Promise.all(Object.entries(specs).map(([n, s]) => makeKey(path.join(dir, "users"), n, s)));
    userKeys = Object.fromEntries(made.map((k) => [k.name, k]));
    const k = (n: string) => (userKeys[n] as UserKey).pubPath;
    await Promise.all([
      ...["ed25519", "ecdsa384", "rsa"].map((n) => certify(k(n), ["-I", `${n}-id`, "-n", user, "-V", "-5m:+1h"])),
      certify(k("expired"), ["-I", "expired-id", "-n", user, "-V", "20200101:20200102"]),
      certify(k("future"), ["-I", "future-id", "-n", user, "-V", "+1d:+2d"]),
      certify(k("principal"), ["-I", "principal-id", "-n", "somebody-else"]),
      certify(k("wrongCa"), ["-I", "wrong-ca-id", "-n", user], otherCa),
      certify(k("forced"), ["-I", "forced-id", "-n", user, "-O", "force-command=/bin/true"]),
      certify(k("fromHere"), ["-I", "here-id", "-n", user, "-O", "source-address=127.0.0.0/8,::1/128"]),
      certify(k("fromElsewhere"), ["-I", "elsewhere-id", "-n", user, "-O", "source-address=10.0.0.0/8"]),
      certify(k("noForwarding"), ["-I", "no-fwd-id", "-n", user, "-O", "clear", "-O", "permit-pty"]),
    ]);
  });

  for (const name of ["ed25519", "ecdsa384", "rsa"]) {
    it(`ssh logs in with a ${name} user certificate and sees the host certificate`, async () => {
      const r = await sshW(serve, userKeys[name] as UserKey, hostKh);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe("certificate says hello\n");
      expect(r.err).toMatch(/Server host certificate: ssh-ed25519-cert-v01@openssh\.com/);
      expect(r.err).toMatch(/Host '\[127\.0\.0\.1\]:\d+' is known and matches the ED25519-CERT host certificate/);
      expect(r.err).toContain(`Authenticated to 127.0.0.1`);
      expect(r.err).toMatch(/Server accepts key: \S+ [A-Z0-9-]+-CERT /);
    });
  }

  it("a certificate written into authorized_keys is skipped with a warning naming the line", () => {
    expect(serve.log()).toMatch(
      /authorized_keys:1: skipped: a certificate is not an authorized key; trust its CA with --trusted-user-ca-keys/,
    );
  });

  it("source-address is honoured: a certificate for 127.0.0.0/8 gets in", async () => {
    const r = await sshW(serve, userKeys.fromHere as UserKey, hostKh);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe("certificate says hello\n");
  });

  it("without permit-port-forwarding the login works but forwarding is refused", async () => {
    const r = await sshW(serve, userKeys.noForwarding as UserKey, hostKh);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("Authenticated to 127.0.0.1");
    expect(r.out).toBe("");
    expect(serve.log()).toMatch(
      /refused direct-tcpip to 127\.0\.0\.1:\d+: port forwarding is off for this key \(certificate "no-fwd-id"/,
    );
  });

  for (const [name, logged] of [
    [
      "expired",
      /certificate "expired-id" serial 0 \(key SHA256:\S+, CA SHA256:\S+\) refused for user "[^"]+": it expired at 2020-01-02T00:00:00Z$/m,
    ],
    ["future", /certificate "future-id" .* refused for user "[^"]+": it is not valid before \d{4}-\S+$/m],
    [
      "principal",
      /certificate "principal-id" .* refused for user "[^"]+": "[^"]+" is not among its principals \("somebody-else"\)$/m,
    ],
    ["wrongCa", /certificate "wrong-ca-id" .* refused: its CA is not among the trusted user CA keys$/m],
    ["forced", /certificate "forced-id" .* refused: critical option force-command is not supported by this server$/m],
    ["fromElsewhere", /certificate "elsewhere-id" .* refused: source-address does not admit 127\.0\.0\.1$/m],
  ] as const) {
    it(`a ${name} certificate is refused, serve logging why on one line`, async () => {
      const r = await sshW(serve, userKeys[name] as UserKey, hostKh);
      expect(r.code).toBe(255);
      expect(r.err).toContain("Permission denied (publickey)");
      expect(serve.log()).toMatch(logged);
    });
  }

  it("serve refuses a --host-certificate for a key it does not have, naming the file", async () => {
    const stray = await makeKey(dir, "stray", { type: "ed25519" });
    const cert = await certify(stray.pubPath, ["-h", "-I", "stray", "-n", "127.0.0.1"]);
    const hostKey = await makeKey(dir, "host2", { type: "ed25519" });
    await expect(startServe(["--host-key", hostKey.path, "--host-certificate", cert])).rejects.toThrow(
      new RegExp(`host certificate ${cert} certifies a ssh-ed25519 key that is not among the host keys`),
    );
  });
});
