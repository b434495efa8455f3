/**
 * `tunnel serve`'s forwarding policy, per-connection limits and drain, driven by an SSH client
 * in this process over loopback (issue 12, items 4, 5 and 6; issue 13, item 1): remote
 * forwarding off unless granted, privileged ports only by name, authorized_keys options with
 * sshd(8)'s meaning, channel opens waiting for their target counted against the channel cap,
 * connections not yet logged in capped; stopping lets channels finish, then disconnects.
 */
import * as net from "node:net";
import {
  ChannelOpenError,
  type Conn,
  connectClient,
  formatPublicKeyLine,
  generateEd25519,
  nobleProvider,
  OpenFailure,
  type PrivateKey,
  type SshClient,
} from "@tunnel/ssh";
import { type Runtime, runtime } from "@tunnel/ssh/runtime";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseAuthorizedKeys } from "../src/authorized-keys.ts";
import { type ForwardingServer, type ForwardingServerOptions, startForwardingServer } from "../src/serve.ts";
import { parsePortGrant } from "../src/serve-limits.ts";

const hostKey = generateEd25519(nobleProvider, "host");
const userKey = generateEd25519(nobleProvider, "user");
const keyText = formatPublicKeyLine(userKey.publicKey);

let echoPort: number;
const servers: ForwardingServer[] = [];
const clients: SshClient[] = [];

beforeAll(async () => {
  const echo = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on("error", () => {}); // a cut channel resets its target socket
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  echo.unref();
  echoPort = (echo.address() as net.AddressInfo).port;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Setup {
  server: ForwardingServer;
  log: string[];
  login(key?: PrivateKey): Promise<SshClient>;
}

/** A server whose authorized_keys holds `userKey` with `options`, allowing the echo target. */
async function serve(options: string, extra: Partial<ForwardingServerOptions> = {}): Promise<Setup> {
  const log: string[] = [];
  const warnings: string[] = [];
  const authorizedKeys = parseAuthorizedKeys(`${options ? `${options} ` : ""}${keyText}\n`, "ak", (w) =>
    warnings.push(w),
  );
  const server = await startForwardingServer("127.0.0.1", 0, {
    hostKeys: [hostKey],
    authorizedKeys,
    allow: (host, port) => host === "127.0.0.1" && port === echoPort,
    log: (l) => log.push(l),
    ...extra,
  });
  servers.push(server);
  return {
    server,
    log,
    async login(key = userKey) {
      const conn = await runtime.connect("127.0.0.1", server.listener.port);
      const client = await connectClient(conn, {
        host: "127.0.0.1",
        port: server.listener.port,
        username: "u",
        identities: [key],
        verifyHostKey: () => true,
        timeoutMs: 10_000,
      });
      clients.push(client);
      return client;
    },
  };
}

/** Opens direct-tcpip to the echo target and round-trips a few bytes; the refusal if refused. */
async function echoThrough(client: SshClient, host = "127.0.0.1", port = echoPort): Promise<string | Error> {
  try {
    const ch = await client.mux.openDirectTcpip(host, port, "127.0.0.1", 1);
    return await new Promise<string>((resolve) => {
      let got = "";
      ch.events = {
        data: (d) => {
          got += new TextDecoder().decode(d);
          ch.consumed(d.length);
        },
        eof: () => resolve(got),
        close: () => resolve(got),
      };
      ch.write(new TextEncoder().encode("ping"));
      ch.end();
    });
  } catch (err) {
    return err as Error;
  }
}

/** Asks for a remote forward; the bound port, or the refusal. */
async function remote(client: SshClient, address: string, port: number): Promise<number | Error> {
  try {
    return await client.forwardRemote(address, port, (open) => {
      const ch = open.accept();
      ch.events = { data: (d) => ch.write(d), eof: () => ch.end() };
    });
  } catch (err) {
    return err as Error;
  }
}

/** Connects to a remote-forwarded port and round-trips a few bytes through the client. */
function echoLocal(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    let got = "";
    s.on("data", (d) => {
      got += d;
    });
    s.on("end", () => {
      s.end();
      resolve(got);
    });
    s.on("error", reject);
    s.end("pong");
  });
}

describe("remote forwarding needs --allow-remote", () => {
  it("RemoteForwardRefusedByDefault: tcpip-forward is refused when no port is granted", async () => {
    const { login, log } = await serve("");
    const client = await login();
    expect(await remote(client, "127.0.0.1", 0)).toBeInstanceOf(ChannelOpenError);
    expect(await remote(client, "localhost", 18_080)).toBeInstanceOf(ChannelOpenError);
    // a library caller that names no options reads the field in the log
    expect(log).toContain("[1] refused tcpip-forward 127.0.0.1:0: remote forwarding is off (allowRemote grants ports)");
    // direct-tcpip is unaffected
    expect(await echoThrough(client)).toBe("ping");
  });

  it("the refusal names the option as the caller names it (the CLI: its flag)", async () => {
    const { login, log } = await serve("", { optionNames: { allowRemote: "--allow-remote" } });
    const client = await login();
    expect(await remote(client, "127.0.0.1", 0)).toBeInstanceOf(ChannelOpenError);
    expect(log).toContain(
      "[1] refused tcpip-forward 127.0.0.1:0: remote forwarding is off (--allow-remote grants ports)",
    );
  });

  it("RemoteForwardGranted: --allow-remote 0 lets the kernel pick a port, and connections come back", async () => {
    const { login } = await serve("", { allowRemote: parsePortGrant("0") });
    const client = await login();
    const port = await remote(client, "localhost", 0);
    expect(typeof port).toBe("number");
    expect(await echoLocal(port as number)).toBe("pong");
    // a fixed port is not granted by "0"
    expect(await remote(client, "localhost", 18_081)).toBeInstanceOf(ChannelOpenError);
  });

  it("PrivilegedPortsNeedExplicitGrant: * grants no port below 1024; naming it does", async () => {
    const { login, log } = await serve("", {
      allowRemote: parsePortGrant("*"),
      optionNames: { allowRemote: "--allow-remote" },
    });
    const client = await login();
    expect(await remote(client, "127.0.0.1", 22)).toBeInstanceOf(ChannelOpenError);
    expect(await remote(client, "127.0.0.1", 81)).toBeInstanceOf(ChannelOpenError);
    expect(log).toContain("[1] refused tcpip-forward 127.0.0.1:22: port 22 is not granted (--allow-remote *)");
    const named = await serve("", { allowRemote: parsePortGrant("*,81") });
    const c2 = await named.login();
    // Past the policy, binding 81 needs privileges the test may not have: only the refusal reason matters.
    await remote(c2, "127.0.0.1", 81);
    expect(named.log.join("\n")).not.toMatch(/refused tcpip-forward 127\.0\.0\.1:81/);
  });

  it("PermitListenPerKey: permitlisten limits the listen address and port; only * matches port 0", async () => {
    const { login, log } = await serve('permitlisten="localhost:*",permitlisten="18090"', {
      allowRemote: parsePortGrant("*"),
    });
    const client = await login();
    expect(typeof (await remote(client, "localhost", 0))).toBe("number");
    expect(await remote(client, "127.0.0.1", 0)).toBeInstanceOf(ChannelOpenError);
    expect(
      log.some((l) => /refused tcpip-forward 127\.0\.0\.1:0: not permitted by permitlisten \(ak:1\)/.test(l)),
    ).toBe(true);
  });
});

describe("authorized_keys options (sshd semantics)", () => {
  it("RestrictKeyGetsNoForwarding: neither direct-tcpip nor tcpip-forward", async () => {
    const { login, log } = await serve("restrict", { allowRemote: parsePortGrant("*") });
    const client = await login();
    const refused = await echoThrough(client);
    expect(refused).toBeInstanceOf(ChannelOpenError);
    expect((refused as ChannelOpenError).reasonCode).toBe(OpenFailure.ADMINISTRATIVELY_PROHIBITED);
    expect(await remote(client, "127.0.0.1", 0)).toBeInstanceOf(ChannelOpenError);
    expect(log.filter((l) => l.includes("port forwarding is off for this key (ak:1)"))).toHaveLength(2);
  });

  it("NoPortForwardingKeyLogsInWithoutForwarding: the key works, forwarding does not", async () => {
    const { login } = await serve("no-port-forwarding");
    const client = await login();
    expect(await echoThrough(client)).toBeInstanceOf(ChannelOpenError);
  });

  it("RestrictPortForwardingPermitOpen: forwarding back on, only to the permitted destination", async () => {
    const { login, log } = await serve(`restrict,port-forwarding,permitopen="127.0.0.1:${echoPort}"`, {
      allow: () => true,
    });
    const client = await login();
    expect(await echoThrough(client)).toBe("ping");
    expect(await echoThrough(client, "127.0.0.1", 1)).toBeInstanceOf(ChannelOpenError);
    expect(log).toContain(`[1] refused direct-tcpip to 127.0.0.1:1: not permitted by permitopen (ak:1)`);
  });

  it("PermitOpenAndAllowBothApply: a destination the key permits but --allow does not is refused", async () => {
    const { login } = await serve('permitopen="127.0.0.1:*"');
    const client = await login();
    expect(await echoThrough(client)).toBe("ping");
    expect(await echoThrough(client, "127.0.0.1", 1)).toBeInstanceOf(ChannelOpenError);
  });

  it("FromMismatchRefusesKey: a client outside from= cannot log in with the key", async () => {
    const { login, log } = await serve('from="10.0.0.0/8,!127.0.0.1"');
    await expect(login()).rejects.toThrow(/authentication failed/);
    expect(log.some((l) => /key SHA256:\S+ refused by ak:1: from= does not admit 127\.0\.0\.1/.test(l))).toBe(true);
  });

  it("FromMatchAdmitsKey: a client inside from= logs in", async () => {
    const { login } = await serve('from="127.0.0.0/8"');
    const client = await login();
    expect(await echoThrough(client)).toBe("ping");
  });

  it("ExpiredKeyRefused: expiry-time in the past refuses the key", async () => {
    const { login, log } = await serve('expiry-time="20200101Z"');
    await expect(login()).rejects.toThrow(/authentication failed/);
    expect(log.some((l) => /refused by ak:1: the key expired on 2020-01-01T00:00:00\.000Z/.test(l))).toBe(true);
  });

  it("UnexpiredKeyAdmitted: expiry-time in the future", async () => {
    const { login } = await serve('expiry-time="29991231Z"');
    expect(await echoThrough(await login())).toBe("ping");
  });

  it("UnknownKeyRefused: a key not in the file gets nothing", async () => {
    const { login } = await serve("");
    await expect(login(generateEd25519(nobleProvider))).rejects.toThrow(/authentication failed/);
  });
});

describe("limits", () => {
  it("PendingOpensCountAgainstChannelCap: 2,000 opens to a target that never answers make at most 1,024 sockets", async () => {
    const pending: ((err: Error) => void)[] = [];
    const sockets: Runtime = {
      name: "never-connects",
      listen: (host, port, onConn) => runtime.listen(host, port, onConn),
      connect: () => new Promise<Conn>((_resolve, reject) => pending.push(reject)),
    };
    const { login, server } = await serve("", { sockets, allow: () => true });
    const client = await login();
    const opens = Array.from({ length: 2000 }, (_, i) =>
      client.mux.openDirectTcpip("10.255.255.1", 1000 + i, "127.0.0.1", 1).then(
        () => "open",
        (err: Error) => (err instanceof ChannelOpenError ? `refused ${err.reasonCode}` : err.message),
      ),
    );
    // The refusals come back first: the rest wait for connects that never finish.
    const settled = new Map<string, number>();
    for (const o of opens) void o.then((v) => settled.set(v, (settled.get(v) ?? 0) + 1));
    for (let i = 0; i < 200 && (settled.get(`refused ${OpenFailure.RESOURCE_SHORTAGE}`) ?? 0) < 976; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(settled.get(`refused ${OpenFailure.RESOURCE_SHORTAGE}`)).toBe(2000 - 1024);
    expect(pending.length).toBe(1024);
    expect(server.activeChannels).toBe(1024);
    // The connects fail: every pending open is refused, and the slots come back.
    for (const reject of pending.splice(0)) reject(new Error("no route"));
    await Promise.all(opens);
    expect(settled.get(`refused ${OpenFailure.CONNECT_FAILED}`)).toBe(1024);
    expect(server.activeChannels).toBe(0);
  });

  it("MaxChannelsOption: --max-channels sets the cap", async () => {
    const pending: ((err: Error) => void)[] = [];
    const sockets: Runtime = {
      name: "never-connects",
      listen: (host, port, onConn) => runtime.listen(host, port, onConn),
      connect: () => new Promise<Conn>((_resolve, reject) => pending.push(reject)),
    };
    const { login } = await serve("", { sockets, allow: () => true, maxChannels: 3 });
    const client = await login();
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        Promise.race([
          client.mux.openDirectTcpip("h", i + 1, "o", 1).catch((e: ChannelOpenError) => e.reasonCode),
          new Promise((r) => setTimeout(() => r("pending"), 500)),
        ]),
      ),
    );
    expect(results.filter((r) => r === "pending")).toHaveLength(3);
    expect(results.filter((r) => r === OpenFailure.RESOURCE_SHORTAGE)).toHaveLength(2);
    for (const reject of pending.splice(0)) reject(new Error("no route"));
  });

  it("LoginGrace: a connection that does not log in in time is closed", async () => {
    const { server, log } = await serve("", { loginGraceMs: 300 });
    const s = net.connect(server.listener.port, "127.0.0.1");
    const closed = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      s.on("close", () => resolve(Date.now() - t0));
      s.on("error", () => {});
      s.resume();
    });
    expect(closed).toBeLessThan(5000);
    expect(log.some((l) => /\[1\] closed: authentication did not finish within 300 ms/.test(l))).toBe(true);
    expect(server.unauthenticated).toBe(0);
  });

  it("MaxStartupsDropsPastFull: with 2:100:2, a third connection not yet logged in is dropped at once", async () => {
    const { server, log, login } = await serve("", { maxStartups: { start: 2, rate: 100, full: 2 } });
    const held = [net.connect(server.listener.port, "127.0.0.1"), net.connect(server.listener.port, "127.0.0.1")];
    for (const s of held) s.on("error", () => {});
    for (let i = 0; i < 100 && server.unauthenticated < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.unauthenticated).toBe(2);
    const third = net.connect(server.listener.port, "127.0.0.1");
    const got = await new Promise<string>((resolve) => {
      let data = "";
      third.on("data", (d) => {
        data += d;
      });
      third.on("error", () => resolve(`error ${data}`));
      third.on("close", () => resolve(`closed ${data}`));
    });
    expect(got).toMatch(/^(closed|error) $/); // not even a version line
    for (let i = 0; i < 100 && !log.some((l) => l.startsWith("dropped")); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(log).toContain("dropped 1 connection(s): 2 not yet authenticated (max-startups 2)");
    // once they are gone, logging in works again
    for (const s of held) s.destroy();
    for (let i = 0; i < 100 && server.unauthenticated > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.unauthenticated).toBe(0);
    expect(await echoThrough(await login())).toBe("ping");
    expect(server.unauthenticated).toBe(0);
  });
});

describe("stopping (issue 13, item 1: serve drains like open)", () => {
  /** Opens direct-tcpip to the echo target and keeps it open. */
  async function held(client: SshClient) {
    const ch = await client.mux.openDirectTcpip("127.0.0.1", echoPort, "127.0.0.1", 1);
    ch.events = { data: (d) => ch.consumed(d.length) };
    return ch;
  }

  function closedWith(client: SshClient): Promise<string> {
    return new Promise((resolve) => client.onceClosed((err) => resolve(err?.message ?? "clean")));
  }

  it("DrainWithNothingOpen: resolves at once, and the port no longer takes connections", async () => {
    const { server } = await serve("");
    // No clock: waiting out the 30 s grace would overrun the test's own timeout (20 s).
    expect(await server.drain(30_000)).toEqual({ clients: 0, channels: 0 });
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(server.listener.port, "127.0.0.1");
      s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      s.on("close", () => resolve("closed"));
    });
    expect(["ECONNREFUSED", "closed", "ECONNRESET"]).toContain(refused);
  });

  it("DrainLetsChannelsFinish: no new channels or remote forwards; the client is disconnected once its channel closes", async () => {
    const { server, login, log } = await serve("", { allowRemote: parsePortGrant("0") });
    const client = await login();
    const idle = await login();
    const bound = await remote(client, "localhost", 0);
    expect(typeof bound).toBe("number");
    const ch = await held(client);
    const idleClosed = closedWith(idle);
    const clientClosed = closedWith(client);
    expect(server.activeChannels).toBe(1);
    const drained = server.drain(30_000);
    // a logged-in client with nothing open goes at once
    expect(await idleClosed).toMatch(/server shutting down/);
    // nothing new on the client that stays
    expect(await echoThrough(client)).toBeInstanceOf(ChannelOpenError);
    expect(log.some((l) => /refused direct-tcpip to 127\.0\.0\.1:\d+: the server is shutting down/.test(l))).toBe(true);
    expect(await remote(client, "localhost", 0)).toBeInstanceOf(ChannelOpenError);
    const forwarded = await new Promise<string>((resolve) => {
      const s = net.connect(bound as number, "127.0.0.1");
      s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      s.on("close", () => resolve("closed"));
    });
    expect(["ECONNREFUSED", "closed", "ECONNRESET"]).toContain(forwarded);
    // the channel in progress finishes; then its client is sent DISCONNECT and the drain ends
    // (before its 30 s grace: the test's own 20 s timeout would fail it otherwise)
    ch.close();
    expect(await clientClosed).toMatch(/server shutting down/);
    expect(await drained).toEqual({ clients: 0, channels: 0 });
  });

  it("DrainGraceEnds: a channel still open when the grace period ends is cut and its client disconnected", async () => {
    const { server, login } = await serve("");
    const client = await login();
    await held(client);
    const closed = closedWith(client);
    const t0 = Date.now();
    expect(await server.drain(300)).toEqual({ clients: 1, channels: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(await closed).toMatch(/server shutting down/);
    expect(server.connections.size).toBe(0);
  });

  it("ForceStopEndsTheGraceAtOnce: a second Ctrl+C does not wait out a 30 s grace", async () => {
    const { server, login } = await serve("");
    const client = await login();
    await held(client);
    const drained = server.drain(30_000);
    await new Promise((r) => setTimeout(r, 100));
    // No clock: a drain that waited out its 30 s grace would overrun the test's 20 s timeout.
    server.forceStop();
    expect(await drained).toEqual({ clients: 1, channels: 1 });
    expect(await closedWith(client)).toMatch(/server shutting down/);
  });
});
