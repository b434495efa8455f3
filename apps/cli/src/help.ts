/**
 * Help text: `tunnel --help` and `tunnel <verb> --help`, written from each verb's argument
 * definitions plus what is here — the usage line, how many arguments the verb takes, the
 * environment variables it reads and examples. Colour only when the stream is a terminal,
 * `NO_COLOR` is unset or empty (no-color.org) and `TERM` is not `dumb`: help piped into a file
 * or `less` carries no escape codes.
 */
import type { ArgDef, ArgsDef } from "citty";
import type { Positionals } from "./argv.ts";
import { VERB_DESCRIPTIONS, type Verb } from "./descriptions.ts";

export const VERSION = "0.1.0";

export interface VerbHelp {
  usage: string;
  positionals: Positionals;
  /** `--` starts the command to run. */
  command?: boolean;
  env: readonly (readonly [string, string])[];
  examples: readonly (readonly [string, string])[];
}

const ALWAYS: readonly (readonly [string, string])[] = [
  ["NO_COLOR", "set (not empty): no colour in help, even on a terminal"],
  ["TUNNEL_DEBUG", "set: an error also prints its stack trace"],
];

const SSH: readonly (readonly [string, string])[] = [
  ["TUNNEL_PASSWORD", "a password to offer if the server asks for one"],
  ["SSH_AUTH_SOCK", "the ssh-agent whose keys are offered"],
  ["SSH_ASKPASS, SSH_ASKPASS_REQUIRE, DISPLAY", "how an encrypted key's passphrase is asked, as ssh asks it"],
  ["USER, LOGNAME", "the user name when the destination names none"],
  ["HOME", "~/.ssh: config, known_hosts and the default keys (id_ed25519, id_ecdsa, id_rsa)"],
];

const VIA: readonly [string, string] = ["TUNNEL_VIA", "the bastion, when --via is not given"];
const STATE: readonly [string, string] = [
  "XDG_STATE_HOME",
  "where running tunnels are recorded: $XDG_STATE_HOME/tunnel (default ~/.local/state/tunnel)",
];
const NAMES = { names: ["NAME"], min: 0, max: Number.POSITIVE_INFINITY } as const;
const TARGETS: readonly [string, string] = [
  "TARGET variables",
  "each TARGET named as a variable: from the environment, else .env in the working directory, or --env-file",
];

export const VERB_HELP: Record<Verb, VerbHelp> = {
  check: {
    usage: "tunnel check [USER@]HOST[:PORT] [options]",
    positionals: { names: ["DESTINATION"], min: 1, max: 1 },
    env: SSH,
    examples: [
      [
        "Is the bastion's host key the one known_hosts pins, and does my key get in?",
        "tunnel check deploy@bastion.example.com",
      ],
      ["Another port and key, as JSON", "tunnel check bastion.example.com:2222 -i ~/.ssh/deploy_ed25519 --json"],
    ],
  },
  open: {
    usage: "tunnel open TARGET… [--via [USER@]HOST[:PORT]] [options]",
    positionals: { names: ["TARGET"], min: 1, max: Number.POSITIVE_INFINITY },
    env: [VIA, TARGETS, STATE, ...SSH],
    examples: [
      [
        "The database in DATABASE_URL (or in ./.env), on 127.0.0.1:10000",
        "tunnel open DATABASE_URL --via deploy@bastion.example.com",
      ],
      [
        "The same in the background, named db (tunnel list, tunnel close db)",
        "tunnel open DATABASE_URL --via deploy@bastion.example.com --detach --name db",
      ],
      [
        "Two services over one connection, on 15432 and 15433",
        "TUNNEL_VIA=bastion.example.com tunnel open DATABASE_URL REDIS_URL --port 15432",
      ],
      ["A host:port, the address as JSON for a script", "tunnel open 10.0.0.12:5432 --via bastion.example.com --json"],
      [
        "A bastion reached through a jump host (as ssh -J)",
        "tunnel open DATABASE_URL --via deploy@10.0.0.2 --jump me@gateway.example.com",
      ],
    ],
  },
  run: {
    usage: "tunnel run TARGET… [--via [USER@]HOST[:PORT]] [options] -- COMMAND [ARGS…]",
    positionals: { names: ["TARGET"], min: 1, max: Number.POSITIVE_INFINITY },
    command: true,
    env: [
      VIA,
      TARGETS,
      ["(the command's)", "the command gets this environment with each TARGET variable set to its local address"],
      ...SSH,
    ],
    examples: [
      [
        "psql through the bastion; exits with psql's status",
        "tunnel run DATABASE_URL --via deploy@bastion.example.com -- psql -c 'select 1'",
      ],
      ["Migrations with both services in reach", "tunnel run DATABASE_URL REDIS_URL -- npm run migrate"],
      [
        "A host:port gets the variable named before it",
        "tunnel run CACHE=10.0.0.7:6379 -- sh -c 'redis-cli -u \"redis://$CACHE\" ping'",
      ],
    ],
  },
  expose: {
    usage: "tunnel expose [HOST:]PORT --via [USER@]HOST[:PORT] [--remote-port N] [--remote-bind ADDR] [options]",
    positionals: { names: ["[HOST:]PORT"], min: 1, max: 1 },
    env: [VIA, STATE, ...SSH],
    examples: [
      [
        "Port 3000 of this machine, reachable on the bastion at the address printed",
        "tunnel expose 3000 --via deploy@bastion.example.com",
      ],
      ["A fixed port on the bastion", "tunnel expose 127.0.0.1:8080 --via bastion.example.com --remote-port 9000"],
      [
        "In the background, named web (tunnel list, tunnel close web)",
        "tunnel expose 3000 --via bastion.example.com -d --name web",
      ],
    ],
  },
  socks: {
    usage: "tunnel socks [--port 1080] --via [USER@]HOST[:PORT] [options]",
    positionals: { names: [], min: 0, max: 0 },
    env: [VIA, ...SSH],
    examples: [
      ["A SOCKS5 proxy on 127.0.0.1:1080 into the bastion's network", "tunnel socks --via deploy@bastion.example.com"],
      ["Names resolved on the far side", "curl --socks5-hostname 127.0.0.1:1080 http://grafana.internal:3000/"],
    ],
  },
  list: {
    usage: "tunnel list [--json]",
    positionals: { names: [], min: 0, max: 0 },
    env: [STATE],
    examples: [
      ["The running tunnels, foreground and background", "tunnel list"],
      ["Each as a JSON object, for a script", "tunnel list --json | jq -r 'select(.state == \"up\") | .name'"],
    ],
  },
  info: {
    usage: "tunnel info [NAME…] [--encode]",
    positionals: NAMES,
    env: [STATE],
    examples: [
      ["Every running tunnel's addresses and counters", "tunnel info"],
      [
        "Services with their local URLs, for a program's environment",
        'export TUNNEL_SERVICES="$(tunnel info --encode)"',
      ],
      ["Read it back", "tunnel info db --encode | base64 -d | jq ."],
    ],
  },
  env: {
    usage: "tunnel env [NAME…]",
    positionals: NAMES,
    env: [STATE],
    examples: [
      ["The export lines for every running tunnel", "tunnel env"],
      ["Point DATABASE_URL (and the rest) at the tunnels, in this shell", 'eval "$(tunnel env)"'],
      ["Only the tunnel named db", 'eval "$(tunnel env db)" && psql "$DATABASE_URL" -c \'select 1\''],
    ],
  },
  logs: {
    usage: "tunnel logs NAME [-f]",
    positionals: { names: ["NAME"], min: 1, max: 1 },
    env: [STATE],
    examples: [
      ["What the tunnel named db did", "tunnel logs db"],
      ["Follow it until it ends", "tunnel logs db -f"],
    ],
  },
  close: {
    usage: "tunnel close NAME… | --all",
    positionals: NAMES,
    env: [STATE],
    examples: [
      ["Close db once its open connections finish (within its --grace)", "tunnel close db"],
      ["Close every tunnel", "tunnel close --all"],
    ],
  },
  pause: {
    usage: "tunnel pause NAME…",
    positionals: { names: ["NAME"], min: 1, max: Number.POSITIVE_INFINITY },
    env: [STATE],
    examples: [["Refuse new connections to db for a while; open ones go on", "tunnel pause db"]],
  },
  resume: {
    usage: "tunnel resume NAME…",
    positionals: { names: ["NAME"], min: 1, max: Number.POSITIVE_INFINITY },
    env: [STATE],
    examples: [["Accept connections to db again, on the same port", "tunnel resume db"]],
  },
  serve: {
    usage: "tunnel serve [--listen ADDR:PORT] [--allow HOST:PORT,…] [options]",
    positionals: { names: [], min: 0, max: 0 },
    env: [
      [
        "XDG_STATE_HOME",
        "the host key made without --host-key: $XDG_STATE_HOME/tunnel (default ~/.local/state/tunnel)",
      ],
      ["HOME", "~/.ssh/authorized_keys, the default --authorized-keys"],
    ],
    examples: [
      [
        "A bastion on port 2222 that reaches one database",
        "tunnel serve --listen 0.0.0.0:2222 --allow db.internal:5432",
      ],
      ["Remote forwards (tunnel expose, ssh -R) on ports 8000-8999", "tunnel serve --allow-remote 8000-8999"],
    ],
  },
  demo: {
    usage: "tunnel demo [--megabytes N] [--json]",
    positionals: { names: [], min: 0, max: 0 },
    env: [],
    examples: [
      ["Server, tunnel and target in one process, checked and measured", "tunnel demo"],
      ["More data, as JSON", "tunnel demo --megabytes 256 --json"],
    ],
  },
  bench: {
    usage: "tunnel bench [--via [USER@]HOST[:PORT] --target HOST:PORT] [options]",
    positionals: { names: [], min: 0, max: 0 },
    env: [["HOME", "~/.ssh: known_hosts and the default keys (with --via)"]],
    examples: [
      ["Each cipher over loopback through our own server, against direct TCP", "tunnel bench"],
      [
        "Through your bastion to a bench target behind it",
        "tunnel bench --via deploy@bastion.example.com --target 10.0.0.5:9000",
      ],
      ["The bench target, on the machine behind the bastion", "tunnel bench --serve-target 9000"],
    ],
  },
  completion: {
    usage: "tunnel completion bash|zsh|fish",
    positionals: { names: ["SHELL"], min: 1, max: 1 },
    env: [],
    examples: [
      ["bash", "tunnel completion bash > ~/.local/share/bash-completion/completions/tunnel"],
      ["zsh (into a directory of $fpath)", "tunnel completion zsh > ~/.zsh/completions/_tunnel"],
      ["fish", "tunnel completion fish > ~/.config/fish/completions/tunnel.fish"],
    ],
  },
};

/** Colour for this stream? A terminal, NO_COLOR unset or empty, TERM not dumb. */
export function useColor(
  stream: { isTTY?: boolean | undefined },
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  if (!stream.isTTY) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return env.TERM !== "dumb";
}

interface Paint {
  heading(s: string): string;
  name(s: string): string;
  dim(s: string): string;
}

function paint(color: boolean): Paint {
  const sgr = (on: number, off: number) => (s: string) => (color ? `\x1b[${on}m${s}\x1b[${off}m` : s);
  return { heading: sgr(1, 22), name: sgr(36, 39), dim: sgr(2, 22) };
}

/** What a string option takes, for the option column (an enum's `valueHint` says it itself). */
const VALUE_HINTS: Record<string, string> = {
  via: "[USER@]HOST[:PORT]",
  jump: "[USER@]HOST[:PORT],…",
  port: "N",
  bind: "ADDR",
  "env-file": "PATH",
  identity: "PATH",
  "known-hosts": "PATH",
  "kex-algorithms": "LIST",
  "host-key-algorithms": "LIST",
  ciphers: "LIST",
  macs: "LIST",
  grace: "SECONDS",
  keepalive: "SECONDS",
  "keepalive-count": "N",
  "connect-timeout": "SECONDS",
  "max-window": "SIZE",
  megabytes: "N",
  listen: "ADDR:PORT",
  "host-key": "PATH",
  "authorized-keys": "PATH",
  allow: "HOST:PORT,…",
  "allow-remote": "PORTS",
  "max-channels": "N",
  "max-startups": "START:RATE:FULL",
  "login-grace": "SECONDS",
  target: "HOST:PORT",
  "serve-target": "[ADDR:]PORT",
  sockets: "NAME",
  "remote-port": "N",
  "remote-bind": "ADDR",
  name: "NAME",
  config: "PATH",
};

function optionLabel(name: string, def: ArgDef): string {
  const aliases = "alias" in def && def.alias !== undefined ? [def.alias].flat() : [];
  const names = [...aliases.filter((a) => a.length === 1).map((a) => `-${a}`), `--${name}`];
  if (def.type === "boolean") {
    return def.default === true ? `--[no-]${name}` : names.join(", ");
  }
  const hint = def.valueHint ?? VALUE_HINTS[name] ?? "VALUE";
  return `${names.join(", ")} ${hint}`;
}

function columns(rows: readonly (readonly [string, string])[], left: (s: string) => string): string[] {
  const width = Math.min(34, Math.max(0, ...rows.map(([a]) => a.length)));
  return rows.map(([a, b]) =>
    a.length > width ? `  ${left(a)}\n  ${" ".repeat(width)}  ${b}` : `  ${left(a.padEnd(width))}  ${b}`,
  );
}

/** `tunnel <verb> --help`. */
export function renderVerbHelp(verb: Verb, args: ArgsDef, color: boolean): string {
  const p = paint(color);
  const h = VERB_HELP[verb];
  const out: string[] = [`${VERB_DESCRIPTIONS[verb]}`, "", `${p.heading("Usage:")} ${h.usage}`, ""];
  const defs = Object.entries(args) as [string, ArgDef][];
  const positional = defs.filter(([, d]) => d.type === "positional");
  if (positional.length > 0) {
    out.push(p.heading("Arguments:"));
    out.push(
      ...columns(
        positional.map(([n, d]) => [n.toUpperCase(), d.description ?? ""]),
        p.name,
      ),
      "",
    );
  }
  const options: [string, string][] = defs
    .filter(([, d]) => d.type !== "positional")
    .map(([n, d]) => [optionLabel(n, d), d.description ?? ""]);
  options.push(["-h, --help", "show this help"]);
  out.push(p.heading("Options:"), ...columns(options, p.name), "");
  const env = [...h.env, ...ALWAYS];
  out.push(p.heading("Environment:"), ...columns(env, p.name), "");
  out.push(p.heading("Examples:"));
  for (const [what, cmd] of h.examples) out.push(`  ${p.dim(`# ${what}`)}`, `  ${cmd}`);
  out.push("");
  return `${out.join("\n")}\n`;
}

/** `tunnel --help`. */
export function renderMainHelp(color: boolean): string {
  const p = paint(color);
  const rows = Object.entries(VERB_DESCRIPTIONS) as [string, string][];
  return `${[
    `SSH tunnels to private services, in pure TypeScript (tunnel v${VERSION})`,
    "",
    `${p.heading("Usage:")} tunnel COMMAND [options]`,
    "",
    p.heading("Commands:"),
    ...columns(rows, p.name),
    "",
    `${p.heading("Options:")}`,
    ...columns(
      [
        ["-h, --help", "show this help; `tunnel COMMAND --help` shows a command's options, environment and examples"],
        ["-v, --version", "print the version"],
      ],
      p.name,
    ),
    "",
    p.heading("Examples:"),
    `  ${p.dim("# A local port to the database in DATABASE_URL (or ./.env), through the bastion")}`,
    "  tunnel open DATABASE_URL --via deploy@bastion.example.com",
    `  ${p.dim("# A command with DATABASE_URL pointing through the tunnel")}`,
    "  tunnel run DATABASE_URL --via deploy@bastion.example.com -- psql -c 'select 1'",
    `  ${p.dim("# The same tunnel in the background, its URL in this shell, then closed")}`,
    "  tunnel open DATABASE_URL --via deploy@bastion.example.com --detach --name db",
    '  eval "$(tunnel env db)"; tunnel close db',
    "",
    "Exit status: 0 done, 1 failed, 2 the command line was wrong.",
    "",
  ].join("\n")}`;
}
