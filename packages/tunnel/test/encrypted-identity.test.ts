/**
 * Encrypted identity files as ssh(1) loads them (sshconnect2.c load_identity_file; issue 15,
 * item 3): the passphrase asked up to three times, an empty answer or no way to ask giving up
 * at once, asked once per key per process, BatchMode asking nothing — and a key that stays
 * locked skipped with its reason, never stopping the other keys.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SshError } from "@tunnel/ssh";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { identityPublicBlob, loadIdentity, resolveIdentities } from "../src/identity.ts";
import type { PassphraseAnswer, PassphrasePrompter } from "../src/passphrase.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-enc-identity-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const PASS = "correct horse battery";
let serial = 0;

/** A key made by ssh-keygen (`passphrase` "" for none); 2 bcrypt rounds to keep tests quick. */
function keygen(passphrase: string, args: string[] = ["-t", "ed25519"], name = `k${serial++}`, at = dir): string {
  const file = path.join(at, name);
  fs.mkdirSync(at, { recursive: true });
  execFileSync("ssh-keygen", ["-q", "-N", passphrase, "-a", "2", "-f", file, ...args]);
  return file;
}

/** A prompter answering from a list (then "no passphrase"), recording the prompts. */
function scripted(...answers: (string | undefined)[]): PassphrasePrompter & { prompts: string[] } {
  const prompts: string[] = [];
  const prompter = (prompt: string): PassphraseAnswer => {
    prompts.push(prompt);
    const a = answers.shift();
    return a === undefined ? { passphrase: undefined, why: "no passphrase was given" } : { passphrase: a };
  };
  return Object.assign(prompter, { prompts });
}

function failure(fn: () => unknown): SshError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SshError);
    expect((err as Error).message).not.toMatch(/\n/);
    return err as SshError;
  }
  throw new Error("expected a failure");
}

describe("loading an encrypted identity file", () => {
  it("asks with ssh's prompt, opens the key, and does not ask again for the same file", () => {
    const file = keygen(PASS);
    const ask = scripted(PASS);
    const key = loadIdentity(file, { passphrase: ask });
    expect(key.type).toBe("ssh-ed25519");
    expect(ask.prompts).toEqual([`Enter passphrase for key '${file}': `]);
    expect(loadIdentity(file, { passphrase: ask })).toBe(key);
    expect(ask.prompts).toHaveLength(1);
  });

  it("three wrong passphrases: incorrect passphrase for FILE (3 tries), and not asked again", () => {
    const file = keygen(PASS);
    const ask = scripted("one", "two", "three", PASS);
    const err = failure(() => loadIdentity(file, { passphrase: ask }));
    expect(err.code).toBe("KEY_ENCRYPTED");
    expect(err.message).toBe(`incorrect passphrase for ${file} (3 tries)`);
    expect(ask.prompts).toHaveLength(3);
    expect(failure(() => loadIdentity(file, { passphrase: ask })).message).toBe(err.message);
    expect(ask.prompts).toHaveLength(3);
  });

  it("right on the third try opens it", () => {
    const file = keygen(PASS);
    const ask = scripted("one", "two", PASS);
    expect(loadIdentity(file, { passphrase: ask }).type).toBe("ssh-ed25519");
    expect(ask.prompts).toHaveLength(3);
  });

  it("NumberOfPasswordPrompts: the number of tries is the caller's", () => {
    const file = keygen(PASS);
    const ask = scripted("one", PASS);
    expect(failure(() => loadIdentity(file, { passphrase: ask, passphrasePrompts: 1 })).message).toBe(
      `incorrect passphrase for ${file} (1 try)`,
    );
  });

  it("no answer gives up at once, saying why (after any wrong ones)", () => {
    const a = keygen(PASS);
    const none = scripted();
    expect(failure(() => loadIdentity(a, { passphrase: none })).message).toBe(
      `identity file ${a} is encrypted and no passphrase was given`,
    );
    expect(none.prompts).toHaveLength(1);
    const b = keygen(PASS);
    const oneWrong = scripted("wrong");
    expect(failure(() => loadIdentity(b, { passphrase: oneWrong })).message).toBe(
      `identity file ${b} is encrypted and no passphrase was given, after 1 incorrect`,
    );
    expect(oneWrong.prompts).toHaveLength(2);
  });

  it("BatchMode (passphrase: false) asks nothing", () => {
    const file = keygen(PASS);
    expect(failure(() => loadIdentity(file, { passphrase: false })).message).toBe(
      `identity file ${file} is encrypted and asking for passphrases is off (BatchMode)`,
    );
  });

  it("an unencrypted key is never asked for; a damaged encrypted one is not either", () => {
    const ask = scripted(PASS);
    expect(loadIdentity(keygen(""), { passphrase: ask }).type).toBe("ssh-ed25519");
    const damaged = keygen(PASS);
    fs.writeFileSync(damaged, fs.readFileSync(damaged, "utf8").replace(/\n[A-Za-z0-9+/=]+\n-----END/, "\n-----END"));
    expect(failure(() => loadIdentity(damaged, { passphrase: ask })).code).toBe("KEY_FORMAT");
    expect(ask.prompts).toEqual([]);
  });

  it("a file changed since it was asked for is asked for again", () => {
    const file = keygen(PASS);
    const ask = scripted("wrong", "wrong", "wrong", PASS);
    failure(() => loadIdentity(file, { passphrase: ask }));
    fs.rmSync(file);
    fs.rmSync(`${file}.pub`);
    keygen(PASS, ["-t", "ed25519", "-C", "new"], path.basename(file));
    expect(loadIdentity(file, { passphrase: ask }).type).toBe("ssh-ed25519");
    expect(ask.prompts).toHaveLength(4);
  });

  it("PEM and PKCS#8 keys are asked for the same way", () => {
    for (const format of ["PEM", "PKCS8"]) {
      const file = keygen(PASS, ["-t", "ecdsa", "-b", "256", "-m", format]);
      const ask = scripted("wrong", PASS);
      expect(loadIdentity(file, { passphrase: ask }).type).toBe("ecdsa-sha2-nistp256");
      expect(ask.prompts).toHaveLength(2);
    }
  });
});

describe("resolving identities: a locked key never stops the others", () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(dir, "home-"));
  });

  it("encrypted id_ed25519 whose passphrase fails + plain id_rsa → id_rsa, and the reason kept", () => {
    const ssh = path.join(home, ".ssh");
    const ed = keygen(PASS, ["-t", "ed25519"], "id_ed25519", ssh);
    const rsa = keygen("", ["-t", "rsa", "-b", "2048"], "id_rsa", ssh);
    const ask = scripted("no", "nope", "never");
    const r = resolveIdentities(undefined, { passphrase: ask, home });
    expect(r.files).toEqual([rsa]);
    expect(r.keys.map((k) => k.type)).toEqual(["ssh-rsa"]);
    expect(r.notes).toEqual([`skipped: ${ed} (incorrect passphrase for ${ed} (3 tries))`]);
  });

  it("a default that is damaged or loose is skipped too, with its reason", () => {
    const ssh = path.join(home, ".ssh");
    const ed = keygen("", ["-t", "ed25519"], "id_ed25519", ssh);
    fs.chmodSync(ed, 0o644);
    const ecdsa = keygen("", ["-t", "ecdsa"], "id_ecdsa", ssh);
    fs.writeFileSync(ecdsa, "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", {
      mode: 0o600,
    });
    const rsa = keygen("", ["-t", "rsa", "-b", "2048"], "id_rsa", ssh);
    const r = resolveIdentities(undefined, { passphrase: scripted(), home });
    expect(r.files).toEqual([rsa]);
    expect(r.notes).toHaveLength(2);
    expect(r.notes[0]).toMatch(/^skipped: .*id_ed25519 \(private key file .* has mode 0644/);
    expect(r.notes[1]).toMatch(/^skipped: .*id_ecdsa \(identity file .*: not an openssh-key-v1 key/);
  });

  it("an explicit --identity that stays locked is skipped (a password may follow), not fatal", () => {
    const file = keygen(PASS);
    const r = resolveIdentities(file, { passphrase: scripted() });
    expect(r.keys).toEqual([]);
    expect(r.notes).toEqual([`skipped: ${file} (identity file ${file} is encrypted and no passphrase was given)`]);
  });

  it("an explicit --identity that is missing is still an error before anything connects", () => {
    const file = path.join(dir, "nope");
    expect(() => resolveIdentities(file)).toThrow(`identity file ${file} does not exist`);
  });
});

describe("a key file's public key, without its passphrase", () => {
  it("comes from the .pub beside it, or from an openssh-key-v1 file's clear header", () => {
    const file = keygen(PASS);
    const fromPub = identityPublicBlob(file);
    fs.rmSync(`${file}.pub`);
    const fromHeader = identityPublicBlob(file);
    expect(fromPub).toBeDefined();
    expect(fromHeader).toEqual(fromPub);
    expect(loadIdentity(file, { passphrase: scripted(PASS) }).publicKey.blob).toEqual(fromPub);
  });

  it("is unknown for an encrypted PEM file without a .pub", () => {
    const file = keygen(PASS, ["-t", "ecdsa", "-b", "256", "-m", "PEM"]);
    fs.rmSync(`${file}.pub`);
    expect(identityPublicBlob(file)).toBeUndefined();
  });
});
