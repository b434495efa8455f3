/**
 * Socket adapters by name, for the `sockets` option (AlgorithmOptions) given as text: this runtime's own (the default) or,
 * on Bun and Deno, their `node:net` compatibility layer (`node`) — which the benchmark
 * compares.
 */
import { type Runtime, runtime, runtimes } from "@tunnel/ssh/runtime";
import { type OptionNames, optionName } from "./option-names.ts";

/**
 * A socket adapter by name (`node`, `bun`, `deno`); this runtime's own when `name` is absent.
 * An unknown name is an error naming the option as `names` says (option-names.ts).
 */
export function socketAdapter(name: string | undefined, names?: OptionNames): Runtime {
  if (name === undefined) return runtime;
  const found = runtimes[name];
  if (!found)
    throw new TypeError(
      `${optionName(names, "sockets")}: "${name}" is not a socket adapter on ${runtime.name}; expected one of: ${Object.keys(runtimes).join(", ")}`,
    );
  return found;
}
