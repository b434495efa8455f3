/**
 * Asking for a key's passphrase as ssh(1) asks (OpenSSH readpass.c; ssh(1) ENVIRONMENT):
 * the route table SSH_ASKPASS_REQUIRE × DISPLAY × terminal, askpass programs (prompt as the
 * argument, first line of output, a failing program is no passphrase), no hang without a
 * terminal, and the terminal itself — a real pseudo-terminal made by script(1) — with nothing
 * echoed, backspace and Ctrl-U honoured, Ctrl-D and an empty line giving up.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_ASKPASS, passphraseRoute, readPassphrase } from "../src/passphrase.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-passphrase-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An askpass program: records its arguments, prints `output`, exits with `status`. */
function askpassScript(name: string, output: string, status = 0): { program: string; log: string } {
  const program = path.join(dir, name);
  const log = `${program}.log`;
  fs.writeFileSync(
    program,
    `#!/bin/sh\nprintf '%s\\n' "$#:$1" >> '${log}'\nprintf '%s' '${output.replace(/'/g, "'\\''")}'\nexit ${status}\n`,
    { mode: 0o700 },
  );
  return { program, log };
}
const calls = (log: string) => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").replace(/\n$/, "").split("\n") : []);

describe("where ssh asks: SSH_ASKPASS_REQUIRE, DISPLAY and the terminal", () => {
  const ask = { kind: "askpass", program: "/bin/ap" };
  const term = { kind: "terminal" };
  const none = { kind: "none" };
  // [SSH_ASKPASS_REQUIRE, DISPLAY set, terminal, expected route] — readpass.c read_passphrase.
  const table: [string | undefined, boolean, boolean, { kind: string }][] = [
    [undefined, false, false, none],
    [undefined, false, true, term],
    [undefined, true, false, ask],
    [undefined, true, true, term],
    ["prefer", true, true, ask],
    ["prefer", true, false, ask],
    ["prefer", false, true, term],
    ["prefer", false, false, none],
    ["force", false, true, ask],
    ["force", false, false, ask],
    ["force", true, true, ask],
    ["never", true, false, none],
    ["never", true, true, term],
    ["never", false, false, none],
    ["FORCE", false, true, ask],
    ["Prefer", true, true, ask],
    ["bogus", true, false, ask],
    ["bogus", true, true, term],
  ];
  it.each(table)("SSH_ASKPASS_REQUIRE=%s, DISPLAY set: %s, terminal: %s → %o", (require, display, terminal, want) => {
    const env = { SSH_ASKPASS: "/bin/ap", SSH_ASKPASS_REQUIRE: require, DISPLAY: display ? ":0" : undefined };
    expect(passphraseRoute(env, terminal)).toMatchObject(want);
  });

  it("WAYLAND_DISPLAY allows askpass as DISPLAY does; an empty DISPLAY does not", () => {
    expect(passphraseRoute({ WAYLAND_DISPLAY: "wayland-0" }, false).kind).toBe("askpass");
    expect(passphraseRoute({ DISPLAY: "" }, false).kind).toBe("none");
    expect(passphraseRoute({ DISPLAY: "", SSH_ASKPASS_REQUIRE: "prefer" }, true).kind).toBe("terminal");
  });

  it(`SSH_ASKPASS unset (or empty) runs ${DEFAULT_ASKPASS}, as ssh does`, () => {
    expect(passphraseRoute({ SSH_ASKPASS_REQUIRE: "force" }, false)).toEqual({
      kind: "askpass",
      program: DEFAULT_ASKPASS,
    });
    expect(passphraseRoute({ SSH_ASKPASS_REQUIRE: "force", SSH_ASKPASS: "" }, false)).toEqual({
      kind: "askpass",
      program: DEFAULT_ASKPASS,
    });
  });

  it("no route says why, naming the way to supply a passphrase from a program", () => {
    const r = passphraseRoute({}, false);
    expect(r.kind === "none" && r.why).toMatch(/no terminal .*SSH_ASKPASS_REQUIRE=force/);
  });
});

describe("askpass programs", () => {
  const noTerminal = path.join(dir, "no-such-tty");

  it("gets the prompt as its one argument; its output up to CR or LF is the passphrase", () => {
    const a = askpassScript("first-line", "s3cret\r\nsecond line\n");
    const r = readPassphrase("Enter passphrase for key 'k': ", {
      env: { SSH_ASKPASS: a.program, SSH_ASKPASS_REQUIRE: "force" },
      ttyPath: noTerminal,
    });
    expect(r).toEqual({ passphrase: "s3cret" });
    expect(calls(a.log)).toEqual(["1:Enter passphrase for key 'k': "]);
  });

  it("a non-zero exit is no passphrase, whatever it printed", () => {
    const a = askpassScript("cancel", "printed anyway\n", 1);
    const r = readPassphrase("p", {
      env: { SSH_ASKPASS: a.program, SSH_ASKPASS_REQUIRE: "force" },
      ttyPath: noTerminal,
    });
    expect(r).toEqual({ passphrase: undefined, why: `the askpass program ${a.program} exited with status 1` });
  });

  it("an empty answer is no passphrase", () => {
    const a = askpassScript("empty", "\n");
    const r = readPassphrase("p", {
      env: { SSH_ASKPASS: a.program, SSH_ASKPASS_REQUIRE: "force" },
      ttyPath: noTerminal,
    });
    expect(r.passphrase).toBeUndefined();
  });

  it("a program that does not exist is no passphrase, said in one line", () => {
    const program = path.join(dir, "missing-askpass");
    const r = readPassphrase("p", { env: { SSH_ASKPASS: program, SSH_ASKPASS_REQUIRE: "force" }, ttyPath: noTerminal });
    expect(r.passphrase).toBeUndefined();
    expect(r.passphrase === undefined && r.why).toMatch(
      new RegExp(`^the askpass program ${program} did not run: .*ENOENT`),
    );
  });

  it("without a terminal and without DISPLAY, SSH_ASKPASS alone is not used (ssh needs DISPLAY or REQUIRE)", () => {
    const a = askpassScript("unused", "x\n");
    const r = readPassphrase("p", { env: { SSH_ASKPASS: a.program }, ttyPath: noTerminal });
    expect(r.passphrase).toBeUndefined();
    expect(calls(a.log)).toEqual([]);
  });
});

/** The repository root, for running the helper with this runtime. */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const RUNTIME = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

/**
 * Runs readPassphrase in a child under a pseudo-terminal (script(1)), typing `keys` once the
 * prompt shows. Returns what the terminal showed and what readPassphrase returned.
 */
function onTerminal(keys: string): Promise<{ screen: string; answer: unknown }> {
  const out = path.join(dir, `answer-${Math.random().toString(36).slice(2)}.json`);
  const helper = path.join(dir, "read-on-terminal.ts");
  fs.writeFileSync(
    helper,
    `import * as fs from "node:fs";\nimport { readPassphrase } from ${JSON.stringify(path.join(ROOT, "packages/tunnel/src/passphrase.ts"))};\n` +
      `const r = readPassphrase("Enter passphrase for key 'k': ", { env: {} });\nfs.writeFileSync(${JSON.stringify(out)}, JSON.stringify(r));\n`,
  );
  const runtimeArgs =
    RUNTIME === "node" ? ["--import", "tsx", helper] : RUNTIME === "deno" ? ["run", "-A", helper] : [helper];
  const command = [process.execPath, ...runtimeArgs].map((a) => `'${a}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let screen = "";
    let typed = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      screen += s;
      if (!typed && screen.includes("Enter passphrase for key 'k': ")) {
        typed = true;
        child.stdin.write(keys);
      }
    });
    child.once("error", reject);
    child.once("close", () => {
      clearTimeout(timer);
      child.stdin.destroy();
      if (!fs.existsSync(out)) return reject(new Error(`no answer; the terminal showed:\n${screen}`));
      resolve({ screen, answer: JSON.parse(fs.readFileSync(out, "utf8")) });
    });
  });
}

describe("the terminal (a pseudo-terminal from script(1))", () => {
  it("reads a line with nothing echoed; the prompt starts its own line", async () => {
    const { screen, answer } = await onTerminal("hunter2 is my passphrase\r");
    expect(answer).toEqual({ passphrase: "hunter2 is my passphrase" });
    expect(screen).toContain("\rEnter passphrase for key 'k': ");
    expect(screen).not.toContain("hunter2");
  });

  it("backspace erases a character (a whole UTF-8 one); Ctrl-U erases the line", async () => {
    const { answer } = await onTerminal("wrong\x15pässx\x7f\x7f\x7fsswörd\x08\x08rd\r");
    expect(answer).toEqual({ passphrase: "pässwörd" });
  });

  it("an empty line is no passphrase", async () => {
    expect((await onTerminal("\r")).answer).toEqual({ passphrase: undefined, why: "no passphrase was given" });
  });

  it("Ctrl-D on an empty line is no passphrase", async () => {
    expect((await onTerminal("\x04")).answer).toEqual({
      passphrase: undefined,
      why: "no passphrase was given (end of input)",
    });
  });
});
