/**
 * `tunnel check` against a server that lets anyone in with `none` (issue 12, item 10): the
 * login is accepted and reported, with one warning line on stderr; the same server's banner
 * full of terminal escapes reaches stderr escaped (item 7). The server is ours, in process.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type ForwardingServer, startForwardingServer } from "@tunnel/core";
import { formatPublicKeyLine, generateEd25519, knownHostsName, nobleProvider } from "@tunnel/ssh";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../../test/harness/cli.ts";

describe("tunnel check: a server that accepts method none", () => {
  let server: ForwardingServer;
  let dir: string;
  let knownHosts: string;

  beforeAll(async () => {
    const hostKey = generateEd25519(nobleProvider);
    server = await startForwardingServer("127.0.0.1", 0, {
      hostKeys: [hostKey],
      auth: { allowNone: true, banner: "\x1b]0;pwned\x07\x1b[2JWelcome\r\n" },
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-none-"));
    knownHosts = path.join(dir, "known_hosts");
    fs.writeFileSync(
      knownHosts,
      `${knownHostsName("127.0.0.1", server.listener.port)} ${formatPublicKeyLine(hostKey.publicKey)}\n`,
    );
  });

  afterAll(async () => {
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("TrivialAuthWarned: accepted, reported as none, one warning line on stderr", async () => {
    const where = `127.0.0.1:${server.listener.port}`;
    // HOME points at an empty directory: no default identity, no ~/.ssh/known_hosts of ours.
    const r = await runCli(["check", `nobody@${where}`, "--known-hosts", knownHosts, "--json"], {
      env: { HOME: dir },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ authMethod: "none", user: "nobody" });
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("WARNING"));
    expect(warnings).toEqual([
      `WARNING: ${where} let "nobody" in without authentication (method "none"): it checked no key or password`,
    ]);
  });

  it("the server's banner reaches stderr with its escapes made visible", async () => {
    const r = await runCli(["check", `nobody@127.0.0.1:${server.listener.port}`, "--known-hosts", knownHosts], {
      env: { HOME: dir },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("\\x1b]0;pwned\\x07\\x1b[2JWelcome\n");
    expect(r.stderr).not.toContain("\x1b");
    expect(r.stdout).toMatch(/^auth: +none as nobody$/m);
  });
});
