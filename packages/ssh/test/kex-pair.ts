/**
 * Test helper: our client transport against our server transport over an in-memory pair, with
 * the key exchange methods each side offers chosen, and the bytes each side sent recorded.
 */

import type { DhGroup } from "../src/algorithms/dh-groups.ts";
import type { KexConn, KexMagics } from "../src/algorithms/kex-method.ts";
import { DEFAULT_ALGORITHMS } from "../src/client.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import { type RandomSource, systemRandom } from "../src/crypto/provider.ts";
import { generateEd25519 } from "../src/keys/generate.ts";
import { parsePublicKeyBlob } from "../src/keys/public-key.ts";
import type { PrivateKey } from "../src/keys/types.ts";
import { memoryPair } from "../src/runtime/memory.ts";
import { Transport, type TransportOptions } from "../src/transport/transport.ts";
import { MSG } from "../src/wire/messages.ts";

export const pairHostKey = generateEd25519(nobleProvider);

export interface Side {
  t: Transport;
  closed: Promise<Error | undefined>;
  kexDone: Promise<void>;
}

function side(
  role: "client" | "server",
  conn: ReturnType<typeof memoryPair>[0],
  kex: readonly string[],
  random: RandomSource,
  over: Partial<TransportOptions>,
): Side {
  let closeResolve!: (e?: Error) => void;
  let kexResolve!: () => void;
  const closed = new Promise<Error | undefined>((r) => {
    closeResolve = r;
  });
  const kexDone = new Promise<void>((r) => {
    kexResolve = r;
  });
  const t = new Transport({
    role,
    conn,
    algorithms: { ...DEFAULT_ALGORITHMS, kex },
    provider: nobleProvider,
    random,
    host: "pair",
    port: 22,
    ...(role === "client" ? { verifyHostKey: () => true } : { hostKeys: [pairHostKey] as PrivateKey[] }),
    onMessage: () => true,
    onClose: (e) => closeResolve(e),
    onKexDone: () => kexResolve(),
    ...over,
  });
  return { t, closed, kexDone };
}

/** Runs the first key exchange between our two sides; resolves when both are done (or one closed). */
export async function kexPair(
  clientKex: readonly string[],
  serverKex: readonly string[],
  options: { random?: RandomSource; server?: Partial<TransportOptions>; client?: Partial<TransportOptions> } = {},
): Promise<{ client: Side; server: Side; error: Error | undefined }> {
  const [a, b] = memoryPair();
  const random = options.random ?? systemRandom;
  const client = side("client", a, clientKex, random, options.client ?? {});
  const server = side("server", b, serverKex, random, options.server ?? {});
  client.t.start();
  server.t.start();
  const done = Promise.all([client.kexDone, server.kexDone]).then(() => undefined);
  const failed = Promise.race([client.closed, server.closed]);
  const error = await Promise.race([done, failed]);
  return { client, server, error };
}

/** Two KexConns joined to each other, as a client and a server; every message sent is recorded. */
export function linkedConns(
  random: { client: RandomSource; server: RandomSource },
  dhGroups: readonly DhGroup[] = [],
  needBits = 256,
) {
  const magics: KexMagics = {
    clientVersion: "SSH-2.0-test_client",
    serverVersion: "SSH-2.0-test_server",
    clientKexInit: Uint8Array.of(MSG.KEXINIT, 1, 2, 3),
    serverKexInit: Uint8Array.of(MSG.KEXINIT, 4, 5, 6),
  };
  const sent: { from: "client" | "server"; payload: Uint8Array }[] = [];
  const inbox = { client: [] as Uint8Array[], server: [] as Uint8Array[] };
  const waiting: { client?: (m: Uint8Array) => void; server?: (m: Uint8Array) => void } = {};
  const make = (role: "client" | "server"): KexConn => {
    const other = role === "client" ? "server" : "client";
    return {
      role,
      provider: nobleProvider,
      random: random[role],
      magics,
      hostKeyAlgorithm: "ssh-ed25519",
      needBits,
      dhGroups,
      send: (m) => {
        sent.push({ from: role, payload: m });
        const w = waiting[other];
        if (w) {
          waiting[other] = undefined;
          w(m);
        } else inbox[other].push(m);
      },
      next: () => {
        const m = inbox[role].shift();
        if (m) return Promise.resolve(m);
        return new Promise((resolve) => {
          waiting[role] = resolve;
        });
      },
      checkHostKey: (ks) => parsePublicKeyBlob(ks),
      hostKeyBlob: () => pairHostKey.publicKey.blob,
      sign: (h) => pairHostKey.sign(h, "ssh-ed25519"),
    };
  };
  return { client: make("client"), server: make("server"), sent, magics };
}
