/**
 * Private key files that group or others may access are refused, as ssh(1) and sshd(8)
 * refuse them (issue 12, item 8): identities and `tunnel serve`'s host keys alike, with one
 * line naming the file, its mode and the fix.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { encodeEd25519PrivateKey, nobleProvider, systemRandom } from "@tunnel/ssh";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateHostKey } from "../src/host-keys.ts";
import { checkPrivateKeyMode, loadIdentity, resolveIdentities } from "../src/identity.ts";

const keyText = encodeEd25519PrivateKey(nobleProvider, systemRandom, systemRandom(32), "test key");

describe("private key file permissions", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-keymode-"));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A key file with exactly this mode (chmod after writing: the umask does not interfere). */
  function keyFile(name: string, mode: number): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, keyText);
    fs.chmodSync(file, mode);
    return file;
  }

  const refused: [number, string, string][] = [
    [0o644, "0644", "group and others"],
    [0o640, "0640", "group"],
    [0o604, "0604", "others"],
    [0o620, "0620", "group"],
    [0o660, "0660", "group"],
    [0o666, "0666", "group and others"],
    [0o601, "0601", "others"],
  ];
  it.each(refused)(
    "TestLooseKeyRefused: mode %s is refused in one line naming file, mode and fix",
    (mode, shown, who) => {
      const file = keyFile(`id_${shown}`, mode);
      expect(() => loadIdentity(file)).toThrow(
        new TypeError(
          `private key file ${file} has mode ${shown}, open to ${who}; keys must be accessible only by you (fix: chmod 600 ${file})`,
        ),
      );
    },
  );

  it.each([0o600, 0o400, 0o700])("mode %s is accepted", (mode) => {
    const key = loadIdentity(keyFile(`ok_${mode.toString(8)}`, mode));
    expect(key.type).toBe("ssh-ed25519");
  });

  it("an explicit --identity with a loose mode is refused before anything connects", () => {
    const file = keyFile("explicit", 0o644);
    expect(() => resolveIdentities(file)).toThrow(/has mode 0644, open to group and others.*chmod 600/);
  });

  it("the file a symlink points to is what is judged, as it is what is read", () => {
    const tight = keyFile("target_tight", 0o600);
    const loose = keyFile("target_loose", 0o644);
    const toTight = path.join(dir, "link_tight");
    const toLoose = path.join(dir, "link_loose");
    fs.symlinkSync(tight, toTight);
    fs.symlinkSync(loose, toLoose);
    expect(loadIdentity(toTight).type).toBe("ssh-ed25519");
    expect(() => loadIdentity(toLoose)).toThrow(/has mode 0644/);
  });

  it("a key owned by another user is not judged (OpenSSH's rule: only our own files)", () => {
    const uid = process.getuid?.() ?? 0;
    expect(() => checkPrivateKeyMode("k", { mode: 0o100644, uid: uid + 1 })).not.toThrow();
    expect(() => checkPrivateKeyMode("k", { mode: 0o100644, uid })).toThrow(/mode 0644/);
  });

  it("serve's host key: a loose key in the state directory is refused; the one we create is 0600", () => {
    const state = path.join(dir, "state");
    const created = loadOrCreateHostKey(state);
    expect(created.created).toBe(true);
    expect(fs.statSync(created.file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateHostKey(state).created).toBe(false);
    fs.chmodSync(created.file, 0o640);
    expect(() => loadOrCreateHostKey(state)).toThrow(
      `private key file ${created.file} has mode 0640, open to group; keys must be accessible only by you (fix: chmod 600 ${created.file})`,
    );
  });

  it("a missing file is still reported as missing", () => {
    const file = path.join(dir, "nope");
    expect(() => loadIdentity(file)).toThrow(`identity file ${file} does not exist`);
  });
});
