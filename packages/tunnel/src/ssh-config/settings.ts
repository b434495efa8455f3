/**
 * The settings gathered while ssh_config files are read, with readconf.c's precedence: the
 * first value obtained wins (the command line's before any file's), except IdentityFile and
 * CertificateFile, where every active line adds one (duplicates dropped). ProxyJump and
 * ProxyCommand mostly exclude each other (see `proxy`). Every value
 * is checked whether or not its block applies, as ssh checks it, so a typo in any block is an
 * error.
 */
import { HONOURED_KEYWORDS, type HonouredKeyword, type SettingName } from "./keywords.ts";
import {
  type AddressFamily,
  type Canonicalize,
  type JumpHop,
  parseAddressFamily,
  parseCanonicalize,
  parseFlag,
  parseInteger,
  parseJumpList,
  parsePortValue,
  parseStrictHostKeyChecking,
  parseTime,
  type StrictHostKeyChecking,
} from "./values.ts";

/** A line of a configuration file. */
export interface ConfigOrigin {
  file: string;
  /** 1-based; 0 for the command line. */
  line: number;
}

/** A line that took effect: a setting used, or a Host/Match block entered. */
export interface AppliedLine extends ConfigOrigin {
  /** The line as written, trimmed. */
  text: string;
}

/** How the connection is proxied: through jump hosts or a command. */
export type ProxySetting =
  | { kind: "jump"; hops: JumpHop[]; spec: string }
  | { kind: "command"; command: string }
  | { kind: "none" };

/** What each setting holds. */
export interface SettingValues {
  hostname: string;
  user: string;
  port: number;
  identitiesonly: boolean;
  identityagent: string;
  userknownhostsfile: string[];
  globalknownhostsfile: string[];
  stricthostkeychecking: StrictHostKeyChecking;
  hostkeyalias: string;
  serveraliveinterval: number;
  serveralivecountmax: number;
  connecttimeout: number;
  ciphers: string;
  kexalgorithms: string;
  hostkeyalgorithms: string;
  macs: string;
  pubkeyacceptedalgorithms: string;
  preferredauthentications: string;
  passwordauthentication: boolean;
  kbdinteractiveauthentication: boolean;
  batchmode: boolean;
  addressfamily: AddressFamily;
  canonicalizehostname: Canonicalize;
  ignoreunknown: string;
}

type SingleSetting = keyof SettingValues;

export interface Sourced<T> {
  value: T;
  origin: ConfigOrigin;
}

export class SettingsState {
  private readonly single = new Map<SingleSetting, Sourced<unknown>>();
  readonly identityFiles: Sourced<string>[] = [];
  readonly certificateFiles: Sourced<string>[] = [];
  /** ProxyJump as obtained (no hops: `none`). */
  private jump: Sourced<{ hops: JumpHop[]; spec: string }> | undefined;
  /** ProxyCommand as obtained; a ProxyJump with hops fills it with `none`, as ssh does. */
  private command: Sourced<string> | undefined;
  readonly applied: AppliedLine[] = [];

  get<K extends SingleSetting>(k: K): Sourced<SettingValues[K]> | undefined {
    return this.single.get(k) as Sourced<SettingValues[K]> | undefined;
  }

  value<K extends SingleSetting>(k: K): SettingValues[K] | undefined {
    return this.get(k)?.value;
  }

  /** A value from the command line: it is there first, so it wins. */
  preset<K extends SingleSetting>(k: K, value: SettingValues[K]): void {
    this.single.set(k, { value, origin: { file: "command line", line: 0 } });
  }

  presetProxy(value: ProxySetting): void {
    const origin = { file: "command line", line: 0 };
    if (value.kind === "jump") this.jump = { value: { hops: value.hops, spec: value.spec }, origin };
    this.command = { value: value.kind === "command" ? value.command : "none", origin };
  }

  /**
   * How the connection is proxied. ssh's rules: a ProxyJump with hops shuts out any later
   * ProxyCommand; `ProxyJump none` shuts out later ProxyJump lines only; any ProxyCommand
   * (`none` too) shuts out later ProxyJump lines.
   */
  get proxy(): Sourced<ProxySetting> | undefined {
    if (this.jump && this.jump.value.hops.length > 0) {
      const { hops, spec } = this.jump.value;
      return { value: { kind: "jump", hops, spec }, origin: this.jump.origin };
    }
    if (this.command && this.command.value !== "none")
      return { value: { kind: "command", command: this.command.value }, origin: this.command.origin };
    const decided = this.command ?? this.jump;
    return decided ? { value: { kind: "none" }, origin: decided.origin } : undefined;
  }

  /**
   * One honoured keyword's line: its arguments checked, then (when `active`) its value taken
   * if it is the first. Throws `RangeError` for a bad value; the caller adds file:line.
   */
  take(kw: HonouredKeyword, args: string[], rest: string, where: AppliedLine, active: boolean): void {
    const { setting, kind } = kw;
    if (kind === "command") {
      // The raw rest of the line is the command (quotes, comments and all), as in ssh.
      if (active && this.command === undefined) {
        this.command = { value: rest, origin: where };
        this.note(where);
      }
      return;
    }
    if (args.length === 0 || args[0] === "") throw new RangeError(`${kw.name} needs an argument`);
    if (kind !== "file-list" && args.length > 1)
      throw new RangeError(`${kw.name} takes one argument; extra arguments at end of line: ${args.slice(1).join(" ")}`);
    const arg = args[0]!;
    switch (kind) {
      case "accumulate": {
        if (!active) return;
        const list = setting === "identityfile" ? this.identityFiles : this.certificateFiles;
        if (list.length >= 100) throw new RangeError(`too many ${kw.name} lines (at most 100)`);
        if (list.some((e) => e.value === arg)) return;
        list.push({ value: arg, origin: where });
        this.note(where);
        return;
      }
      case "jump": {
        const hops = parseJumpList(arg);
        if (active && this.jump === undefined && this.command === undefined) {
          this.jump = { value: { hops, spec: arg }, origin: where };
          if (hops.length > 0) this.command = { value: "none", origin: where };
          this.note(where);
        }
        return;
      }
      case "file-list":
        for (const a of args) {
          if (a === "") throw new RangeError(`${kw.name} has an empty argument`);
          if (a.toLowerCase() === "none" && args.length > 1)
            throw new RangeError(`${kw.name} "none" must appear alone`);
        }
        this.set(setting as SingleSetting, [...args], where, active);
        return;
      case "agent":
        checkAgentValue(arg);
        this.set("identityagent", arg, where, active);
        return;
      default:
        this.set(setting as SingleSetting, parseSingle(kw, arg), where, active);
    }
  }

  /** Records a line that took effect (once, though the files may be read twice). */
  note(where: AppliedLine): void {
    if (!this.applied.some((a) => a.file === where.file && a.line === where.line)) this.applied.push(where);
  }

  private set(k: SingleSetting, value: unknown, where: AppliedLine, active: boolean): void {
    if (!active || this.single.has(k)) return;
    this.single.set(k, { value, origin: where });
    this.note(where);
  }
}

function parseSingle(kw: HonouredKeyword, arg: string): unknown {
  switch (kw.kind) {
    case "flag":
      return parseFlag(arg);
    case "port":
      return parsePortValue(arg);
    case "int":
      return parseInteger(arg);
    case "time":
      return parseTime(arg);
    case "strict":
      return parseStrictHostKeyChecking(arg);
    case "address-family":
      return parseAddressFamily(arg);
    case "canonicalize":
      return parseCanonicalize(arg);
    case "algorithms":
      return checkAlgorithmList(kw.name, arg);
    default:
      return arg;
  }
}

/** An algorithm list's shape: one of + - ^ at most, then comma-separated names or patterns. */
function checkAlgorithmList(name: string, arg: string): string {
  const body = /^[-+^]/.test(arg) ? arg.slice(1) : arg;
  if (body === "" || body.split(",").some((n) => n === "" || /\s/.test(n)))
    throw new RangeError(`bad ${name} list "${arg}"; expected names separated by commas`);
  return arg;
}

/** IdentityAgent: `${VAR}` must be well formed, and a legacy `$VAR` a valid name (readconf.c). */
function checkAgentValue(arg: string): void {
  for (const m of arg.matchAll(/\$\{([^}]*)(\}?)/g)) {
    if (m[2] !== "}" || m[1] === "") throw new RangeError(`invalid environment expansion in IdentityAgent "${arg}"`);
  }
  if (arg.startsWith("$") && !arg.startsWith("${") && !/^\$[A-Za-z0-9_]+$/.test(arg))
    throw new RangeError(`invalid environment variable name in IdentityAgent "${arg}"`);
}

/** The honoured keyword for a lower-cased keyword, if we honour it. */
export function honoured(keyword: string): HonouredKeyword | undefined {
  return HONOURED_KEYWORDS.get(keyword);
}

export type { SettingName };
