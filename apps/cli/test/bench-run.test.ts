import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { cliCommand, REPO_ROOT, RUNTIME, runCli, sendSignal } from "../../../test/harness/cli.ts";

describe("tunnel bench", () => {
  it("over loopback: direct TCP and each cipher through our own server, one JSON object per measurement", async () => {
    const r = await runCli(
      ["bench", "--megabytes", "1", "--ciphers", "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com", "--json"],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => [x.through, x.cipher])).toEqual([
      ["direct TCP", "-"],
      ["tunnel (loopback)", "aes128-gcm@openssh.com"],
      ["tunnel (loopback)", "chacha20-poly1305@openssh.com"],
    ]);
    for (const row of rows) {
      expect(row.up).toBeGreaterThan(0);
      expect(row.down).toBeGreaterThan(0);
      expect(row.rtt).toBeGreaterThan(0);
    }
    expect(rows[1].connectMs).toBeGreaterThan(0);
  });

  it("--crypto noble runs the pure-noble mode; an unknown mode is one line", async () => {
    const ok = await runCli(["bench", "--megabytes", "1", "--crypto", "noble", "--json"], { timeoutMs: 60_000 });
    expect(ok.code, ok.stderr).toBe(0);
    // Without accelerators, no speeds are measured: OpenSSH's order, chacha20-poly1305 first.
    expect(JSON.parse(ok.stdout.trim().split("\n")[1] as string).cipher).toBe("chacha20-poly1305@openssh.com");
    const bad = await runCli(["bench", "--crypto", "fast"]);
    expect(bad.code).toBe(2); // a flag's value: a usage error
    expect(bad.stderr.trim()).toBe('tunnel: --crypto: "fast" is not a mode; expected auto or noble');
  });

  it("--via without --target, and --target without --via, are one-line errors", async () => {
    const a = await runCli(["bench", "--via", "bastion.example"]);
    expect(a.code).toBe(1);
    expect(a.stderr.trim()).toMatch(/^tunnel: --via needs --target host:port: a bench target behind the bastion/);
    const b = await runCli(["bench", "--target", "127.0.0.1:9"]);
    expect(b.code).toBe(1);
    expect(b.stderr.trim()).toBe("tunnel: --target needs --via: without it the bench runs over loopback");
  });

  it("--target that is not host:port is a one-line error naming the flag, before any connection", async () => {
    // The bench reads no environment: a bare name is not taken for an unset variable.
    const r = await runCli(["bench", "--via", "nobody@127.0.0.1:9", "--target", "DATABASE_URL"]);
    expect(r.code).toBe(2); // the command line was wrong
    expect(r.stderr.trim().split("\n").at(-1)).toBe(
      'tunnel: --target: "DATABASE_URL" is not host:port; expected the address of a bench target behind the bastion, e.g. 10.0.0.5:9000',
    );
  });

  it("--sockets names an adapter this runtime has; another is refused in one line listing what there is", async () => {
    const here = RUNTIME;
    const available = here === "node" ? "node" : `${here}, node`;
    const other = here === "bun" ? "deno" : "bun";
    const r = await runCli(["bench", "--sockets", other]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `tunnel: --sockets: "${other}" is not a socket adapter on ${here}; expected one of: ${available}`,
    );
  });

  it("--serve-target runs a bench target until SIGTERM", async () => {
    const [command, argv] = cliCommand(["bench", "--serve-target", "0"]);
    const child = spawn(command, argv, {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const addr = await new Promise<string>((resolve, reject) => {
      child.stdout.once("data", (d) => resolve(String(d).trim()));
      child.once("exit", (code) => reject(new Error(`exited with ${code}`)));
    });
    expect(addr).toMatch(/^127\.0\.0\.1:\d+$/);
    const code = await new Promise<number | null>((resolve) => {
      child.once("exit", (c) => resolve(c));
      sendSignal(child, "SIGTERM");
    });
    expect(code).toBe(0);
  });
});
