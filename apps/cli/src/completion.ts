/**
 * `tunnel completion bash|zsh|fish`: a completion script written from the verbs' own argument
 * definitions, so it always offers exactly the options the validator takes (argv.ts). It
 * completes verbs, each verb's options, file names after options that take a path, the
 * choices of enum options (`--host-key-check`, `--crypto`), environment variable names as TARGETs of
 * `open` and `run`, and the command after `run … --`. The same script serves `tunnel-bun`
 * and `tunnel-deno`.
 */
import type { ArgDef, ArgsDef } from "citty";
import { VERB_DESCRIPTIONS, type Verb } from "./descriptions.ts";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

const COMMANDS = ["tunnel", "tunnel-bun", "tunnel-deno"];
/** Verbs whose arguments are names of running tunnels: completed from the state directory's records. */
const NAMED = ["info", "env", "logs", "close", "pause", "resume"];
/** sh that prints the recorded tunnels' names (state.ts: one NAME.json each). */
const TUNNEL_NAMES = `for f in "\${XDG_STATE_HOME:-$HOME/.local/state}"/tunnel/*.json; do [ -e "$f" ] && basename "$f" .json; done`;
const PATH_FLAGS = new Set(["identity", "known-hosts", "env-file", "host-key", "authorized-keys", "config"]);

interface Option {
  name: string;
  short: string | undefined;
  takesValue: boolean;
  negatable: boolean;
  description: string;
  /** An enum's values. */
  choices: readonly string[] | undefined;
}

function optionsOf(args: ArgsDef): Option[] {
  const out: Option[] = [];
  for (const [name, def] of Object.entries(args) as [string, ArgDef][]) {
    if (def.type === "positional") continue;
    const aliases = "alias" in def && def.alias !== undefined ? [def.alias].flat() : [];
    out.push({
      name,
      short: aliases.find((a) => a.length === 1),
      takesValue: def.type !== "boolean",
      negatable: def.type === "boolean",
      description: (def.description ?? "").replace(/\s+/g, " "),
      choices: def.type === "enum" ? def.options : undefined,
    });
  }
  return out;
}

/** Single-quoted for sh: `'` becomes `'\''`. */
const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function completionScript(shell: Shell, verbs: Readonly<Record<Verb, ArgsDef>>): string {
  if (shell === "bash") return bash(verbs);
  if (shell === "zsh") return zsh(verbs);
  return fish(verbs);
}

function bash(verbs: Readonly<Record<Verb, ArgsDef>>): string {
  const names = Object.keys(verbs) as Verb[];
  const cases = names.map((v) => {
    const words = optionsOf(verbs[v]).flatMap((o) => [
      `--${o.name}`,
      ...(o.short ? [`-${o.short}`] : []),
      ...(o.negatable ? [`--no-${o.name}`] : []),
    ]);
    return `    ${v}) opts=${shQuote([...words, "--help"].join(" "))} ;;`;
  });
  const all = optionsOf(Object.assign({}, ...Object.values(verbs)) as ArgsDef);
  const valued = all.filter((o) => o.takesValue);
  const pathFlags = valued.filter((o) => PATH_FLAGS.has(o.name)).flatMap((o) => flagWords(o));
  const otherValued = valued.filter((o) => !PATH_FLAGS.has(o.name) && !o.choices).flatMap((o) => flagWords(o));
  const choiceCases = valued
    .flatMap((o) => (o.choices ? [[o.name, o.choices] as const] : []))
    .map(
      ([flag, values]) => `    --${flag}) COMPREPLY=($(compgen -W ${shQuote(values.join(" "))} -- "$cur")); return ;;`,
    );
  return `# bash completion for tunnel: \`tunnel completion bash\` (see README)
_tunnel() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} verb=\${COMP_WORDS[1]} opts="" i
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${shQuote([...names, "--help", "--version"].join(" "))} -- "$cur"))
    return
  fi
  # tunnel run … -- COMMAND: complete the command as the shell would.
  for ((i = 2; i < COMP_CWORD; i++)); do
    if [ "\${COMP_WORDS[i]}" = "--" ]; then
      if [ $((i + 1)) -eq "$COMP_CWORD" ]; then
        COMPREPLY=($(compgen -c -- "$cur"))
      else
        COMPREPLY=($(compgen -f -- "$cur"))
      fi
      return
    fi
  done
  case "$prev" in
    ${pathFlags.join("|") || "--never"}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
${choiceCases.join("\n")}
    ${otherValued.join("|") || "--never"}) return ;;
  esac
  case "$verb" in
${cases.join("\n")}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  case "$verb" in
    open | run) COMPREPLY=($(compgen -e -- "$cur")) ;;
    ${NAMED.join(" | ")}) COMPREPLY=($(compgen -W "$(${TUNNEL_NAMES})" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur")) ;;
  esac
}
complete -o default -F _tunnel ${COMMANDS.join(" ")}
`;
}

function flagWords(o: Option): string[] {
  return [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])];
}

/** zsh `_arguments` description: `[`, `]` and `:` are special there. */
const zshDesc = (s: string) => s.replace(/[[\]:\\]/g, "\\$&").replace(/'/g, `'\\''`);

function zsh(verbs: Readonly<Record<Verb, ArgsDef>>): string {
  const names = Object.keys(verbs) as Verb[];
  const described = names.map((v) => `    ${shQuote(`${v}:${VERB_DESCRIPTIONS[v].replace(/:/g, "\\:")}`)}`);
  const cases = names.map((v) => {
    const specs: string[] = [];
    for (const o of optionsOf(verbs[v])) {
      const action = PATH_FLAGS.has(o.name)
        ? ":path:_files"
        : o.choices
          ? `:${o.name}:(${o.choices.join(" ")})`
          : o.takesValue
            ? ":value: "
            : "";
      const desc = zshDesc(o.description);
      specs.push(`'--${o.name}${o.takesValue ? "=" : ""}[${desc}]${action}'`);
      if (o.short) specs.push(`'-${o.short}${o.takesValue ? "+" : ""}[${desc}]${action}'`);
      if (o.negatable) specs.push(`'--no-${o.name}[${desc}]'`);
    }
    specs.push("'(- *)--help[show the help]'");
    if (v === "open") specs.push("'*:target:_parameters'");
    if (v === "run") specs.push("'*::target or command:_tunnel_run_rest'");
    if (v === "completion") specs.push("'1:shell:(bash zsh fish)'");
    if (NAMED.includes(v)) specs.push("'*:tunnel:_tunnel_names'");
    if (v === "check" || v === "expose") specs.push("'1:destination:_hosts'");
    return `    ${v})\n      _arguments -s \\\n        ${specs.join(" \\\n        ")}\n      ;;`;
  });
  return `#compdef ${COMMANDS.join(" ")}
# zsh completion for tunnel: \`tunnel completion zsh\` (see README)
_tunnel_run_rest() {
  local i
  for ((i = 1; i < CURRENT; i++)); do
    if [[ $words[i] == -- ]]; then
      shift $i words
      (( CURRENT -= i ))
      _normal
      return
    fi
  done
  _parameters
}

_tunnel_names() {
  local -a names
  names=(\${(f)"$(sh -c '${TUNNEL_NAMES}')"})
  compadd -a names
}

_tunnel() {
  local -a verbs
  verbs=(
${described.join("\n")}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'tunnel command' verbs
    return
  fi
  local verb=$words[2]
  shift words
  (( CURRENT-- ))
  case $verb in
${cases.join("\n")}
  esac
}

_tunnel "$@"
`;
}

/** fish single-quoted string: `\\` and `'` escaped. */
const fishQuote = (s: string) => `'${s.replace(/[\\']/g, "\\$&")}'`;

function fish(verbs: Readonly<Record<Verb, ArgsDef>>): string {
  const names = Object.keys(verbs) as Verb[];
  const lines = [
    "# fish completion for tunnel: `tunnel completion fish` (see README)",
    "complete -c tunnel -f",
    ...names.map((v) => `complete -c tunnel -n __fish_use_subcommand -a ${v} -d ${fishQuote(VERB_DESCRIPTIONS[v])}`),
  ];
  for (const v of names) {
    const when = `-n '__fish_seen_subcommand_from ${v}'`;
    for (const o of optionsOf(verbs[v])) {
      const short = o.short ? ` -s ${o.short}` : "";
      const value = PATH_FLAGS.has(o.name)
        ? " -r -F"
        : o.choices
          ? ` -x -a ${fishQuote(o.choices.join(" "))}`
          : o.takesValue
            ? " -x"
            : "";
      lines.push(`complete -c tunnel ${when}${short} -l ${o.name}${value} -d ${fishQuote(o.description)}`);
      if (o.negatable) lines.push(`complete -c tunnel ${when} -l no-${o.name} -d ${fishQuote(o.description)}`);
    }
  }
  lines.push(
    "complete -c tunnel -n '__fish_seen_subcommand_from open run' -a '(set -n)'",
    "complete -c tunnel -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'",
    `complete -c tunnel -n '__fish_seen_subcommand_from ${NAMED.join(" ")}' -a ${fishQuote(`(sh -c '${TUNNEL_NAMES}')`)}`,
    "complete -c tunnel-bun -w tunnel",
    "complete -c tunnel-deno -w tunnel",
    "",
  );
  return lines.join("\n");
}
