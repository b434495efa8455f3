/** ssh_config(5) support: what the engine uses from the parser, resolver and tokens. Re-exports only. */
export { canonicalHostName } from "./address.ts";
export { SYSTEM_CONFIG_FILE, userConfigFile } from "./files.ts";
export { MAX_JUMP_HOPS, resolveJumpChain } from "./jump.ts";
export {
  type ConfigSource,
  type HostRequest,
  type LocalContext,
  localContext,
  resolveHostConfig,
  SshConfigError,
} from "./resolve.ts";
export { type ConfigPath, expandConfigPath, proxyCommandLine, type SshHostConfig } from "./result.ts";
export type { AppliedLine, ConfigOrigin, ProxySetting } from "./settings.ts";
export { connectionHash, expandTilde, expandTokens, FILE_TOKENS, type TokenValues, tokenLookup } from "./tokens.ts";
export {
  type AddressFamily,
  type JumpHop,
  parseJumpHop,
  parseJumpList,
  parseTime,
  type StrictHostKeyChecking,
} from "./values.ts";
