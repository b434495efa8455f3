/**
 * Engine: reaching a destination as ssh(1) reaches it — over TCP, over a ProxyCommand's
 * stdin/stdout (proxy-command.ts), or through jump hosts (ProxyJump, `--jump`). Each jump host
 * is a full SSH connection of our own, its host key checked under its own name and its own
 * configuration applied (destination-config.ts); the next connection runs inside one of its
 * `direct-tcpip` channels (RFC 4254 §7.2; what `ssh -W host:port` asks for). Only the first
 * link touches the network or runs a command.
 *
 * Lifetime: when the final connection ends, the jump hosts' connections are closed; when a
 * jump host's connection dies, its channel is aborted, which closes the connection inside it
 * (connection/channel-conn.ts), and so on up to the final one, whose owner sees it lost.
 */
import { type Conn, channelConn, type Runtime, type SshClient } from "@tunnel/ssh";
import { runtime } from "@tunnel/ssh/runtime";
import { type AuthIdentities, type AuthIdentityOptions, resolveAuthIdentities } from "./agent-identities.ts";
import { hostPortLabel } from "./destination.ts";
import type { ResolvedDestination } from "./destination-config.ts";
import { proxyCommandConn } from "./proxy-command.ts";

/** The caller's choices of keys, which come before each host's own configuration. */
export type IdentityFlags = Pick<
  AuthIdentityOptions,
  "identity" | "identityFiles" | "identitiesOnly" | "agent" | "sockets"
>;

/** The identities to offer one host of the chain: the caller's flags over that host's configuration. */
export function hostIdentities(o: IdentityFlags, d: ResolvedDestination): Promise<AuthIdentities> {
  return resolveAuthIdentities({
    identity: o.identity,
    identityFiles: o.identityFiles ?? d.identityFiles,
    identitiesOnly: o.identitiesOnly ?? d.identitiesOnly,
    certificateFiles: d.certificateFiles,
    user: d.user,
    agent: o.agent ?? d.agent,
    sockets: o.sockets,
  });
}

export interface ChainOptions {
  sockets?: Runtime | undefined;
  /** TCP connect timeout of the first link (the destination's ConnectTimeout, or the caller's default). */
  connectTimeoutMs?: number | undefined;
  /** TCP keepalive on the first link. */
  keepAliveMs?: number | undefined;
}

/**
 * Handshake, host key check and authentication of one host over `conn` (the caller's own
 * settings: keys, prompts, verifier…). `hop` is true for a jump host.
 */
export type ConnectOne = (d: ResolvedDestination, conn: Conn, hop: boolean) => Promise<SshClient>;

/** A jump host as messages name it: `user@host:port`, as `--jump` takes it. */
export function jumpLabel(d: ResolvedDestination): string {
  return `${d.user}@${d.host.includes(":") ? `[${d.host}]` : d.host}:${d.port}`;
}

/** Says which jump host an error came from, keeping its class and code (reconnect.ts reads them). */
function fromHop(hop: ResolvedDestination, err: unknown): unknown {
  if (err instanceof Error && !err.message.startsWith("jump host "))
    err.message = `jump host ${jumpLabel(hop)}: ${err.message}`;
  return err;
}

/** The first link: the ProxyCommand, else TCP. */
function firstLink(d: ResolvedDestination, o: ChainOptions): Promise<Conn> {
  if (d.proxyCommand !== undefined) return Promise.resolve(proxyCommandConn(d.proxyCommand, d.host, d.port));
  return (o.sockets ?? runtime).connect(d.host, d.port, {
    ...(o.connectTimeoutMs !== undefined ? { timeoutMs: o.connectTimeoutMs } : {}),
    ...(o.keepAliveMs !== undefined && o.keepAliveMs > 0 ? { keepAliveMs: o.keepAliveMs } : {}),
  });
}

/**
 * `connectOne` over `link`, closing the link if it fails: a setting refused before the
 * handshake starts (an unknown cipher name) would otherwise leave the socket open, and an
 * open socket keeps the process alive (Bun waited for sshd's LoginGraceTime).
 */
async function connectOver(
  connectOne: ConnectOne,
  d: ResolvedDestination,
  link: Conn,
  hop: boolean,
): Promise<SshClient> {
  try {
    return await connectOne(d, link, hop);
  } catch (err) {
    link.destroy();
    throw err;
  }
}

/** A channel of `via` to `to`, as a byte stream. */
async function channelTo(via: SshClient, viaDest: ResolvedDestination, to: ResolvedDestination): Promise<Conn> {
  let channel: Awaited<ReturnType<SshClient["mux"]["openDirectTcpip"]>>;
  try {
    channel = await via.mux.openDirectTcpip(to.host, to.port, "127.0.0.1", 0);
  } catch (err) {
    if (err instanceof Error)
      err.message = `cannot reach ${hostPortLabel(to.host, to.port)} from there: ${err.message}`;
    throw fromHop(viaDest, err);
  }
  return channelConn(channel, to.host, to.port, `connection to jump host ${jumpLabel(viaDest)} lost`);
}

/**
 * Connects to `dest` through its jump hosts (`dest.jumps`), each with `connectOne`. Returns
 * the final connection; the jump hosts' connections close when it does. On failure whatever
 * was connected is closed again, and a jump host's error names it.
 */
export async function connectChain(
  dest: ResolvedDestination,
  o: ChainOptions,
  connectOne: ConnectOne,
): Promise<{ client: SshClient; hops: SshClient[] }> {
  const hops: SshClient[] = [];
  const closeHops = (why: string) => {
    for (const h of hops.slice().reverse()) h.close(why);
  };
  try {
    let conn: Conn | undefined;
    for (const [i, hop] of dest.jumps.entries()) {
      let client: SshClient;
      try {
        client = await connectOver(connectOne, hop, conn ?? (await firstLink(hop, o)), true);
      } catch (err) {
        throw fromHop(hop, err);
      }
      hops.push(client);
      conn = await channelTo(client, hop, dest.jumps[i + 1] ?? dest);
    }
    const client = await connectOver(connectOne, dest, conn ?? (await firstLink(dest, o)), false);
    client.onceClosed(() => closeHops("the connection through this jump host ended"));
    return { client, hops };
  } catch (err) {
    closeHops("the connection through this jump host failed");
    throw err;
  }
}
