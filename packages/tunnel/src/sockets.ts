/**
 * Socket adapters by name, for the `--sockets` option: this runtime's own (the default) or,
 * on Bun and Deno, their `node:net` compatibility layer (`node`) — which the benchmark
 * compares.
 */
import { type Runtime, runtime, runtimes } from "@tunnel/ssh/runtime";

/** A socket adapter by name (`node`, `bun`, `deno`); this runtime's own when `name` is absent. */
export function socketAdapter(name: string | undefined): Runtime {
  if (name === undefined) return runtime;
  const found = runtimes[name];
  if (!found)
    throw new TypeError(
      `--sockets: "${name}" is not a socket adapter on ${runtime.name}; expected one of: ${Object.keys(runtimes).join(", ")}`,
    );
  return found;
}
