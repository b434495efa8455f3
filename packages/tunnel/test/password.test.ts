/**
 * Where passwords come from (password.ts): TUNNEL_PASSWORD as given, else asked with ssh's
 * prompts; keyboard-interactive's lone no-echo prompt gets the password, other prompts go to
 * the user; BatchMode asks nothing; why nothing could be asked goes to the notes. The real
 * sshd with PAM is in test/password.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { PassphrasePrompter } from "../src/passphrase.ts";
import { passwordMethods } from "../src/password.ts";

/** A prompter answering from `answers` in turn (undefined: cannot ask), recording each prompt. */
function prompter(...answers: (string | undefined)[]): PassphrasePrompter & { asked: string[] } {
  const asked: string[] = [];
  const p = (prompt: string) => {
    asked.push(prompt);
    const a = answers.shift();
    return a === undefined ? { passphrase: undefined, why: "there is no terminal to ask on" } : { passphrase: a };
  };
  return Object.assign(p, { asked });
}

const pwPrompt = { name: "", instruction: "", prompts: [{ prompt: "Password: ", echo: false }] };

describe("passwords as ssh asks for them", () => {
  it("TUNNEL_PASSWORD is used as it is, for both methods, and nothing is asked", async () => {
    const ask = prompter();
    const m = passwordMethods({ user: "u", host: "h", password: "pw", prompter: ask });
    expect(await (m.password as () => Promise<string | undefined>)()).toBe("pw");
    expect(await m.keyboardInteractive?.(pwPrompt)).toEqual(["pw"]);
    expect(ask.asked).toEqual([]);
  });

  it("asked with ssh's prompts: `user@host's password: ` and `(user@host) ` before the server's", async () => {
    const ask = prompter("one", "two");
    const m = passwordMethods({ user: "u", host: "h", prompter: ask });
    expect(await (m.password as () => Promise<string | undefined>)()).toBe("one");
    expect(await m.keyboardInteractive?.(pwPrompt)).toEqual(["two"]);
    expect(ask.asked).toEqual(["u@h's password: ", "(u@h) Password: "]);
  });

  it("other keyboard-interactive prompts go to the user, after the round's name and instruction", async () => {
    const ask = prompter("123456");
    const shown: string[] = [];
    const m = passwordMethods({ user: "u", host: "h", password: "pw", prompter: ask, show: (t) => shown.push(t) });
    const otp = { name: "Two-factor", instruction: "Open your app", prompts: [{ prompt: "Code: ", echo: true }] };
    expect(await m.keyboardInteractive?.(otp)).toEqual(["123456"]);
    expect(shown).toEqual(["Two-factor", "Open your app"]);
    expect(ask.asked).toEqual(["(u@h) Code: "]);
  });

  it("BatchMode without TUNNEL_PASSWORD: neither method is offered", () => {
    expect(passwordMethods({ user: "u", host: "h", prompter: false })).toEqual({});
  });

  it("PasswordAuthentication no and KbdInteractiveAuthentication no each leave their method out", () => {
    const both = { user: "u", host: "h", password: "pw" };
    expect(Object.keys(passwordMethods({ ...both, passwordAuthentication: false }))).toEqual(["keyboardInteractive"]);
    expect(Object.keys(passwordMethods({ ...both, kbdInteractiveAuthentication: false }))).toEqual(["password"]);
  });

  it("why nothing could be asked goes to the notes, once", async () => {
    const notes: string[] = [];
    const m = passwordMethods({ user: "u", host: "h", prompter: prompter(), notes });
    expect(await m.keyboardInteractive?.(pwPrompt)).toBeUndefined();
    expect(await (m.password as () => Promise<string | undefined>)()).toBeUndefined();
    expect(notes).toEqual(["no password: there is no terminal to ask on"]);
  });
});
