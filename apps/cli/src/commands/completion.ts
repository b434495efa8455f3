/** `tunnel completion bash|zsh|fish`: prints the completion script for that shell. */
import { type ArgsDef, defineCommand } from "citty";
import { completionScript, SHELLS, type Shell } from "../completion.ts";
import { UsageError } from "../errors.ts";
import { VERB_DESCRIPTIONS, VERB_LOADERS, type Verb } from "../verbs.ts";

export default defineCommand({
  meta: { name: "completion", description: VERB_DESCRIPTIONS.completion },
  args: {
    shell: { type: "positional", required: true, description: "bash, zsh or fish" },
  },
  async run({ args }) {
    const shell = args.shell as Shell;
    if (!SHELLS.includes(shell)) throw new UsageError(`unknown shell "${args.shell}"; expected bash, zsh or fish`);
    const verbs = Object.keys(VERB_LOADERS) as Verb[];
    const defs = await Promise.all(verbs.map(async (v) => (await VERB_LOADERS[v]()).args as ArgsDef));
    const table = Object.fromEntries(verbs.map((v, i) => [v, defs[i] ?? {}])) as Record<Verb, ArgsDef>;
    process.stdout.write(completionScript(shell, table));
  },
});
