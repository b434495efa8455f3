/** `tunnel check [user@]host[:port]`: connect, verify, authenticate, report, disconnect. */
import { type CheckReport, noneAuthWarning, runCheck } from "@tunnel/core";
import { defineCommand } from "citty";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import {
  algorithmArgs,
  algorithmOptions,
  hostKeyCheckArg,
  identityArg,
  knownHostsArg,
  routeArgs,
  verboseArg,
} from "../shared-args.ts";

export default defineCommand({
  meta: {
    name: "check",
    description: VERB_DESCRIPTIONS.check,
  },
  args: {
    destination: { type: "positional", required: true, description: "[user@]host[:port], or a Host from ssh_config" },
    ...routeArgs,
    identity: {
      ...identityArg,
      description:
        "private key file, tried before ssh_config's IdentityFile ones (default: those, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa)",
    },
    "known-hosts": knownHostsArg,
    "host-key-check": {
      ...hostKeyCheckArg,
      description: "yes | accept-new | no (default: ssh_config's StrictHostKeyChecking, else yes)",
    },
    ...algorithmArgs,
    json: { type: "boolean", description: "print one JSON object" },
    verbose: { ...verboseArg, description: "show the ssh_config lines that applied" },
  },
  async run({ args }) {
    const policy = args["host-key-check"];
    if (policy === "no")
      process.stderr.write(
        "WARNING: host key checking is OFF (--host-key-check no): anyone in the path can impersonate the server\n",
      );
    const report = await runCheck({
      destination: args.destination,
      jump: args.jump,
      sshConfig: args.config ?? true,
      identity: args.identity,
      knownHosts: args["known-hosts"],
      hostKeyCheck: policy,
      ...algorithmOptions(args),
      password: process.env.TUNNEL_PASSWORD,
      events: {
        added: (info, file) => process.stderr.write(`Added ${info.key.type} host key ${info.fingerprint} to ${file}\n`),
        unchecked: (info) =>
          policy === "no"
            ? undefined
            : process.stderr.write(
                `WARNING: accepted ${info.key.type} host key ${info.fingerprint} without checking (StrictHostKeyChecking no)\n`,
              ),
        warning: (line) => process.stderr.write(`WARNING: ${line}\n`),
        notPostQuantum: (line) => process.stderr.write(`${line}\n`),
        ...(args.verbose ? { verbose: (line: string) => process.stderr.write(`config: ${line}\n`) } : {}),
        banner: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
      },
    });
    if (report.authMethod === "none")
      process.stderr.write(`${noneAuthWarning(report.user, `${report.host}:${report.port}`)}\n`);
    process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  },
});

function formatReport(r: CheckReport): string {
  const dir = (a: { clientToServer: string; serverToClient: string }) =>
    a.clientToServer === a.serverToClient ? a.clientToServer : `${a.clientToServer} (out), ${a.serverToClient} (in)`;
  return [
    ...(r.jumps ?? []).map(
      (j) =>
        `jump host:   ${j.user}@${j.host}:${j.port} host key ${j.hostKeyAlgorithm} ${j.hostKeyFingerprint} verified`,
    ),
    `server:      ${r.host}:${r.port} ${r.serverVersion}`,
    `kex:         ${r.kex}`,
    `post-quantum: ${r.postQuantum ? "yes" : "no (traffic recorded now could be decrypted later by a quantum computer)"}`,
    `host key:    ${r.hostKeyAlgorithm} ${r.hostKeyFingerprint}`,
    `cipher:      ${dir(r.cipher)}`,
    `mac:         ${dir(r.mac)}`,
    `crypto:      ${dir(r.implementation)}`,
    `strict-kex: ${r.strictKex ? "yes" : "no (this connection is open to prefix truncation, CVE-2023-48795)"}`,
    `auth:        ${r.authMethod} as ${r.user}${r.userKey ? ` with ${r.userKey.type} ${r.userKey.fingerprint}${r.userKey.agent ? " (agent)" : ""}` : ""}`,
    "",
  ].join("\n");
}
