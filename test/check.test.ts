/**
 * Interop matrix for `tunnel check` against a real OpenSSH sshd: every KEX, host key
 * algorithm, cipher/MAC pair and user key file we claim, the human-readable report, and the
 * one-line failures (changed or unknown host key, refused user key, bad algorithm lists, no
 * common KEX). After every run, sshd's log for it must show no framing or MAC errors.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  makeKey,
  makeUserKeys,
  type Sshd,
  type SshdOptions,
  startSshd,
  type UserKey,
  type UserKeyName,
} from "@tunnel/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runCli } from "./harness/cli.ts";
import { startTunnel } from "./harness/tunnel-open.ts";

interface Directions {
  clientToServer: string;
  serverToClient: string;
}

interface CheckJson {
  host: string;
  port: number;
  user: string;
  serverVersion: string;
  kex: string;
  postQuantum: boolean;
  hostKeyAlgorithm: string;
  hostKeyFingerprint: string;
  cipher: Directions;
  mac: Directions;
  implementation: Directions;
  strictKex: boolean;
  authMethod: "publickey" | "password" | "none";
  userKey: { type: string; fingerprint: string } | null;
}

const KEXES = [
  "curve25519-sha256",
  "curve25519-sha256@libssh.org",
  "ecdh-sha2-nistp256",
  "ecdh-sha2-nistp384",
  "ecdh-sha2-nistp521",
  "diffie-hellman-group14-sha256",
  "diffie-hellman-group16-sha512",
];
const HOST_KEY_ALGORITHMS = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"];
const AEAD_CIPHERS = ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com"];
const CTR_CIPHERS = ["aes128-ctr", "aes192-ctr", "aes256-ctr"];
const MACS = ["hmac-sha2-256", "hmac-sha2-512", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"];
const USER_KEYS: [UserKeyName, string][] = [
  ["ed25519", "ed25519"],
  ["ecdsa256", "ecdsa nistp256"],
  ["ecdsa384", "ecdsa nistp384"],
  ["ecdsa521", "ecdsa nistp521"],
  ["rsa", "rsa 3072"],
  ["rsaPem", "rsa 3072 PEM (PKCS#1)"],
  ["ecdsaPkcs8", "ecdsa nistp256 PKCS#8"],
];

/** sshd log lines that mean our packets were framed or authenticated wrong, or the connection was torn down. */
const BAD_SSHD_LOG = /Bad packet length|Corrupted MAC|Connection reset/;

let tmp: string;
let keys: Record<UserKeyName, UserKey>;
/** A key sshd was never told about. */
let stranger: UserKey;

beforeAll(async () => {
  tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tunnel-check-test-"));
  keys = await makeUserKeys(path.join(tmp, "keys"));
  stranger = await makeKey(path.join(tmp, "keys"), "stranger", { type: "ed25519" });
});

afterAll(async () => {
  if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
});

/** One sshd for the enclosing describe, every user key (except the stranger) authorized. */
function useSshd(options: SshdOptions = {}): () => Sshd {
  let sshd: Sshd | undefined;
  beforeAll(async () => {
    sshd = await startSshd({ ...options, authorizedKeys: Object.values(keys).map((k) => k.pubLine) });
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  return () => {
    if (!sshd) throw new Error("sshd did not start");
    return sshd;
  };
}

interface CheckRun {
  identity?: UserKey;
  knownHosts?: string;
  json?: boolean;
}

/** Runs `tunnel check` against `sshd`, then asserts sshd logged no framing/MAC/reset errors for it. */
async function check(sshd: Sshd, args: string[], run: CheckRun = {}): Promise<CliResult> {
  const mark = sshd.logs().length;
  const res = await runCli([
    "check",
    `${sshd.user}@${sshd.host}:${sshd.port}`,
    "--identity",
    (run.identity ?? keys.ed25519).path,
    "--known-hosts",
    run.knownHosts ?? sshd.knownHostsFile,
    ...(run.json === false ? [] : ["--json"]),
    ...args,
  ]);
  await sshd.settle();
  const log = sshd.logs().slice(mark);
  expect(log, `sshd's log for tunnel check ${args.join(" ")}`).not.toMatch(BAD_SSHD_LOG);
  return res;
}

/** Exit 0 and exactly one JSON object on stdout, with the destination and server version right. */
function report(sshd: Sshd, res: CliResult): CheckJson {
  expect(res.code, `exit code; stderr:\n${res.stderr}`).toBe(0);
  let json: unknown;
  try {
    json = JSON.parse(res.stdout);
  } catch (err) {
    throw new Error(`stdout is not one JSON object (${(err as Error).message}):\n${res.stdout}`);
  }
  expect(json).toBeTypeOf("object");
  expect(Array.isArray(json)).toBe(false);
  const r = json as CheckJson;
  expect(r).toMatchObject({ host: sshd.host, port: sshd.port, user: sshd.user, serverVersion: sshd.banner });
  expect(r.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  expect(r.strictKex).toBeTypeOf("boolean");
  return r;
}

/** Non-zero exit; stderr starts with one `tunnel: ` / `error: ` line; no stack trace. Returns stderr. */
function failure(res: CliResult): string {
  expect(res.code, `exit code; stdout:\n${res.stdout}\nstderr:\n${res.stderr}`).not.toBe(0);
  expect(res.code).not.toBeNull();
  const first = res.stderr.split("\n")[0] ?? "";
  expect(first, `first line of stderr:\n${res.stderr}`).toMatch(/^(tunnel|error): \S/);
  expect(res.stderr, "stack trace on stderr").not.toMatch(/^ {4}at /m);
  return res.stderr;
}

describe("tunnel check against OpenSSH sshd", () => {
  describe("key exchange", () => {
    const sshd = useSshd();
    for (const kex of KEXES) {
      it(`negotiates ${kex} with strict kex`, async () => {
        const r = report(sshd(), await check(sshd(), ["--kex-algorithms", kex]));
        expect(r.kex).toBe(kex);
        expect(r.strictKex).toBe(true);
      });
    }
  });

  describe("group exchange (RFC 4419) against sshd's moduli", () => {
    const sshd = useSshd();
    // The group size follows the cipher (OpenSSH's dh_estimate): 3072 bits for a 128-bit key,
    // 8192 for chacha20-poly1305's 512-bit key; sshd picks from /etc/ssh/moduli.
    for (const cipher of ["aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"]) {
      it(`GexOurClientAgainstSshd: negotiates diffie-hellman-group-exchange-sha256 with ${cipher}`, async () => {
        const r = report(
          sshd(),
          await check(sshd(), ["--kex-algorithms", "diffie-hellman-group-exchange-sha256", "--ciphers", cipher]),
        );
        expect(r.kex).toBe("diffie-hellman-group-exchange-sha256");
        expect(r.postQuantum).toBe(false);
        expect(r.strictKex).toBe(true);
      });
    }
  });

  describe("post-quantum warning (a server without post-quantum key exchange)", () => {
    const sshd = useSshd({ config: ["KexAlgorithms curve25519-sha256,diffie-hellman-group14-sha256"] });
    const PQ_WARNING = /^WARNING: the key exchange \(curve25519-sha256\) is not post-quantum: .+$/;
    const warnings = (stderr: string) => stderr.split("\n").filter((l) => l.includes("post-quantum"));

    it("PostQuantumReportedAndWarned: --json says postQuantum false and stderr has one warning line", async () => {
      const res = await check(sshd(), []);
      const r = report(sshd(), res);
      expect(r.kex).toBe("curve25519-sha256");
      expect(r.postQuantum).toBe(false);
      const lines = warnings(res.stderr);
      expect(lines.length, res.stderr).toBe(1);
      expect(lines[0]).toMatch(PQ_WARNING);
    });

    it("PostQuantumInHumanOutput: `post-quantum: no` and the same warning", async () => {
      const res = await check(sshd(), [], { json: false });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^post-quantum: no \(/m);
      expect(warnings(res.stderr).length).toBe(1);
    });

    it("PostQuantumWarningSilencedByKexAlgorithms: the user chose the key exchange", async () => {
      const res = await check(sshd(), ["--kex-algorithms", "curve25519-sha256"]);
      expect(report(sshd(), res).postQuantum).toBe(false);
      expect(warnings(res.stderr)).toEqual([]);
    });

    it("PostQuantumWarningSilencedByConfig: KexAlgorithms in ssh_config counts as the user's choice", async () => {
      const config = path.join(tmp, "pq_config");
      fs.writeFileSync(config, "Host *\n  KexAlgorithms curve25519-sha256,diffie-hellman-group14-sha256\n");
      const res = await check(sshd(), ["-F", config]);
      expect(report(sshd(), res).kex).toBe("curve25519-sha256");
      expect(warnings(res.stderr)).toEqual([]);
    });

    it("PostQuantumWarnedByOpen: `tunnel open` prints the same one line, once", async () => {
      const t = await startTunnel([
        "127.0.0.1:9",
        "--via",
        `${sshd().user}@127.0.0.1:${sshd().port}`,
        "--identity",
        keys.ed25519.path,
        "--known-hosts",
        sshd().knownHostsFile,
        "-F",
        "none",
      ]);
      try {
        // The warning comes with the first connection, which `open` makes before it is ready.
        const deadline = Date.now() + 10_000;
        while (warnings(t.stderr()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const lines = warnings(t.stderr());
        expect(lines.length, t.stderr()).toBe(1);
        expect(lines[0]).toMatch(PQ_WARNING);
      } finally {
        await t.stop();
      }
    });
  });

  describe("host key algorithms (ed25519, ecdsa nistp256 and rsa host keys)", () => {
    const sshd = useSshd();
    for (const alg of HOST_KEY_ALGORITHMS) {
      it(`verifies a ${alg} host key and reports ssh-keygen's fingerprint`, async () => {
        const r = report(sshd(), await check(sshd(), ["--host-key-algorithms", alg]));
        expect(r.hostKeyAlgorithm).toBe(alg);
        expect(r.hostKeyFingerprint).toBe(sshd().hostKey(alg).fingerprint);
      });
    }
  });

  describe("host key algorithms (ecdsa nistp384 and nistp521 host keys)", () => {
    const sshd = useSshd({ hostKeys: ["ecdsa-384", "ecdsa-521"] });
    for (const alg of ["ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"]) {
      it(`verifies a ${alg} host key and reports ssh-keygen's fingerprint`, async () => {
        const r = report(sshd(), await check(sshd(), ["--host-key-algorithms", alg]));
        expect(r.hostKeyAlgorithm).toBe(alg);
        expect(r.hostKeyFingerprint).toBe(sshd().hostKey(alg).fingerprint);
      });
    }
  });

  describe("ciphers and MACs", () => {
    const sshd = useSshd();
    for (const cipher of AEAD_CIPHERS) {
      it(`uses ${cipher} both ways with the implicit MAC`, async () => {
        const r = report(sshd(), await check(sshd(), ["--ciphers", cipher]));
        expect(r.cipher).toEqual({ clientToServer: cipher, serverToClient: cipher });
        expect(r.mac).toEqual({ clientToServer: "implicit", serverToClient: "implicit" });
      });
    }
    // Which implementation carries each direction, on the runtime running this suite: the
    // runtime's node:crypto where it has the primitive, our WebAssembly loops for Poly1305 (and
    // for ChaCha20 on Bun, whose node:crypto has none), noble alone with --crypto noble.
    const chacha = "Bun" in globalThis ? "tunnel-wasm+tunnel-wasm" : "node:crypto+tunnel-wasm";
    for (const [cipher, crypto, impl] of [
      ["aes128-gcm@openssh.com", "auto", "node:crypto"],
      ["chacha20-poly1305@openssh.com", "auto", chacha],
      ["chacha20-poly1305@openssh.com", "noble", "noble+noble"],
      ["aes128-gcm@openssh.com", "noble", "noble"],
    ] as const) {
      it(`reports ${impl} carrying ${cipher} each way with --crypto ${crypto}`, async () => {
        const r = report(sshd(), await check(sshd(), ["--ciphers", cipher, "--crypto", crypto]));
        expect(r.implementation).toEqual({ clientToServer: impl, serverToClient: impl });
      });
    }
    for (const cipher of CTR_CIPHERS) {
      for (const mac of MACS) {
        it(`uses ${cipher} with ${mac} both ways`, async () => {
          const r = report(sshd(), await check(sshd(), ["--ciphers", cipher, "--macs", mac]));
          expect(r.cipher).toEqual({ clientToServer: cipher, serverToClient: cipher });
          expect(r.mac).toEqual({ clientToServer: mac, serverToClient: mac });
        });
      }
    }
  });

  describe("user keys", () => {
    const sshd = useSshd();
    for (const [name, label] of USER_KEYS) {
      it(`authenticates with a ${label} user key and reports ssh-keygen's fingerprint`, async () => {
        const key = keys[name];
        const r = report(sshd(), await check(sshd(), [], { identity: key }));
        expect(r.authMethod).toBe("publickey");
        expect(r.userKey).toEqual({ type: key.type, fingerprint: key.fingerprint });
      });
    }
  });

  describe("report and failures", () => {
    const sshd = useSshd();

    it("prints server version, kex, host key fingerprint and `strict-kex: yes` without --json", async () => {
      const res = await check(
        sshd(),
        ["--kex-algorithms", "curve25519-sha256", "--host-key-algorithms", "ssh-ed25519"],
        { json: false },
      );
      expect(res.code, `exit code; stderr:\n${res.stderr}`).toBe(0);
      expect(res.stdout).toContain(sshd().banner);
      expect(res.stdout).toContain("curve25519-sha256");
      expect(res.stdout).toContain(sshd().hostKey("ssh-ed25519").fingerprint);
      expect(res.stdout).toContain("strict-kex: yes");
    });

    it("refuses a changed host key, naming the presented and the known fingerprints", async () => {
      const impostor = await makeKey(path.join(tmp, "keys"), "impostor-host", { type: "ed25519" });
      const knownHosts = path.join(tmp, "known_hosts_changed");
      await fs.promises.writeFile(knownHosts, `${sshd().knownHostsLine(impostor.pubLine)}\n`);
      const stderr = failure(await check(sshd(), ["--host-key-algorithms", "ssh-ed25519"], { knownHosts }));
      expect(stderr).toContain(sshd().hostKey("ssh-ed25519").fingerprint);
      expect(stderr).toContain(impostor.fingerprint);
      expect(stderr).toMatch(/\bchanged\b/i);
    });

    it("refuses a host absent from known_hosts, saying so and showing the fingerprint", async () => {
      const other = await makeKey(path.join(tmp, "keys"), "other-host", { type: "ed25519" });
      const knownHosts = path.join(tmp, "known_hosts_other");
      await fs.promises.writeFile(knownHosts, `other.example.com ${other.pubLine}\n`);
      const stderr = failure(await check(sshd(), ["--host-key-algorithms", "ssh-ed25519"], { knownHosts }));
      expect(stderr).toMatch(/not known/i);
      expect(stderr).toContain(sshd().hostKey("ssh-ed25519").fingerprint);
    });

    it("pins per host: known_hosts holding only the server's ECDSA key makes it offer ecdsa first, and connects", async () => {
      const knownHosts = path.join(tmp, "known_hosts_ecdsa_only");
      const ecdsa = sshd().hostKey("ecdsa-sha2-nistp256");
      await fs.promises.writeFile(knownHosts, `${sshd().knownHostsLine(ecdsa.pubLine)}\n`);
      const r = report(sshd(), await check(sshd(), [], { knownHosts }));
      expect(r.hostKeyAlgorithm).toBe("ecdsa-sha2-nistp256");
      expect(r.hostKeyFingerprint).toBe(ecdsa.fingerprint);
      expect(await fs.promises.readFile(knownHosts, "utf8")).toBe(`${sshd().knownHostsLine(ecdsa.pubLine)}\n`);
    });

    it("fails on a user key the server does not accept, naming the methods it allows (publickey)", async () => {
      const stderr = failure(await check(sshd(), [], { identity: stranger }));
      expect(stderr).toContain("publickey");
    });

    it("accepts OpenSSH's minus syntax: --ciphers -chacha20-poly1305@openssh.com negotiates something else", async () => {
      const r = report(sshd(), await check(sshd(), ["--ciphers", "-chacha20-poly1305@openssh.com"]));
      expect(r.cipher.clientToServer).not.toBe("chacha20-poly1305@openssh.com");
      expect(r.cipher.serverToClient).not.toBe("chacha20-poly1305@openssh.com");
    });

    it("rejects an unknown name in --ciphers, naming it", async () => {
      const stderr = failure(await check(sshd(), ["--ciphers", "aes128-ctr,no-such-cipher@example.com"]));
      expect(stderr).toContain("no-such-cipher@example.com");
    });
  });

  describe("server restricted to KexAlgorithms sntrup761x25519-sha512@openssh.com", () => {
    // Debian 12's OpenSSH 9.2 knows sntrup761 by its @openssh.com name only (the plain name
    // came in 9.9); the transcripts of kex-transcripts.test.ts cover the plain name.
    const sshd = useSshd({ config: ["KexAlgorithms sntrup761x25519-sha512@openssh.com"] });

    it("negotiates it when asked for it, with strict kex", async () => {
      const r = report(sshd(), await check(sshd(), ["--kex-algorithms", "sntrup761x25519-sha512@openssh.com"]));
      expect(r.kex).toBe("sntrup761x25519-sha512@openssh.com");
      expect(r.strictKex).toBe(true);
    });

    it("negotiates it from our default list", async () => {
      const r = report(sshd(), await check(sshd(), []));
      expect(r.kex).toBe("sntrup761x25519-sha512@openssh.com");
    });
  });

  describe("server restricted to KexAlgorithms curve25519-sha256", () => {
    const sshd = useSshd({ config: ["KexAlgorithms curve25519-sha256"] });

    it("still connects with curve25519-sha256", async () => {
      const r = report(sshd(), await check(sshd(), ["--kex-algorithms", "curve25519-sha256"]));
      expect(r.kex).toBe("curve25519-sha256");
    });

    it("fails with no common KEX algorithm, listing both sides' offers", async () => {
      const stderr = failure(await check(sshd(), ["--kex-algorithms", "ecdh-sha2-nistp256"]));
      expect(stderr).toMatch(/no common (kex|key exchange)/i);
      expect(stderr).toContain("ecdh-sha2-nistp256");
      expect(stderr).toContain("curve25519-sha256");
    });
  });
});
