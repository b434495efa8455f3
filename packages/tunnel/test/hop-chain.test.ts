/**
 * The chain's links are closed when a host cannot be connected (hop-chain.ts): a setting
 * refused after the link opened — an unknown cipher name, found while the host's algorithms
 * are resolved — must not leave the socket open, which keeps the process alive (a Bun CI run
 * of `tunnel check --ciphers no-such-cipher` waited 30 s for it). `runCheck` runs the same
 * path as the CLI, over a runtime whose connect() hands out one end of an in-memory pair.
 */
import { type Conn, type Runtime, SshError } from "@tunnel/ssh";
import { describe, expect, it } from "vitest";
import { memoryPair } from "../../ssh/src/runtime/memory.ts";
import { runCheck } from "../src/check.ts";

/** A runtime whose connections lead to a peer that only records whether it was closed. */
function recordingSockets(): { sockets: Runtime; peers: { closed: boolean }[] } {
  const peers: { closed: boolean }[] = [];
  const sockets: Runtime = {
    name: "memory",
    async connect(): Promise<Conn> {
      const [ours, theirs] = memoryPair();
      const peer = { closed: false };
      peers.push(peer);
      const closed = () => {
        peer.closed = true;
      };
      theirs.setHandlers({ data: () => {}, drain: () => {}, end: closed, close: closed });
      return ours;
    },
    listen() {
      throw new Error("not used");
    },
  };
  return { sockets, peers };
}

describe("hop chain", () => {
  it("a host refused after its link opened (unknown cipher name) closes the link", async () => {
    const { sockets, peers } = recordingSockets();
    const err = await runCheck({
      destination: "u@bastion.test:2222",
      ciphers: "aes128-ctr,no-such-cipher@example.com",
      hostKeyCheck: "no",
      crypto: "noble",
      sockets,
      timeoutMs: 5_000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, "refused").toBeDefined();
    expect(err instanceof SshError || err instanceof Error).toBe(true);
    expect((err as Error).message).toMatch(/no-such-cipher@example\.com/);
    expect(peers.map((p) => p.closed)).toEqual(peers.map(() => true));
  });
});
