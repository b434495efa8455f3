/** The tunnel engine: what programs embed. Re-exports only. */
export * from "./algorithms.ts";
export * from "./authorized-keys.ts";
export * from "./bench/load.ts";
export * from "./bench/run.ts";
export * from "./bench/target.ts";
export * from "./check.ts";
export * from "./demo.ts";
export * from "./destination.ts";
export * from "./env.ts";
export * from "./forward.ts";
export * from "./host-keys.ts";
export * from "./identity.ts";
export * from "./known-hosts-file.ts";
export * from "./open.ts";
export * from "./serve.ts";
export * from "./target.ts";
