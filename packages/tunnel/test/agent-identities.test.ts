/**
 * Which keys a connection offers and in which order (agent-identities.ts): ssh(1)'s order —
 * agent keys matching a configured file, the agent's others unless IdentitiesOnly, then the
 * files — and where the agent socket comes from (IdentityAgent, SSH_AUTH_SOCK). The same order
 * is checked against `ssh -v` with a real agent in test/agent.test.ts.
 */
import * as os from "node:os";
import * as path from "node:path";
import {
  AgentClient,
  type AgentKey,
  CERT_FOREVER,
  type CertificateType,
  decodeCertificate,
  describeAgentKey,
  generateEd25519,
  nobleProvider,
  type PrivateKey,
  SshError,
} from "@tunnel/ssh";
import { Writer } from "@tunnel/ssh/wire";
import { describe, expect, it } from "vitest";
import { memoryPair } from "../../ssh/src/runtime/memory.ts";
import { agentSocketPath, type FileEntry, orderIdentities } from "../src/agent-identities.ts";
import type { CertificateEntry } from "../src/certificate-files.ts";

describe("agent socket (IdentityAgent, SSH_AUTH_SOCK)", () => {
  const env = { SSH_AUTH_SOCK: "/run/user/1/agent.sock", OTHER_SOCK: "/tmp/other.sock" };
  it("without IdentityAgent: SSH_AUTH_SOCK, or no agent when it is unset or empty", () => {
    expect(agentSocketPath(undefined, env)).toBe("/run/user/1/agent.sock");
    expect(agentSocketPath(undefined, {})).toBeUndefined();
    expect(agentSocketPath(undefined, { SSH_AUTH_SOCK: "" })).toBeUndefined();
  });
  it("IdentityAgent none turns the agent off, even with SSH_AUTH_SOCK set", () => {
    expect(agentSocketPath("none", env)).toBeUndefined();
  });
  it("IdentityAgent SSH_AUTH_SOCK and $VAR read the environment", () => {
    expect(agentSocketPath("SSH_AUTH_SOCK", env)).toBe("/run/user/1/agent.sock");
    expect(agentSocketPath("$OTHER_SOCK", env)).toBe("/tmp/other.sock");
    expect(agentSocketPath("$MISSING", env)).toBeUndefined();
  });
  it("IdentityAgent PATH is a path, ~ expanded", () => {
    expect(agentSocketPath("/var/agent.sock", env)).toBe("/var/agent.sock");
    expect(agentSocketPath("~/.1password/agent.sock", env)).toBe(path.join(os.homedir(), ".1password/agent.sock"));
  });
});

const keys = ["a", "b", "c", "d"].map((c) => generateEd25519(nobleProvider, `key-${c}`)) as [
  PrivateKey,
  PrivateKey,
  PrivateKey,
  PrivateKey,
];
const [a, b, c, d] = keys;
const held = (k: PrivateKey): AgentKey => describeAgentKey(k.publicKey.blob, k.publicKey.comment);
/** An agent client whose connection is never used: ordering signs nothing. */
const agent = new AgentClient(memoryPair()[0]);

/**
 * A key file: its public key known (from `.pub`), its private key loaded, locked (encrypted,
 * no passphrase) or damaged.
 */
function file(
  name: string,
  key: PrivateKey,
  state: "loaded" | "locked" | "damaged" = "loaded",
  userProvided = true,
): FileEntry {
  return {
    file: `/keys/${name}`,
    userProvided,
    publicBlob: key.publicKey.blob,
    key: state === "loaded" ? key : undefined,
    error:
      state === "locked"
        ? new SshError("KEY_ENCRYPTED", `${name} is encrypted and no passphrase was given`)
        : state === "damaged"
          ? new SshError("KEY_FORMAT", `${name} is damaged`)
          : undefined,
  };
}

/** `file:/keys/x (agent)`, `agent:key-a`, `file:/keys/x`: what was offered, in order. */
const offered = (ids: ReturnType<typeof orderIdentities>["identities"]) =>
  ids.map((i) => (i.source ? `file:${i.source}` : `agent:${i.publicKey.comment}`) + (i.agent ? " (agent)" : ""));

describe("order of keys offered (as ssh -v lists them)", () => {
  it("agent keys matching a configured file first, then the agent's others, then the files", () => {
    const { identities } = orderIdentities([file("c", c), file("d", d)], [held(a), held(b), held(c)], agent, false);
    expect(offered(identities)).toEqual([
      "file:/keys/c (agent)",
      "agent:key-a (agent)",
      "agent:key-b (agent)",
      "file:/keys/d",
    ]);
  });

  it("several matched keys come in the agent's order, not the files'", () => {
    const { identities } = orderIdentities([file("b", b), file("a", a)], [held(a), held(b), held(c)], agent, false);
    expect(offered(identities)).toEqual(["file:/keys/a (agent)", "file:/keys/b (agent)", "agent:key-c (agent)"]);
  });

  it("IdentitiesOnly: only the configured files, the agent signing for those it holds", () => {
    const { identities } = orderIdentities([file("d", d), file("b", b)], [held(a), held(b), held(c)], agent, true);
    expect(offered(identities)).toEqual(["file:/keys/b (agent)", "file:/keys/d"]);
  });

  it("a file the agent holds is never loaded: an encrypted one is signed for by the agent", () => {
    const { identities, notes } = orderIdentities([file("c", c, "locked")], [held(c)], agent, true);
    expect(offered(identities)).toEqual(["file:/keys/c (agent)"]);
    expect(notes).toEqual([]);
  });

  it("a damaged file the user named (and the agent lacks) is an error", () => {
    expect(() => orderIdentities([file("d", d, "damaged")], [held(a)], agent, false)).toThrow(/d is damaged/);
  });

  it("a locked file the user named (and the agent lacks) is skipped with a note; the agent's keys still go", () => {
    const { identities, notes } = orderIdentities([file("d", d, "locked")], [held(a)], agent, false);
    expect(offered(identities)).toEqual(["agent:key-a (agent)"]);
    expect(notes).toEqual(["skipped: /keys/d (d is encrypted and no passphrase was given)"]);
  });

  it("a default file that cannot be loaded is skipped with a note; the others are still offered", () => {
    const { identities, notes } = orderIdentities(
      [file("id_rsa", d, "damaged", false), file("id_ed25519", a, "loaded", false)],
      [],
      undefined,
      false,
    );
    expect(offered(identities)).toEqual(["file:/keys/id_ed25519"]);
    expect(notes).toEqual(["skipped: /keys/id_rsa (id_rsa is damaged)"]);
  });

  it("an agent key of a type we cannot sign with is left out, with a note", () => {
    const sk = describeAgentKey(
      new Uint8Array([0, 0, 0, 26, ...new TextEncoder().encode("sk-ssh-ed25519@openssh.com")]),
      "yubikey",
    );
    const { identities, notes } = orderIdentities([], [sk, held(a)], agent, false);
    expect(offered(identities)).toEqual(["agent:key-a (agent)"]);
    expect(notes).toEqual(["skipped: yubikey sk-ssh-ed25519@openssh.com (agent; a key type we cannot use)"]);
  });

  it("without an agent: the files alone, in their order", () => {
    const { identities } = orderIdentities([file("d", d), file("a", a)], [], undefined, false);
    expect(offered(identities)).toEqual(["file:/keys/d", "file:/keys/a"]);
  });
});

/** A user certificate of `k` (signed by key a), from `<file>-cert.pub` beside `keyFile`, or from CertificateFile. */
function cert(name: string, k: PrivateKey, keyFile?: string): CertificateEntry {
  const type = `${k.type}-cert-v01@openssh.com` as CertificateType;
  const signed = new Writer(512)
    .string(type)
    .string(new Uint8Array(32))
    .raw(k.publicKey.blob.subarray(4 + k.type.length))
    .uint64(1n)
    .uint32(1)
    .string(name)
    .string(new Writer(16).string("me").bytes())
    .uint64(0n)
    .uint64(CERT_FOREVER)
    .string("")
    .string("")
    .string("")
    .string(a.publicKey.blob)
    .bytes();
  const blob = new Writer(700).raw(signed).string(a.sign(signed, "ssh-ed25519")).bytes();
  const certificate = decodeCertificate(blob);
  return {
    file: keyFile ? `${keyFile}-cert.pub` : `/certs/${name}`,
    keyFile,
    configured: keyFile === undefined,
    type,
    blob,
    comment: name,
    certificate,
  };
}

describe("certificates among the keys offered (as ssh orders them)", () => {
  it("a <key>-cert.pub comes right after its key file, signed by that file's key", () => {
    const { identities } = orderIdentities([file("c", c), file("d", d)], [], undefined, false, {}, [
      cert("c-cert", c, "/keys/c"),
    ]);
    expect(offered(identities)).toEqual(["file:/keys/c", "file:/keys/c-cert.pub", "file:/keys/d"]);
    expect(identities[1]?.type).toBe("ssh-ed25519-cert-v01@openssh.com");
    expect(identities[1]?.signatureAlgorithms).toEqual(["ssh-ed25519-cert-v01@openssh.com"]);
  });

  it("CertificateFile certificates go first; the agent signs for a key it holds", () => {
    const { identities } = orderIdentities([file("d", d)], [held(b), held(c)], agent, false, {}, [cert("b-cert", b)]);
    expect(offered(identities)).toEqual([
      "file:/certs/b-cert (agent)",
      "agent:key-b (agent)",
      "agent:key-c (agent)",
      "file:/keys/d",
    ]);
  });

  it("a certificate the agent holds itself is offered once, as the agent's, named by its file", () => {
    const cc = cert("c-cert", c, "/keys/c");
    const heldCert = describeAgentKey(cc.blob, "c-cert");
    const { identities } = orderIdentities([file("c", c)], [held(c), heldCert], agent, false, {}, [cc]);
    expect(offered(identities)).toEqual(["file:/keys/c (agent)", "file:/keys/c-cert.pub (agent)"]);
  });

  it("a certificate whose key nobody holds is skipped with a note", () => {
    const { identities, notes } = orderIdentities([file("d", d)], [], undefined, false, {}, [cert("lonely", b)]);
    expect(offered(identities)).toEqual(["file:/keys/d"]);
    expect(notes).toEqual([
      "skipped: /certs/lonely (neither the agent nor an identity file holds the ssh-ed25519 key it certifies)",
    ]);
  });
});
