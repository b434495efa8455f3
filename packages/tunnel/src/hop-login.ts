/**
 * Engine: logging in to one host of a chain (hop-chain.ts), as `runCheck` and `TunnelSession`
 * both do it — the algorithms (the caller's, over the host's ssh_config), the identities (the
 * caller's keys, or its flags over the host's configuration), the password methods and the
 * host key check, around one `connectClient`. What differs between the two (the default
 * policy, whether a prompt may be shown, timeouts and keepalives) is the caller's to say.
 */
import {
  type ClientOptions,
  type Conn,
  type CryptoProvider,
  connectClient,
  type HostKeyVerifier,
  type PrivateKey,
  type SshClient,
} from "@tunnel/ssh";
import { type AlgorithmOptions, resolveAlgorithms } from "./algorithms.ts";
import { destinationVerifier, knownKeyTypesFor, type ResolvedDestination } from "./destination-config.ts";
import { hostIdentities, type IdentityFlags } from "./hop-chain.ts";
import type { HostKeyPolicy, VerifierEvents } from "./known-hosts-file.ts";
import { type OptionNames, optionName } from "./option-names.ts";
import type { PassphrasePrompter } from "./passphrase.ts";
import { passwordMethods } from "./password.ts";

/** How the CLI takes a password (README): added to an authentication failure when the server takes one. */
export const DEFAULT_PASSWORD_HINT =
  "set TUNNEL_PASSWORD, or run on a terminal (or with SSH_ASKPASS and SSH_ASKPASS_REQUIRE=force) to be asked";

/**
 * How to offer fewer keys, added to the failure when a server hung up after too many refused
 * ones (sshd's MaxAuthTries): the `identity` option (named as the caller names it) and the
 * ssh_config keywords that choose the keys.
 */
export function tooManyKeysHint(names: OptionNames | undefined): string {
  return `name the right key (${optionName(names, "identity")}, IdentityFile) and set IdentitiesOnly so that only it is offered`;
}

/** The caller's options that apply to every host of the chain. */
export interface LoginOptions extends AlgorithmOptions, IdentityFlags {
  /** A password given up front: used for password and keyboard-interactive, never asked. */
  password?: string | undefined;
  events?: VerifierEvents | undefined;
}

/** What this login, in particular, does. */
export interface LoginChoices {
  provider: CryptoProvider;
  /** How to ask for a password: `false` never (BatchMode). */
  prompter: PassphrasePrompter | false | undefined;
  passwordHint?: string | undefined;
  /** The host key policy where the host's configuration names none. */
  policy: HostKeyPolicy;
  /** Instead of known_hosts (embedders, the demo); never for a jump host. */
  verifier?: HostKeyVerifier | undefined;
  /** Keys to offer instead of loading identities (embedders, the demo). */
  keys?: readonly PrivateKey[] | undefined;
  /** The rest of the client's options: timeouts, keepalives, the banner. */
  client?: Partial<ClientOptions>;
}

/** Handshake, host key check and authentication of `d` over `conn` (`hop`: a jump host). */
export async function loginTo(
  o: LoginOptions,
  d: ResolvedDestination,
  conn: Conn,
  hop: boolean,
  c: LoginChoices,
): Promise<SshClient> {
  const algorithms = resolveAlgorithms({ ...o, ...d.algorithms }, c.provider, knownKeyTypesFor(d));
  // Resolved afresh on each (re)connect: the agent may hold other keys by now.
  const ids = c.keys ? { identities: [...c.keys], notes: [], close() {} } : await hostIdentities(o, d);
  try {
    return await connectClient(conn, {
      // The round trip lets receive windows grow on long links only (connection/window.ts).
      measureRoundTrip: true,
      ...c.client,
      host: d.host,
      port: d.port,
      username: d.user,
      identities: ids.identities,
      notes: ids.notes,
      passwordHint: c.passwordHint ?? DEFAULT_PASSWORD_HINT,
      tooManyKeysHint: tooManyKeysHint(o.optionNames),
      ...passwordMethods({
        user: d.user,
        host: d.host,
        password: o.password,
        prompter: c.prompter,
        passwordAuthentication: d.passwordAuthentication,
        notes: ids.notes,
      }),
      algorithms,
      provider: c.provider,
      verifyHostKey:
        (hop ? undefined : c.verifier) ?? destinationVerifier(d, d.hostKeyCheck ?? c.policy, o.events, o.optionNames),
    });
  } finally {
    ids.close();
  }
}
