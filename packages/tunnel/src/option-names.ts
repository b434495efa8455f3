/**
 * How the engine's errors name the caller's options. The engine knows its options by their
 * fields (`ciphers`, `port`); a caller with its own names for them (the CLI's flags,
 * `--ciphers`, `--port`) passes them in `optionNames`, and the messages use those.
 */

/** The options whose errors quote them, each with the caller's name for it. */
export type OptionNames = Partial<
  Record<"kexAlgorithms" | "hostKeyAlgorithms" | "ciphers" | "macs" | "crypto" | "port", string>
>;

/** The caller's name for `field`, else the field's own. */
export function optionName(names: OptionNames | undefined, field: keyof OptionNames): string {
  return names?.[field] ?? field;
}
