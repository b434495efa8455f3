/**
 * The fuzz targets (issue 12, "Beyond the findings"): every decoder a peer or a local file
 * reaches, and both state machines with a scripted fake peer. Each target has a name, seeds,
 * and `run(input)`; the engine (engine.ts) gives the verdict. `bench/fuzz.ts` runs them long,
 * `test/fuzz.test.ts` briefly with a fixed seed, and replays every input in corpus/.
 */
import type { FuzzTarget } from "./engine.ts";
import { mux, userauthClient, userauthServer } from "./targets-auth.ts";
import { certificate } from "./targets-certificates.ts";
import { knownHosts, privateKey, publicKey, signature } from "./targets-keys.ts";
import { controlRequestLine, managerRecord } from "./targets-manager.ts";
import { clientSession, serverSession } from "./targets-session.ts";
import { authorizedKeys, destination, envFile, knownHostsFile, targetUrl } from "./targets-tunnel.ts";
import { kexinit, kexValue, packetCipher, packetPlain, version } from "./targets-wire.ts";

export const TARGETS: readonly FuzzTarget[] = [
  packetPlain,
  packetCipher,
  version,
  kexinit,
  kexValue,
  userauthClient,
  userauthServer,
  mux,
  publicKey,
  signature,
  certificate,
  privateKey,
  knownHosts,
  knownHostsFile,
  authorizedKeys,
  targetUrl,
  destination,
  envFile,
  managerRecord,
  controlRequestLine,
  clientSession,
  serverSession,
];

export function targetNamed(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (!t)
    throw new TypeError(`unknown fuzz target "${name}"; expected one of ${TARGETS.map((x) => x.name).join(", ")}`);
  return t;
}
