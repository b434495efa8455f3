/**
 * @tunnel/ssh public API, by name: what a program embedding the protocol uses. Everything else
 * under src/ is internal and may change. Socket adapters come from `@tunnel/ssh/runtime`, the
 * wire encoding (for global-request payloads) from `@tunnel/ssh/wire`.
 */

// Algorithm registries keyed by wire name, default orders, negotiation.
export { CIPHERS, DEFAULT_CIPHERS, preferredCiphers } from "./algorithms/cipher.ts";
export { type DhGroup, type ModuliFile, parseModuli } from "./algorithms/dh-groups.ts";
export { CERT_HOST_KEY_ALGORITHMS, DEFAULT_HOST_KEY_ALGORITHMS, SIGNATURE_ALGORITHMS } from "./algorithms/hostkey.ts";
export { DEFAULT_KEX, isPostQuantumKex, KEX_METHODS } from "./algorithms/kex.ts";
export { DEFAULT_MACS, MACS } from "./algorithms/mac.ts";
export { selectAlgorithms } from "./algorithms/select.ts";
// User authentication: what a client logs in with, what a server lets in.
export type { ClientAuthOptions, Identity, InfoRequest } from "./auth/client.ts";
export type { ServerAuthPolicy } from "./auth/server.ts";
// The client role.
export {
  type ClientOptions,
  connectClient,
  DEFAULT_ALGORITHMS,
  type ForwardedConnection,
  type RemoteForwardHandler,
  SshClient,
} from "./client.ts";
// Channels, and a channel as a socket.
export { Channel } from "./connection/channel.ts";
export { channelConn } from "./connection/channel-conn.ts";
export { ChannelOpenError, type GlobalReply, type IncomingOpen, MAX_CHANNELS, OpenFailure } from "./connection/mux.ts";
// Crypto: the provider seam, its pure-JavaScript implementation, randomness.
export { nobleProvider } from "./crypto/noble.ts";
export { type CryptoProvider, equalBytes, type RandomSource, systemRandom } from "./crypto/provider.ts";
export { DisconnectReason, SshError, type SshErrorCode } from "./errors.ts";
// Keys: ssh-agent, OpenSSH certificates, fingerprints, generating, known_hosts, key files.
export { AgentClient, type AgentClientOptions, type AgentKey, agentIdentity, describeAgentKey } from "./keys/agent.ts";
export {
  CERT_FOREVER,
  type Certificate,
  type CertificateType,
  certificateName,
  certificateOptionValue,
  certificateProblem,
  certifiedKey,
  decodeCertificate,
  formatCertificateTime,
  isCertificateType,
  parseCertificate,
  plainName,
} from "./keys/certificate.ts";
export { fingerprintSha256 } from "./keys/fingerprint.ts";
export { generateEcdsa, generateEd25519 } from "./keys/generate.ts";
export {
  formatKnownHostsLine,
  type HostCertificateLookup,
  type HostKeyLookup,
  hostKeyChangedMessage,
  type KnownHostsEntry,
  type KnownHostsFile,
  knownHostKeyTypes,
  knownHostsName,
  lookupHostCertificate,
  lookupHostKey,
  parseKnownHosts,
} from "./keys/known-hosts.ts";
export { encodeEd25519PrivateKey } from "./keys/openssh-private-write.ts";
export { openSshPublicKeyBlob, type PrivateKeyOptions, parsePrivateKey } from "./keys/private-key.ts";
export {
  formatPublicKeyLine,
  parseAuthorizedKeysLine,
  parsePublicKeyBlob,
  parsePublicKeyLine,
  publicKeyEquals,
} from "./keys/public-key.ts";
export type { HostKeyInfo, HostKeyVerifier, KeyType, PrivateKey, PublicKey, PublicKeyType } from "./keys/types.ts";
// Sockets, as the adapters of `@tunnel/ssh/runtime` provide them.
export type { Conn, ConnectOptions, ConnHandlers, Listener, Runtime } from "./runtime/types.ts";
// The server role.
export { type ServerOptions, SshServerConnection, serveConnection } from "./server.ts";
// What a connection negotiated, and the lists it negotiates from.
export type { AlgorithmLists, TransportInfo } from "./transport/transport.ts";
// Showing text a peer chose (banners, reasons, names) safely.
export { type PeerTextOptions, peerText } from "./wire/peer-text.ts";
