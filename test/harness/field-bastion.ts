/**
 * The set-up the field test files against a real bastion share (test/field-closing*.test.ts,
 * test/field-link.test.ts): a temp dir, an ed25519 user key in it, an OpenSSH sshd that takes
 * that key only, and an echo target; and, after each test, the CLI processes, local sockets,
 * targets and fault relays it left behind closed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  type FaultRelay,
  makeKey,
  type Recorded,
  type Sshd,
  startEcho,
  startSshd,
  type TargetServer,
  type UserKey,
} from "@tunnel/testkit";
import { killAllCli } from "./field.ts";

export interface FieldBastion {
  dir: string;
  key: UserKey;
  sshd: Sshd;
  echo: TargetServer;
}

/** `name` names the temp dir: `tunnel-<name>-…`. */
export async function startFieldBastion(name: string): Promise<FieldBastion> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tunnel-${name}-`));
  const key = await makeKey(dir, "id", { type: "ed25519" });
  const sshd = await startSshd({ hostKeys: ["ed25519"], authorizedKeys: [key.pubLine] });
  return { dir, key, sshd, echo: await startEcho() };
}

/** What one test started and leaves to the clean-up: each list is emptied. */
export interface LeftBehind {
  sockets: Recorded[];
  targets: TargetServer[];
  relays: FaultRelay[];
}

/** After each test: every CLI process killed, then its sockets, targets and relays closed. */
export async function cleanUpAfterTest(left: LeftBehind): Promise<void> {
  await killAllCli();
  for (const s of left.sockets.splice(0)) s.socket.destroy();
  for (const t of left.targets.splice(0)) t.close();
  for (const r of left.relays.splice(0)) await r.stop();
}

/** After all: sshd stopped, the echo target closed, the temp dir removed. */
export async function stopFieldBastion(b: Partial<FieldBastion>): Promise<void> {
  await b.sshd?.stop();
  b.echo?.close();
  if (b.dir) fs.rmSync(b.dir, { recursive: true, force: true });
}
