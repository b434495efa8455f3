/**
 * Run a forwarding server: an SSH server with no shells that lets the keys of an
 * authorized_keys file forward connections (`ssh -L`, `ssh -W`, `tunnel open`) to the
 * destinations allowed, and nothing else — `tunnel serve` from a program.
 *
 *   node --import tsx examples/forwarding-server.ts ~/.ssh/authorized_keys 127.0.0.1:5432 [PORT]
 *
 * The host key is made afresh on each run, and printed as a known_hosts line for clients;
 * `loadOrCreateHostKey` keeps one across runs, as `tunnel serve` does.
 */
import { loadAuthorizedKeys, parseAllowList, permitOpenAllows, startForwardingServer } from "@tunnel/core";
import { formatKnownHostsLine, generateEd25519, nobleProvider } from "@tunnel/ssh";

const [authorizedKeys = "", allow = "", port = "2222"] = process.argv.slice(2);
const rules = parseAllowList(allow); // host:port, comma-separated; * for any host or port
const hostKey = generateEd25519(nobleProvider);
const server = await startForwardingServer("127.0.0.1", Number(port), {
  hostKeys: [hostKey],
  authorizedKeys: loadAuthorizedKeys(authorizedKeys, (warning) => console.error(warning)),
  allow: (host, port) => permitOpenAllows(rules, host, port),
  log: (line) => console.error(line),
});
const { address, port: bound } = server.listener;
console.log(`listening on ${address}:${bound}`);
console.log(formatKnownHostsLine(address, bound, hostKey.publicKey));

// Ctrl+C: stop accepting, let open channels finish for up to 3 s, then disconnect everyone.
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => void server.drain(3000).then(() => server.close()));
