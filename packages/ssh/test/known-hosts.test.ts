import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nobleProvider as p } from "../src/crypto/noble.ts";
import { generateEcdsa, generateEd25519 } from "../src/keys/generate.ts";
import {
  formatKnownHostsLine,
  hostKeyChangedMessage,
  knownHostKeyTypes,
  lookupHostKey,
  parseKnownHosts,
} from "../src/keys/known-hosts.ts";
import { formatPublicKeyLine } from "../src/keys/public-key.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-kh-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const a = generateEd25519(p).publicKey;
const b = generateEd25519(p).publicKey;
const e = generateEcdsa(p, "p256").publicKey;
const line = (hosts: string, k = a) => `${hosts} ${formatPublicKeyLine({ ...k, comment: "" })}`;
const look = (text: string, host: string, port: number, k = a) =>
  lookupHostKey(parseKnownHosts(text).entries, host, port, k, p);

describe("known_hosts (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT)", () => {
  it("matches plain, comma-listed and [host]:port entries; port 22 is the bare name", () => {
    expect(look(line("example.com"), "example.com", 22).status).toBe("match");
    expect(look(line("other,example.com,1.2.3.4"), "1.2.3.4", 22).status).toBe("match");
    expect(look(line("[example.com]:2222"), "example.com", 2222).status).toBe("match");
    expect(look(line("example.com"), "example.com", 2222).status).toBe("unknown");
    expect(look(line("[example.com]:2222"), "example.com", 22).status).toBe("unknown");
  });

  it("matches hashed entries written by ssh-keygen -H", () => {
    const file = path.join(dir, "hashed");
    fs.writeFileSync(file, `${line("secret.example")}\n${line("[secret.example]:2200", b)}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const text = fs.readFileSync(file, "utf8");
    expect(text).toMatch(/^\|1\|/);
    expect(look(text, "secret.example", 22).status).toBe("match");
    expect(look(text, "secret.example", 2200, b).status).toBe("match");
    expect(look(text, "secret.example", 2200, a).status).toBe("mismatch");
  });

  it("our hashed lines are found by ssh-keygen -F", () => {
    const file = path.join(dir, "ours");
    const rnd = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));
    fs.writeFileSync(
      file,
      `${formatKnownHostsLine("h.example", 2022, a, { hashed: true, random: rnd, provider: p })}\n`,
    );
    const out = execFileSync("ssh-keygen", ["-F", "[h.example]:2022", "-f", file]).toString();
    expect(out).toMatch(/found: line 1/);
  });

  it("allows several keys per host; another key of a pinned type is a changed key", () => {
    const text = [line("h", a), line("h", e)].join("\n");
    expect(look(text, "h", 22, a).status).toBe("match");
    expect(look(text, "h", 22, e).status).toBe("match");
    expect(look(text, "h", 22, b).status).toBe("mismatch");
  });

  it("a host with any key in the file is not new: a key of an unpinned type is other-types, not unknown", () => {
    const found = look(line("h", e), "h", 22, a);
    expect(found.status).toBe("other-types");
    expect(found.knownKeys.map((k) => k.key.type)).toEqual(["ecdsa-sha2-nistp256"]);
    expect(look(line("other", e), "h", 22, a).status).toBe("unknown");
    // A @revoked line pins nothing.
    expect(look(`@revoked h ${formatPublicKeyLine({ ...e, comment: "" })}`, "h", 22, a).status).toBe("unknown");
  });

  it("a host pinned only by a key we cannot read (ssh-dss, a damaged key) is not new either", () => {
    const dss = `h ssh-dss ${Buffer.from("\x00\x00\x00\x07ssh-dss\x00\x00\x00\x01\x01").toString("base64")}`;
    const parsed = parseKnownHosts(`${dss}\nother ${formatPublicKeyLine(a)}\nh ssh-ed25519 !!!\n`);
    expect(parsed.unreadable.map((u) => [u.type, u.line])).toEqual([
      ["ssh-dss", 1],
      ["ssh-ed25519", 3],
    ]);
    const found = lookupHostKey(parsed.entries, "h", 22, a, p, parsed.unreadable);
    expect(found.status).toBe("other-types");
    expect(found.unreadable).toEqual([
      { type: "ssh-dss", line: 1 },
      { type: "ssh-ed25519", line: 3 },
    ]);
    expect(lookupHostKey(parsed.entries, "nowhere", 22, a, p, parsed.unreadable).status).toBe("unknown");
  });

  it("lists the key types pinned for a host, each once, in file order", () => {
    const text = [line("h", e), line("other", a), line("h", b), line("h", a), line("[h]:2222", a)].join("\n");
    expect(knownHostKeyTypes(parseKnownHosts(text).entries, "h", 22, p)).toEqual([
      "ecdsa-sha2-nistp256",
      "ssh-ed25519",
    ]);
    expect(knownHostKeyTypes(parseKnownHosts(text).entries, "h", 2222, p)).toEqual(["ssh-ed25519"]);
    expect(knownHostKeyTypes(parseKnownHosts(text).entries, "nowhere", 22, p)).toEqual([]);
  });

  it("skips comments, blank lines and garbage, reporting the bad ones with line numbers", () => {
    const parsed = parseKnownHosts(
      `# comment\n\n${line("h")}\nnonsense\nh ssh-ed25519 !!!\n@bogus h ${formatPublicKeyLine(a)}\n`,
    );
    expect(parsed.entries).toHaveLength(1);
    expect(parsed.warnings.map((w) => w.split(":")[0])).toEqual(["line 4", "line 5", "line 6"]);
  });

  it("honours wildcards and negation", () => {
    expect(look(line("*.example.com"), "db.example.com", 22).status).toBe("match");
    expect(look(line("*.example.com,!db.example.com"), "db.example.com", 22).status).toBe("unknown");
    expect(look(line("db?.example.com"), "db1.example.com", 22).status).toBe("match");
  });

  it("refuses a @revoked key wherever it is listed", () => {
    const text = `${line("h")}\n@revoked * ${formatPublicKeyLine({ ...a, comment: "" })}`;
    expect(look(text, "h", 22).status).toBe("revoked");
  });

  it("the changed-key message names the host, both fingerprints and the file line", () => {
    const m = hostKeyChangedMessage("127.0.0.1", 2222, "SHA256:new", "SHA256:old", "/k/known_hosts", 3);
    expect(m.split(". ")[0]).toBe(
      "host key for [127.0.0.1]:2222 has changed: server presented SHA256:new, /k/known_hosts:3 has SHA256:old",
    );
    expect(m).toMatch(/man-in-the-middle/);
    expect(m).not.toMatch(/\n/);
  });
});
