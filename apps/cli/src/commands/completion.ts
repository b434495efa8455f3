/** `tunnel completion bash|zsh|fish`: prints the completion script for that shell. */
import { type ArgsDef, type CommandDef, defineCommand } from "citty";
import { completionScript, SHELLS, type Shell } from "../completion.ts";
import { VERB_DESCRIPTIONS, type Verb } from "../descriptions.ts";
import { UsageError } from "../errors.ts";

/** The command, given every verb's loader (verbs.ts) to read their arguments from. */
export function completionCommand(loaders: Readonly<Record<Verb, () => Promise<CommandDef>>>) {
  return defineCommand({
    meta: { name: "completion", description: VERB_DESCRIPTIONS.completion },
    args: {
      shell: { type: "positional", required: true, description: "bash, zsh or fish" },
    },
    async run({ args }) {
      const shell = args.shell as Shell;
      if (!SHELLS.includes(shell)) throw new UsageError(`unknown shell "${args.shell}"; expected bash, zsh or fish`);
      const verbs = Object.keys(loaders) as Verb[];
      const defs = await Promise.all(verbs.map(async (v) => (await loaders[v]()).args as ArgsDef));
      const table = Object.fromEntries(verbs.map((v, i) => [v, defs[i] ?? {}])) as Record<Verb, ArgsDef>;
      process.stdout.write(completionScript(shell, table));
    },
  });
}
