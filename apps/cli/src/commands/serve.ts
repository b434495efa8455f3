/** `tunnel serve`: a forwarding-only SSH bastion. */
import * as os from "node:os";
import * as path from "node:path";
import {
  type CryptoMode,
  findAuthorizedKey,
  loadAuthorizedKeys,
  loadIdentity,
  loadOrCreateHostKey,
  parseDestination,
  permitOpenAllows,
  startForwardingServer,
} from "@tunnel/core";
import { fingerprintSha256, nobleProvider, type PrivateKey } from "@tunnel/ssh";
import { defineCommand } from "citty";
import { algorithmArgs } from "../shared-args.ts";
import { VERB_DESCRIPTIONS } from "../verbs.ts";

export default defineCommand({
  meta: { name: "serve", description: VERB_DESCRIPTIONS.serve },
  args: {
    listen: { type: "string", description: "address:port to listen on (default 127.0.0.1:2222)" },
    "host-key": {
      type: "string",
      description: "host key file (repeatable; default: one created in the state directory)",
    },
    "authorized-keys": { type: "string", description: "authorized_keys file (default: ~/.ssh/authorized_keys)" },
    allow: { type: "string", description: "destinations clients may reach: host:port,… (* allowed for host or port)" },
    crypto: algorithmArgs.crypto,
  },
  async run({ args, rawArgs }) {
    const err = (l: string) => process.stderr.write(`${l}\n`);
    const listen = parseDestination(args.listen ?? "127.0.0.1:2222", 2222);
    if (listen.user) throw new TypeError(`--listen: expected address:port, got "${args.listen}"`);
    const hostKeyFiles = collect(rawArgs, "--host-key");
    const hostKeys: PrivateKey[] = [];
    if (hostKeyFiles.length === 0) {
      const { key, file, created } = loadOrCreateHostKey();
      hostKeys.push(key);
      err(`${created ? "Created" : "Using"} host key ${file}`);
    } else for (const f of hostKeyFiles) hostKeys.push(loadIdentity(f));
    for (const k of hostKeys) err(`Host key: ${k.type} ${fingerprintSha256(nobleProvider, k.publicKey.blob)}`);
    const akFile = args["authorized-keys"] ?? path.join(os.homedir(), ".ssh", "authorized_keys");
    const authorized = loadAuthorizedKeys(akFile, err);
    if (authorized.length === 0) err(`WARNING: no usable keys in ${akFile}: nobody can log in`);
    const allow = (args.allow ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (allow.length === 0) err("WARNING: no --allow given: every forwarding request will be refused");
    const server = await startForwardingServer(listen.host, listen.port, {
      hostKeys,
      auth: {
        publicKey: (_user, key) => (findAuthorizedKey(authorized, key) ? {} : false),
      },
      allow: (host, port, session) => {
        const key = session.auth.result?.key;
        const entry = key ? findAuthorizedKey(authorized, key) : undefined;
        return permitOpenAllows(allow, host, port) && permitOpenAllows(entry?.permitOpen, host, port);
      },
      log: err,
      crypto: args.crypto as CryptoMode | undefined,
    });
    // Signals are caught before the address is printed: whoever reads it may stop us at once.
    const stopped = new Promise<void>((resolve) => {
      const stop = () => {
        void server.close().then(resolve);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    err(`Listening on ${server.listener.address}:${server.listener.port}`);
    process.stdout.write(`${server.listener.address}:${server.listener.port}\n`);
    await stopped;
  },
});

/** Every value of a repeatable option. */
function collect(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i] as string;
    if (a === name && raw[i + 1] !== undefined) out.push(raw[++i] as string);
    else if (a.startsWith(`${name}=`)) out.push(a.slice(name.length + 1));
  }
  return out;
}
