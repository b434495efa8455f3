/**
 * Host-key pinning is per host, not per key type: `tunnel check` (runCheck, the same code path
 * the CLI runs) against an in-process server built from our own server transport
 * (serveConnection) over an in-memory pair, with known_hosts files written by hand.
 *
 * A machine in the middle can only show keys of its own: offering a type the file does not pin
 * for the host must not make the host look new (ssh(1)'s accept-new would add its key). An
 * honest server holding several keys must negotiate the pinned one, because the client offers
 * the pinned types first (as ssh(1) orders its host key algorithms).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  type Conn,
  encodeEd25519PrivateKey,
  formatKnownHostsLine,
  generateEcdsa,
  generateEd25519,
  nobleProvider,
  type PrivateKey,
  publicKeyEquals,
  type Runtime,
  SshError,
  type SshServerConnection,
  serveConnection,
  systemRandom,
} from "@tunnel/ssh";
import { afterAll, describe, expect, it } from "vitest";
import { memoryPair } from "../../ssh/src/runtime/memory.ts";
import { preferKnownHostKeyTypes, resolveAlgorithms } from "../src/algorithms.ts";
import { type CheckReport, runCheck } from "../src/check.ts";
import { loadIdentity } from "../src/identity.ts";
import type { HostKeyPolicy } from "../src/known-hosts-file.ts";
import type { OptionNames } from "../src/option-names.ts";

const p = nobleProvider;
const HOST = "bastion.test";
const PORT = 2222;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-pinning-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The real host's keys, and the key a machine in the middle holds. */
const realEd = generateEd25519(p);
const realEcdsa = generateEcdsa(p, "p256");
const mitmEcdsa = generateEcdsa(p, "p256");

/** A user key on disk, as `tunnel check --identity` reads it. */
const identityFile = path.join(dir, "id_ed25519");
{
  const seed = systemRandom(32);
  fs.writeFileSync(identityFile, encodeEd25519PrivateKey(p, systemRandom, seed, "pinning test"), { mode: 0o600 });
}
const user = loadIdentity(identityFile);

interface Served {
  sockets: Runtime;
  /** Every server connection made, in order. */
  servers: SshServerConnection[];
}

/** A runtime whose connect() lands on our own server holding `hostKeys`, in memory. */
function serverWith(hostKeys: PrivateKey[]): Served {
  const servers: SshServerConnection[] = [];
  const sockets: Runtime = {
    name: "memory",
    async connect(): Promise<Conn> {
      const [a, b] = memoryPair();
      // An in-memory end drops what arrives before its handlers are set; a socket would buffer
      // it. Hold both ends until each has its owner (the client's is set after connect resolves).
      a.pause();
      b.pause();
      servers.push(
        serveConnection(b, {
          hostKeys,
          auth: { publicKey: (_u, k) => (publicKeyEquals(k, user.publicKey) ? {} : false) },
        }),
      );
      b.resume();
      return attachThenResume(a);
    },
    listen() {
      throw new Error("not used");
    },
  };
  return { sockets, servers };
}

/** `c`, resuming delivery once its owner has set handlers and started. */
function attachThenResume(c: Conn): Conn {
  return {
    write: (d) => c.write(d),
    end: () => c.end(),
    destroy: () => c.destroy(),
    reset: () => c.reset(),
    pause: () => c.pause(),
    resume: () => c.resume(),
    setHandlers(h) {
      c.setHandlers(h);
      // Not at once: the owner sends its identification line after setting handlers.
      queueMicrotask(() => c.resume());
    },
    remoteAddress: c.remoteAddress,
    remotePort: c.remotePort,
    localAddress: c.localAddress,
    localPort: c.localPort,
  };
}

let files = 0;
function knownHosts(...keys: PrivateKey[]): string {
  const file = path.join(dir, `known_hosts_${files++}`);
  fs.writeFileSync(file, keys.map((k) => `${formatKnownHostsLine(HOST, PORT, k.publicKey)}\n`).join(""));
  return file;
}

function check(
  served: Served,
  file: string,
  policy: HostKeyPolicy,
  extra: { hostKeyAlgorithms?: string; optionNames?: OptionNames } = {},
): Promise<CheckReport> {
  return runCheck({
    destination: `u@${HOST}:${PORT}`,
    identity: identityFile,
    knownHosts: file,
    hostKeyCheck: policy,
    crypto: "noble",
    sockets: served.sockets,
    timeoutMs: 10_000,
    ...extra,
  });
}

async function refusal(run: Promise<unknown>): Promise<SshError> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SshError);
  return err as SshError;
}

describe("host-key pinning is per host, not per key type", () => {
  for (const policy of ["accept-new", "yes"] as const) {
    it(`a host pinned with ed25519 is refused under ${policy} when the server offers only ecdsa, and known_hosts is left unchanged`, async () => {
      const file = knownHosts(realEd);
      const before = fs.readFileSync(file, "utf8");
      const served = serverWith([mitmEcdsa]);
      const err = await refusal(check(served, file, policy));
      expect(err.code).toBe("HOST_KEY_CHANGED");
      // One line, naming the pinned type and what the server offered.
      expect(err.message).not.toMatch(/\n/);
      expect(err.message).toMatch(/pin it with ssh-ed25519/);
      expect(err.message).toMatch(/offers ecdsa-sha2-nistp256 and showed ecdsa-sha2-nistp256 SHA256:/);
      expect(err.message).toContain(`${file}:1`);
      expect(fs.readFileSync(file, "utf8")).toBe(before);
      // Refused before NEWKEYS: the server never got as far as authentication.
      const server = served.servers[0] as SshServerConnection;
      expect(server.info.kexCount).toBe(0);
    });
  }

  it("a host pinned only by a key type we cannot read (ssh-dss) is refused under accept-new, not added", async () => {
    const file = path.join(dir, "known_hosts_dss");
    const blob = Buffer.from("\x00\x00\x00\x07ssh-dss\x00\x00\x00\x01\x01").toString("base64");
    fs.writeFileSync(file, `[${HOST}]:${PORT} ssh-dss ${blob}\n`);
    const before = fs.readFileSync(file, "utf8");
    const err = await refusal(check(serverWith([mitmEcdsa]), file, "accept-new"));
    expect(err.code).toBe("HOST_KEY_CHANGED");
    expect(err.message).toMatch(/pin it with ssh-dss \(unreadable\)/);
    expect(fs.readFileSync(file, "utf8")).toBe(before);
  });

  it("policy no still accepts anything (and writes nothing)", async () => {
    const file = knownHosts(realEd);
    const before = fs.readFileSync(file, "utf8");
    const r = await check(serverWith([mitmEcdsa]), file, "no");
    expect(r.hostKeyAlgorithm).toBe("ecdsa-sha2-nistp256");
    expect(fs.readFileSync(file, "utf8")).toBe(before);
  });

  it("a host with no key in known_hosts is still new: accept-new adds it", async () => {
    const file = knownHosts();
    const r = await check(serverWith([realEd, realEcdsa]), file, "accept-new");
    expect(r.hostKeyAlgorithm).toBe("ssh-ed25519");
    expect(fs.readFileSync(file, "utf8")).toBe(`${formatKnownHostsLine(HOST, PORT, realEd.publicKey)}\n`);
  });

  it("a server offering both types negotiates the pinned one: ecdsa when only ecdsa is pinned", async () => {
    // The server prefers ed25519 (its list comes first in its KEXINIT); the client's order decides.
    const file = knownHosts(realEcdsa);
    const before = fs.readFileSync(file, "utf8");
    for (const policy of ["yes", "accept-new"] as const) {
      const r = await check(serverWith([realEd, realEcdsa]), file, policy);
      expect(r.hostKeyAlgorithm).toBe("ecdsa-sha2-nistp256");
    }
    expect(fs.readFileSync(file, "utf8")).toBe(before);
  });

  it("a server offering both types negotiates the pinned one: ed25519 when only ed25519 is pinned", async () => {
    const file = knownHosts(realEd);
    const r = await check(serverWith([realEcdsa, realEd]), file, "yes");
    expect(r.hostKeyAlgorithm).toBe("ssh-ed25519");
  });

  it("an explicit --host-key-algorithms that leaves out the pinned type is refused, saying which to allow", async () => {
    const file = knownHosts(realEd);
    const hostKeyAlgorithms = "ecdsa-sha2-nistp256";
    const optionNames = { hostKeyAlgorithms: "--host-key-algorithms" };
    const err = await refusal(
      check(serverWith([realEd, realEcdsa]), file, "accept-new", { hostKeyAlgorithms, optionNames }),
    );
    expect(err.code).toBe("HOST_KEY_CHANGED");
    expect(err.message).toMatch(/allow ssh-ed25519 in --host-key-algorithms$/);
    expect(err.message).not.toMatch(/\n/);
    // a library caller that names no options reads the field
    const plain = await refusal(check(serverWith([realEd, realEcdsa]), file, "accept-new", { hostKeyAlgorithms }));
    expect(plain.message).toMatch(/allow ssh-ed25519 in hostKeyAlgorithms$/);
  });
});

describe("host key algorithms are offered with the pinned types first (as ssh(1))", () => {
  const hostKey = (spec: string | undefined, known: string[]) =>
    resolveAlgorithms({ hostKeyAlgorithms: spec }, nobleProvider, known).hostKey;

  it("the defaults move the pinned types to the front, in their own order", () => {
    const plain = [
      "ssh-ed25519",
      "ecdsa-sha2-nistp256",
      "ecdsa-sha2-nistp384",
      "ecdsa-sha2-nistp521",
      "rsa-sha2-512",
      "rsa-sha2-256",
    ];
    const certs = plain.map((a) => `${a}-cert-v01@openssh.com`);
    // Certificate forms are offered, after the plain ones, unless a @cert-authority line names the host.
    expect(hostKey(undefined, [])).toEqual([...plain, ...certs]);
    expect(hostKey(undefined, ["ssh-rsa", "ecdsa-sha2-nistp384"])).toEqual([
      "ecdsa-sha2-nistp384",
      "rsa-sha2-512",
      "rsa-sha2-256",
      "ssh-ed25519",
      "ecdsa-sha2-nistp256",
      "ecdsa-sha2-nistp521",
      ...certs,
    ]);
    // A @cert-authority line for the host: every certificate form first, then pinned plain types.
    const certTypes = [
      "ssh-ed25519",
      "ecdsa-sha2-nistp256",
      "ecdsa-sha2-nistp384",
      "ecdsa-sha2-nistp521",
      "ssh-rsa",
    ].map((t) => `${t}-cert-v01@openssh.com`);
    expect(hostKey(undefined, [...certTypes, "ecdsa-sha2-nistp384"])).toEqual([
      ...certs,
      "ecdsa-sha2-nistp384",
      "ssh-ed25519",
      "ecdsa-sha2-nistp256",
      "ecdsa-sha2-nistp521",
      "rsa-sha2-512",
      "rsa-sha2-256",
    ]);
  });

  it("defaults edited with + or - are reordered too; a list written out, or put first with ^, is the user's order", () => {
    expect(hostKey("-ecdsa-sha2-nistp384", ["ecdsa-sha2-nistp256"])[0]).toBe("ecdsa-sha2-nistp256");
    expect(hostKey("+ssh-rsa", ["ssh-rsa"]).slice(0, 3)).toEqual(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
    expect(hostKey("ssh-ed25519,ecdsa-sha2-nistp256", ["ecdsa-sha2-nistp256"])).toEqual([
      "ssh-ed25519",
      "ecdsa-sha2-nistp256",
    ]);
    expect(hostKey("^ssh-ed25519", ["ecdsa-sha2-nistp256"])[0]).toBe("ssh-ed25519");
  });

  it("algorithms we do not know keep their place after the pinned ones", () => {
    expect(preferKnownHostKeyTypes(["x-unknown", "ssh-ed25519"], ["ssh-ed25519"])).toEqual([
      "ssh-ed25519",
      "x-unknown",
    ]);
  });
});
