/**
 * Replays recorded sessions with OpenSSH (transcript.ts; recorded by
 * test/harness/record-kex-transcripts.ts against an OpenSSH built for it, whose version each
 * file names): our side, given the recorded seed, must write exactly the bytes it wrote then
 * and complete the key exchange and authentication against the peer's recorded bytes. Needs
 * no OpenSSH: it runs under every runtime.
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { fromBase64, ReplayConn, runOurClient, runOurServer, type Transcript, toBase64 } from "./transcript.ts";

const dir = new URL("./transcripts/", import.meta.url);
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort();
const load = (file: string) => JSON.parse(fs.readFileSync(new URL(file, dir), "utf8")) as Transcript;

interface Outcome {
  result?: { kex: string | undefined; method: string; user: string };
  error?: Error;
  conn: ReplayConn;
}

async function replay(t: Transcript): Promise<Outcome> {
  const conn = new ReplayConn(t.chunks);
  const run = t.ourRole === "client" ? runOurClient(conn, t) : runOurServer(conn, t);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`replay stalled: ${conn.mismatch ?? "no mismatch"}; ${JSON.stringify(conn.progress)}`));
    }, 15_000);
  });
  try {
    const result = await Promise.race([run, stalled]);
    await Promise.race([conn.closed, stalled]);
    return { result, conn };
  } catch (error) {
    return { error: error as Error, conn };
  } finally {
    clearTimeout(timer);
  }
}

describe("key exchange transcripts recorded with OpenSSH", () => {
  it("there are transcripts of both post-quantum methods and curve25519 in both roles", () => {
    const required = ["mlkem768x25519-sha256", "sntrup761x25519-sha512", "curve25519-sha256"];
    expect(files).toEqual(
      expect.arrayContaining(required.flatMap((kex) => [`client-${kex}.json`, `server-${kex}.json`])),
    );
  });

  for (const file of files) {
    const t = load(file);
    it(`${file}: ${t.peerVersion}, ${t.kex}, we are the ${t.ourRole}: byte for byte, logged in`, async () => {
      const { result, error, conn } = await replay(t);
      expect(error?.message).toBeUndefined();
      expect(conn.mismatch).toBeUndefined();
      expect(result).toEqual({ kex: t.kex, method: "publickey", user: t.user });
      const { written, expected, peerChunks, peerChunksDelivered } = conn.progress;
      expect(written).toBe(expected);
      expect(peerChunksDelivered).toBe(peerChunks);
    });
  }

  // Every transcript, not one sample: each must be a real check of its method and role.
  for (const file of files) {
    it(`${file} with another seed departs from the recording at once`, async () => {
      const t = load(file);
      const { result, conn } = await replay({ ...t, seed: `${t.seed} (not the recorded one)` });
      // the first difference is in our KEXINIT: its cookie comes from the randomness
      expect(conn.mismatch).toMatch(/^byte \d+ of what we wrote/);
      expect(result).toBeUndefined();
    });

    it(`${file} with one byte of the peer's key exchange message changed fails`, async () => {
      const t = load(file);
      // peer chunks: identification and KEXINIT, then its method message (the client's public
      // keys, or the server's reply with ciphertext, host key and signature)
      const method = t.chunks.flatMap((c, i) => (c.from === "peer" ? [i] : []))[1] as number;
      const data = fromBase64(t.chunks[method]?.data ?? "");
      const mid = data.length >> 1;
      data[mid] = (data[mid] as number) ^ 1;
      const chunks = t.chunks.map((c, i) => (i === method ? { from: c.from, data: toBase64(data) } : c));
      const { result, error } = await replay({ ...t, chunks });
      expect(result).toBeUndefined();
      expect(error).toBeInstanceOf(Error);
    });

    it(`${file} with one peer byte changed after the key exchange fails the login`, async () => {
      const t = load(file);
      const peerIndexes = t.chunks.flatMap((c, i) => (c.from === "peer" ? [i] : []));
      const last = peerIndexes[peerIndexes.length - 2] as number; // an encrypted packet before the close
      const data = fromBase64(t.chunks[last]?.data ?? "");
      data[data.length - 1] = (data[data.length - 1] as number) ^ 1;
      const chunks = t.chunks.map((c, i) =>
        i === last ? { from: c.from, data: btoa(String.fromCharCode(...data)) } : c,
      );
      const { result, error } = await replay({ ...t, chunks });
      expect(result).toBeUndefined();
      expect(error).toBeInstanceOf(Error);
    });
  }
});
