/** `tunnel serve`: a forwarding-only SSH bastion. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  DEFAULT_LOGIN_GRACE_MS,
  DEFAULT_MAX_STARTUPS,
  DEFAULT_SERVE_MAX_CHANNELS,
  formatMaxStartups,
  loadAuthorizedKeys,
  loadHostCertificate,
  loadIdentity,
  loadOrCreateHostKey,
  loadTrustedUserCaKeys,
  parseAllowList,
  parseDestination,
  parseMaxStartups,
  parsePortGrant,
  permitOpenAllows,
  startForwardingServer,
} from "@tunnel/core";
import { fingerprintSha256, MAX_CHANNELS, nobleProvider, type PrivateKey } from "@tunnel/ssh";
import { defineCommand } from "citty";
import { err, exitSoon } from "../bastion.ts";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import { algorithmArgs, FLAG_NAMES } from "../shared-args.ts";
import { onInterrupt } from "../signals.ts";
import { parseCount, parseSeconds, parseSize } from "../units.ts";

export default defineCommand({
  meta: { name: "serve", description: VERB_DESCRIPTIONS.serve },
  args: {
    listen: { type: "string", description: "address:port to listen on (default 127.0.0.1:2222)" },
    "host-key": {
      type: "string",
      description: "host key file (repeatable; default: one created in the state directory)",
    },
    "host-certificate": {
      type: "string",
      description: "host certificate (ssh-keygen -s CA -h) for one of the host keys (repeatable)",
    },
    "authorized-keys": { type: "string", description: "authorized_keys file (default: ~/.ssh/authorized_keys)" },
    "trusted-user-ca-keys": {
      type: "string",
      description:
        "CA public keys whose user certificates log in (principal = login name; as sshd's TrustedUserCAKeys)",
    },
    allow: { type: "string", description: "destinations clients may reach: host:port,… (* allowed for host or port)" },
    "allow-remote": {
      type: "string",
      description:
        "ports remote forwards (ssh -R) may listen on, on loopback: 0 (kernel's choice), N, N-M, * (0 and 1024-65535), comma-separated (default: none)",
    },
    "max-channels": {
      type: "string",
      description: `channels one connection may have open or opening (default ${DEFAULT_SERVE_MAX_CHANNELS})`,
    },
    "max-startups": {
      type: "string",
      description: `connections not yet logged in: start:rate:full random early drop, as sshd's MaxStartups (default ${formatMaxStartups(DEFAULT_MAX_STARTUPS)})`,
    },
    "login-grace": {
      type: "string",
      description: `seconds a connection has to log in (default ${DEFAULT_LOGIN_GRACE_MS / 1000}; 0: no limit)`,
    },
    grace: { type: "string", description: "on Ctrl+C, seconds open channels may finish in (default 3)" },
    crypto: algorithmArgs.crypto,
    "max-window": {
      type: "string",
      description:
        "largest receive window a channel may grow to on long links (default 16M; 8M at most toward OpenSSH)",
    },
  },
  async run({ args, rawArgs }) {
    const listen = parseDestination(args.listen ?? "127.0.0.1:2222", 2222);
    if (listen.user) throw new TypeError(`--listen: expected address:port, got "${args.listen}"`);
    // Every flag is checked before anything is created or bound.
    const allow = parseAllowList(args.allow ?? "", FLAG_NAMES);
    const allowRemote =
      args["allow-remote"] === undefined ? undefined : parsePortGrant(args["allow-remote"], FLAG_NAMES);
    const maxChannels = parseCount(args["max-channels"], "--max-channels", DEFAULT_SERVE_MAX_CHANNELS);
    if (maxChannels > MAX_CHANNELS) {
      throw new RangeError(`--max-channels: ${maxChannels} is above the most a connection can hold (${MAX_CHANNELS})`);
    }
    const maxStartups =
      args["max-startups"] === undefined ? undefined : parseMaxStartups(args["max-startups"], FLAG_NAMES);
    const loginGraceMs = parseSeconds(args["login-grace"], "--login-grace", DEFAULT_LOGIN_GRACE_MS / 1000);
    const graceMs = parseSeconds(args.grace, "--grace", 3);
    const maxWindow = parseSize(args["max-window"], "--max-window", 16 * 1024 * 1024);
    const hostKeyFiles = collect(rawArgs, "--host-key");
    const hostKeys: PrivateKey[] = [];
    if (hostKeyFiles.length === 0) {
      const { key, file, created } = loadOrCreateHostKey();
      hostKeys.push(key);
      err(`${created ? "Created" : "Using"} host key ${file}`);
    } else for (const f of hostKeyFiles) hostKeys.push(loadIdentity(f));
    for (const k of hostKeys) err(`Host key: ${k.type} ${fingerprintSha256(nobleProvider, k.publicKey.blob)}`);
    const plainHostKeys = [...hostKeys];
    for (const f of collect(rawArgs, "--host-certificate")) {
      const cert = loadHostCertificate(f, plainHostKeys, err);
      hostKeys.push(cert);
      err(`Host certificate: ${cert.publicKey.type} ${f}`);
    }
    const akFile = args["authorized-keys"] ?? path.join(os.homedir(), ".ssh", "authorized_keys");
    const caFile = args["trusted-user-ca-keys"];
    // With CA keys, the default authorized_keys may be absent: certificates alone log in.
    const authorized =
      caFile !== undefined && args["authorized-keys"] === undefined && !fs.existsSync(akFile)
        ? []
        : loadAuthorizedKeys(akFile, err, Date.now(), FLAG_NAMES);
    const trustedUserCaKeys = caFile === undefined ? undefined : loadTrustedUserCaKeys(caFile, err);
    if (caFile !== undefined && trustedUserCaKeys?.length === 0) err(`WARNING: no usable CA keys in ${caFile}`);
    if (authorized.length === 0 && !trustedUserCaKeys?.length)
      err(`WARNING: no usable keys in ${akFile}: nobody can log in`);
    if (allow.length === 0) err("WARNING: no --allow given: every forwarding request will be refused");
    const server = await startForwardingServer(listen.host, listen.port, {
      hostKeys,
      authorizedKeys: authorized,
      ...(trustedUserCaKeys ? { trustedUserCaKeys } : {}),
      allow: (host, port) => permitOpenAllows(allow, host, port),
      allowRemote,
      maxChannels,
      maxWindow,
      maxStartups,
      loginGraceMs,
      log: err,
      crypto: args.crypto,
      optionNames: FLAG_NAMES,
    });
    // Signals are caught before the address is printed: whoever reads it may stop us at once.
    let stopped!: () => void;
    const done = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    const interrupts = onInterrupt(
      () => {
        const channels = server.activeChannels;
        const clients = server.connections.size;
        err(
          channels === 0
            ? `Closing: no new SSH connections; disconnecting ${clients} client(s)`
            : `Closing: no new SSH connections; waiting up to ${graceMs / 1000} s for ${channels} open channel(s) of ${clients} client(s) (Ctrl+C again to close at once)`,
        );
        void server.drain(graceMs).then((left) => {
          if (left.clients > 0) {
            err(`Disconnected ${left.clients} client(s) with ${left.channels} channel(s) still open`);
          }
          stopped();
        });
      },
      () => {
        err("Closing at once");
        server.forceStop();
      },
    );
    err(`Listening on ${server.listener.address}:${server.listener.port}`);
    process.stdout.write(`${server.listener.address}:${server.listener.port}\n`);
    await done;
    interrupts.dispose();
    // The DISCONNECTs are written; sockets still lingering must not hold the exit up.
    exitSoon(0, 300);
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
