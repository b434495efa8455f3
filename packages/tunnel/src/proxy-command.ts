/**
 * Engine: ProxyCommand (ssh_config(5)). The command line (its tokens already expanded by the
 * configuration, ssh-config/result.ts `proxyCommandLine`) runs through `sh -c`, as ssh runs it
 * (sshconnect.c: `exec $SHELL -c`, with /bin/sh where we do not read SHELL), and the SSH
 * connection runs over its stdin and stdout; its stderr is ours, so what it says reaches the
 * user. The child is killed when the connection ends. node:child_process exists on Node, Bun
 * and Deno alike, so this lives here rather than in the protocol package's runtime adapters.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import type { Conn, ConnHandlers } from "@tunnel/ssh";

const noop = () => {};

/** How the command ended, for the error that says the connection is gone. */
function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with status ${code ?? "unknown"}`;
}

class ProxyCommandConn implements Conn {
  private handlers: ConnHandlers = { data: noop, drain: noop, end: noop, close: noop };
  private closed = false;
  private ended = false;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress = "proxy-command";
  readonly localPort = 0;

  constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    private readonly command: string,
    host: string,
    port: number,
  ) {
    this.remoteAddress = host;
    this.remotePort = port;
    child.stdout.on("data", (b: Buffer) => this.handlers.data(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
    child.stdin.on("drain", () => this.handlers.drain());
    // A command that exits closes its stdin under our writes (EPIPE): its exit says why.
    child.stdin.on("error", noop);
    child.stdout.on("error", noop);
    child.on("error", (err) => this.finish(new Error(`cannot run ProxyCommand "${command}": ${err.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0 && !signal) {
        this.handlers.end();
        this.finish(undefined);
      } else this.finish(new Error(`ProxyCommand "${this.command}" ${exitText(code, signal)}`));
    });
  }

  private finish(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.kill();
    this.handlers.close(err);
  }

  private kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
  }

  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
  }

  write(data: Uint8Array): boolean {
    if (this.closed || this.ended) return false;
    // The stream may keep the chunk until it is written; the caller may reuse its buffer.
    return this.child.stdin.write(data.slice());
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.child.stdin.end();
    // The command has no reason to outlive the connection (ssh kills it too).
    this.kill();
  }

  destroy(): void {
    this.ended = true;
    this.child.stdin.destroy();
    this.kill();
  }

  reset(): void {
    this.destroy();
  }

  pause(): void {
    this.child.stdout.pause();
  }

  resume(): void {
    this.child.stdout.resume();
  }
}

/**
 * Runs `command` and returns the connection over its stdin and stdout; `host` and `port` are
 * where it leads (for messages). The command's stderr goes to ours.
 */
export function proxyCommandConn(command: string, host: string, port: number): Conn {
  const child = spawn("/bin/sh", ["-c", command], { stdio: ["pipe", "pipe", "inherit"] });
  return new ProxyCommandConn(child, command, host, port);
}
