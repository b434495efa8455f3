/**
 * @tunnel/core public API, by name: the engine a program embeds. Everything else under src/ is
 * internal and may change. The load tools behind `tunnel bench` are `@tunnel/core/bench`; the
 * protocol itself is `@tunnel/ssh`.
 */

// Connecting: crypto mode, a warning for servers that let anyone in.
export { type AlgorithmOptions, CRYPTO_MODES, type CryptoMode } from "./algorithms.ts";
export { noneAuthWarning } from "./auth-warning.ts";
// The server role's logins: authorized_keys and its permitopen rules.
export { type AuthorizedKey, loadAuthorizedKeys, parseAllowList, permitOpenAllows } from "./authorized-keys.ts";
// Check a host: connect, verify its key, log in, report.
export { type CheckOptions, type CheckReport, runCheck } from "./check.ts";
// Both roles in one process, checked end to end (`tunnel demo`).
export { type DemoReport, runDemo } from "./demo.ts";
// Bastions (`user@host:port`) and the variables targets are read from.
export { type Destination, parseDestination, parsePort } from "./destination.ts";
export { loadEnvironment } from "./env.ts";
// Expose a local port on the bastion (remote forwarding).
export { type ExposeOptions, ExposeSession } from "./expose.ts";
// Keys: the server's host key, a user's key files, what to do with an unknown host key.
export { loadHostCertificate, loadOrCreateHostKey, stateDir } from "./host-keys.ts";
export { type LoadIdentityOptions, loadIdentity } from "./identity.ts";
export { HOST_KEY_POLICIES, type HostKeyPolicy } from "./known-hosts-file.ts";
export { localUserName } from "./local-user.ts";
// Background tunnels: their records, control sockets and logs (`tunnel list`, `close`, `logs`…).
export { ask, type Surveyed, survey, surveyAll, waitForExit } from "./manager/client.ts";
export { EventLog, readLog } from "./manager/event-log.ts";
export { type HostOptions, type SecretTarget, TakenError, TunnelHost, type TunnelStatus } from "./manager/host.ts";
export {
  checkName,
  defaultName,
  ensureStateDir,
  isName,
  pathsFor,
  processAlive,
  readRecordFile,
  type TunnelRecord,
} from "./manager/state.ts";
// Open local forwards through a bastion, kept alive and reconnected.
export { type OpenedTarget, type OpenOptions, TunnelSession } from "./open.ts";
export type { OptionField, OptionNames } from "./option-names.ts";
// A command's environment pointed through its tunnels (`tunnel run`).
export { type RunTarget, resolveRunTargets, runVariables } from "./run-env.ts";
// The server role: a forwarding-only SSH server and its limits.
export {
  DEFAULT_LOGIN_GRACE_MS,
  DEFAULT_SERVE_MAX_CHANNELS,
  type ForwardingServer,
  type ForwardingServerOptions,
  startForwardingServer,
} from "./serve.ts";
export {
  DEFAULT_MAX_STARTUPS,
  formatMaxStartups,
  type MaxStartups,
  type PortGrant,
  parseMaxStartups,
  parsePortGrant,
} from "./serve-limits.ts";
// Socket adapters by name, a SOCKS5 front for `TunnelSession`.
export { socketAdapter } from "./sockets.ts";
export { socksRouter, socksTarget } from "./socks.ts";
// Targets: service URLs and `host:port`, with their passwords masked for display.
export { mask, resolveTarget, type Target } from "./target.ts";
// The server role's certificate logins (TrustedUserCAKeys).
export { loadTrustedUserCaKeys, type TrustedUserCa } from "./trusted-user-ca.ts";
