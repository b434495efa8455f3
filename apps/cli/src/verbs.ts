/**
 * A loader for each verb's code (descriptions.ts lists the verbs): each verb is loaded only
 * when it runs, so `tunnel --help` and `tunnel --version` load none of them.
 */
import type { CommandDef } from "citty";
import type { Verb } from "./descriptions.ts";

export { isVerb, VERB_DESCRIPTIONS, type Verb } from "./descriptions.ts";

type Loader = () => Promise<CommandDef>;

// Each loader is a literal dynamic import so that the bundler makes each verb its own chunk.
export const VERB_LOADERS: Record<Verb, Loader> = {
  check: () => import("./commands/check.ts").then((m) => m.default as CommandDef),
  open: () => import("./commands/open.ts").then((m) => m.default as CommandDef),
  run: () => import("./commands/run.ts").then((m) => m.default as CommandDef),
  expose: () => import("./commands/expose.ts").then((m) => m.default as CommandDef),
  socks: () => import("./commands/socks.ts").then((m) => m.default as CommandDef),
  list: () => import("./commands/list.ts").then((m) => m.default as CommandDef),
  info: () => import("./commands/info.ts").then((m) => m.default as CommandDef),
  env: () => import("./commands/env.ts").then((m) => m.default as CommandDef),
  logs: () => import("./commands/logs.ts").then((m) => m.default as CommandDef),
  close: () => import("./commands/close.ts").then((m) => m.default as CommandDef),
  pause: () => import("./commands/pause.ts").then((m) => m.default as CommandDef),
  resume: () => import("./commands/resume.ts").then((m) => m.default as CommandDef),
  demo: () => import("./commands/demo.ts").then((m) => m.default as CommandDef),
  bench: () => import("./commands/bench.ts").then((m) => m.default as CommandDef),
  serve: () => import("./commands/serve.ts").then((m) => m.default as CommandDef),
  // The completion script is written from every verb's arguments: it is handed these loaders.
  completion: () => import("./commands/completion.ts").then((m) => m.completionCommand(VERB_LOADERS) as CommandDef),
};
