/**
 * Check a host: connect, verify its host key against known_hosts (an unknown or changed key is
 * refused), log in, and print what was negotiated — `tunnel check` from a program.
 *
 *   node --import tsx examples/check-host.ts deploy@bastion.example.com
 *   (also `--known-hosts FILE`, default ~/.ssh/known_hosts, and `--identity FILE`)
 */
import { parseArgs } from "node:util";
import { runCheck } from "@tunnel/core";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { "known-hosts": { type: "string" }, identity: { type: "string" } },
});
const destination = positionals[0] ?? "";
try {
  const r = await runCheck({
    destination,
    knownHosts: values["known-hosts"],
    identity: values.identity,
    hostKeyCheck: "yes",
  });
  console.log(`${r.host}:${r.port} runs ${r.serverVersion}`);
  console.log(`host key: ${r.hostKeyAlgorithm} ${r.hostKeyFingerprint}, as known_hosts says`);
  console.log(`key exchange: ${r.kex}${r.postQuantum ? " (post-quantum)" : ""}; cipher: ${r.cipher.clientToServer}`);
  console.log(`logged in as ${r.user} by ${r.authMethod}`);
} catch (err) {
  console.error(`${destination}: ${(err as Error).message}`);
  process.exitCode = 1;
}
