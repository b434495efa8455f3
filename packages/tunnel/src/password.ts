/**
 * Engine: passwords for the `password` method (RFC 4252 §8) and keyboard-interactive
 * (RFC 4256), asked where and how ssh(1) asks (sshconnect2.c userauth_passwd and
 * input_userauth_info_req, through read_passphrase: passphrase.ts has its rules):
 *
 *   - TUNNEL_PASSWORD, for scripts, is used as it is and nothing is asked (ssh has no such
 *     variable; SSH_ASKPASS with SSH_ASKPASS_REQUIRE=force works too, as for ssh);
 *   - otherwise the terminal, nothing echoed, or SSH_ASKPASS as SSH_ASKPASS_REQUIRE says;
 *     ssh's prompts: `user@host's password: `, and `(user@host) ` before a server's prompt;
 *   - keyboard-interactive: a round that asks one thing without echo is a password prompt
 *     and gets the password the same way; any other prompt (a one-time code, a question)
 *     is shown to the user and answered by them, after the round's name and instruction;
 *   - BatchMode (`prompter: false`): nothing is asked, TUNNEL_PASSWORD still answers.
 *
 * Why nothing could be asked (no terminal, askpass failed) is kept in `notes` for the failure
 * message. Each prompt is shown at most once per method, as ssh's NumberOfPasswordPrompts 1.
 */
import type { ClientAuthOptions, InfoRequest } from "@tunnel/ssh";
import { defaultPassphrasePrompter, type PassphrasePrompter } from "./passphrase.ts";

export interface PasswordOptions {
  user: string;
  /** The host as named (ssh's prompts show it). */
  host: string;
  /** A password given up front (TUNNEL_PASSWORD): used as it is, never asked for. */
  password?: string | undefined;
  /** How to ask the user: default as ssh asks; `false` never (BatchMode). */
  prompter?: PassphrasePrompter | false | undefined;
  /** PasswordAuthentication (default yes). */
  passwordAuthentication?: boolean | undefined;
  /** KbdInteractiveAuthentication (default yes). */
  kbdInteractiveAuthentication?: boolean | undefined;
  /** Where a keyboard-interactive round's name and instruction go (default stderr). */
  show?: ((text: string) => void) | undefined;
  /**
   * Why a password could not be asked for is pushed here: pass the array given to
   * `ClientAuthOptions.notes`, so that the failure message says it.
   */
  notes?: string[] | undefined;
}

export type PasswordMethods = Pick<ClientAuthOptions, "password" | "keyboardInteractive">;

/** The `password` and `keyboardInteractive` options of `ClientAuth` for these settings. */
export function passwordMethods(o: PasswordOptions): PasswordMethods {
  const notes = o.notes ?? [];
  const prompter = o.prompter === false ? undefined : (o.prompter ?? defaultPassphrasePrompter());
  const show = o.show ?? ((text: string) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`));
  const ask = (prompt: string): string | undefined => {
    if (!prompter) return undefined;
    const answer = prompter(prompt);
    const note = answer.passphrase === undefined ? `no password: ${answer.why.replace("passphrase", "password")}` : "";
    if (note && !notes.includes(note)) notes.push(note);
    return answer.passphrase;
  };
  const out: PasswordMethods = {};
  if (o.password === undefined && !prompter) return out;
  if (o.passwordAuthentication !== false) {
    out.password = async () => o.password ?? ask(`${o.user}@${o.host}'s password: `);
  }
  if (o.kbdInteractiveAuthentication !== false) {
    out.keyboardInteractive = async (q: InfoRequest) => {
      const single = q.prompts.length === 1 && q.prompts[0]?.echo === false;
      if (single && o.password !== undefined) return [o.password];
      if (!prompter) return undefined;
      if (q.name) show(q.name);
      if (q.instruction) show(q.instruction);
      const answers: string[] = [];
      for (const { prompt } of q.prompts) {
        const a = ask(`(${o.user}@${o.host}) ${prompt}`);
        if (a === undefined) return undefined;
        answers.push(a);
      }
      return answers;
    };
  }
  return out;
}
