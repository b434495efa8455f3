/**
 * Resolving a destination through ssh_config(5) files as ssh(1) does (readconf.c and
 * ssh.c): `-F FILE` alone, else ~/.ssh/config then /etc/ssh/ssh_config; each file starts
 * active; `Host` and `Match` lines switch the lines after them on or off; `Include` reads
 * other files in place (their blocks never match when the Include sits in an inactive block,
 * and they cannot change the including file's state); first value wins. HostName then gives
 * the host (`%h` expanded, lower-cased, numeric addresses canonical), and when a `Match final`
 * line (or CanonicalizeHostname) asks for it, the files are read a second time, `Host` lines
 * now matching that host and `canonical`/`final` true. We do not canonicalise through DNS.
 */
import * as os from "node:os";
import { localUserName } from "../local-user.ts";
import { type OptionNames, optionName } from "../option-names.ts";
import { canonicalHostName } from "./address.ts";
import {
  expandGlob,
  includePattern,
  MAX_INCLUDE_DEPTH,
  readConfigFile,
  SYSTEM_CONFIG_FILE,
  userConfigFile,
} from "./files.ts";
import { IGNORED_KEYWORDS } from "./keywords.ts";
import { splitArguments, splitKeyword } from "./lexer.ts";
import { evaluateMatch } from "./match.ts";
import { hostLineMatches, matchPatternList } from "./patterns.ts";
import { type SshHostConfig, settingsToConfig } from "./result.ts";
import { type ConfigOrigin, honoured, type ProxySetting, SettingsState } from "./settings.ts";
import { expandTokens, HOSTNAME_TOKENS } from "./tokens.ts";

/** A configuration error: one line, naming the file and line. */
export class SshConfigError extends TypeError {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${message}` : `${file}: ${message}`);
    this.name = "SshConfigError";
  }
}

/**
 * Who and where we are: what `~`, `%d`, `%u`, `%i`, `%l`, `Match localuser` and `${VAR}` see.
 * The home directory is $HOME (as everywhere else in tunnel, and as glob(3) expands `~` in
 * ssh's Includes); ssh itself takes `~` and `%d` from the passwd entry, which is the same
 * directory unless HOME was changed.
 */
export interface LocalContext {
  home: string;
  localUser: string;
  uid: number;
  localHostname: string;
  env: Readonly<Record<string, string | undefined>>;
}

export function localContext(): LocalContext {
  return {
    home: os.homedir(),
    localUser: localUserName(),
    uid: typeof process.getuid === "function" ? process.getuid() : 0,
    localHostname: os.hostname(),
    env: process.env,
  };
}

/** Which files to read. */
export interface ConfigSource {
  /** ssh -F: this file only (`none`: no file at all). Absent: the user's, then the system's. */
  file?: string | undefined;
  /** The system file (default /etc/ssh/ssh_config). */
  systemFile?: string | undefined;
  /** How a missing `file` names the option that gave it (`sshConfig`; option-names.ts). */
  optionNames?: OptionNames | undefined;
}

/** A destination and what the command line fixed for it (which beats every file). */
export interface HostRequest {
  /** The host as given. */
  host: string;
  user?: string | undefined;
  port?: number | undefined;
  /** A proxy given on the command line (ssh -J): the files' ProxyJump and ProxyCommand are then ignored. */
  proxy?: ProxySetting | undefined;
}

interface Pass {
  /** What `Host` lines match: the host as typed, then (second reading) the resolved host. */
  hostLineSubject: string;
  /** In the second reading, the resolved host, which `Match host` sees. */
  resolvedHost: string | undefined;
  final: boolean;
}

class Reader {
  wantsFinal = false;
  readonly files: string[] = [];
  readonly warnings: string[] = [];

  constructor(
    private readonly state: SettingsState,
    private readonly req: HostRequest,
    private readonly ctx: LocalContext,
  ) {}

  read(source: ConfigSource, pass: Pass): void {
    if (source.file !== undefined) {
      if (source.file === "none") return;
      const text = readConfigFile(source.file, false);
      if (text === undefined) {
        const option = optionName(source.optionNames, "sshConfig");
        throw new TypeError(`ssh configuration file ${source.file} does not exist (given with ${option})`);
      }
      this.readText(source.file, text, { user: true, neverMatch: false }, { value: true }, 0, pass);
      return;
    }
    const userFile = userConfigFile(this.ctx.home);
    const userText = readConfigFile(userFile, true);
    if (userText !== undefined)
      this.readText(userFile, userText, { user: true, neverMatch: false }, { value: true }, 0, pass);
    const systemFile = source.systemFile ?? SYSTEM_CONFIG_FILE;
    let systemText: string | undefined;
    try {
      systemText = readConfigFile(systemFile, false);
    } catch {
      // ssh carries on without a system file it cannot read.
      systemText = undefined;
    }
    if (systemText !== undefined)
      this.readText(systemFile, systemText, { user: false, neverMatch: false }, { value: true }, 0, pass);
  }

  private readText(
    file: string,
    text: string,
    flags: { user: boolean; neverMatch: boolean },
    active: { value: boolean },
    depth: number,
    pass: Pass,
  ): void {
    if (!this.files.includes(file)) this.files.push(file);
    const lines = text.split("\n");
    for (const [i, raw] of lines.entries()) {
      const where = { file, line: i + 1, text: raw.trim() };
      try {
        this.line(raw, where, flags, active, depth, pass);
      } catch (err) {
        if (err instanceof SshConfigError || !(err instanceof RangeError)) throw err;
        throw new SshConfigError(file, i + 1, err.message);
      }
    }
  }

  private line(
    raw: string,
    where: ConfigOrigin & { text: string },
    flags: { user: boolean; neverMatch: boolean },
    active: { value: boolean },
    depth: number,
    pass: Pass,
  ): void {
    const split = splitKeyword(raw);
    if (!split) return;
    const { keyword, rest } = split;
    if (rest === "") throw new RangeError(`no argument after keyword "${keyword}"`);
    const args = splitArguments(rest);
    switch (keyword) {
      case "host": {
        if (args.length === 0 || args.some((a) => a === "")) throw new RangeError("Host needs one or more patterns");
        active.value = !flags.neverMatch && hostLineMatches(pass.hostLineSubject, args);
        if (active.value) this.state.note(where);
        return;
      }
      case "match": {
        const outcome = evaluateMatch(rest, {
          host: pass.resolvedHost ?? this.hostnameSoFar(),
          originalHost: this.req.host,
          user: this.state.value("user") ?? this.ctx.localUser,
          localUser: this.ctx.localUser,
          final: pass.final,
        });
        if (outcome.wantsFinal) this.wantsFinal = true;
        active.value = !flags.neverMatch && outcome.matched;
        if (active.value) this.state.note(where);
        if (outcome.execDeclined !== undefined && !flags.neverMatch) {
          const w = `${where.file}:${where.line}: Match exec is not supported (we never run commands from ssh_config); this block is skipped`;
          if (!this.warnings.includes(w)) this.warnings.push(w);
        }
        return;
      }
      case "include":
        this.include(args, flags, active, depth, pass);
        return;
    }
    const kw = honoured(keyword);
    if (kw) {
      this.state.take(kw, args, rest, where, active.value);
      return;
    }
    if (IGNORED_KEYWORDS.has(keyword)) return;
    const ignore = this.state.value("ignoreunknown");
    if (ignore !== undefined && matchPatternList(keyword, ignore, true) === 1) return;
    throw new RangeError(`Bad configuration option: ${keyword}`);
  }

  private include(
    args: string[],
    flags: { user: boolean; neverMatch: boolean },
    active: { value: boolean },
    depth: number,
    pass: Pass,
  ): void {
    if (depth >= MAX_INCLUDE_DEPTH)
      throw new RangeError(`too many nested Include lines (more than ${MAX_INCLUDE_DEPTH})`);
    for (const arg of args) {
      if (arg === "") throw new RangeError("Include has an empty argument");
      const pattern = includePattern(arg, flags.user, this.ctx.home);
      const outer = active.value;
      for (const file of expandGlob(pattern)) {
        const text = readConfigFile(file, true);
        if (text === undefined) continue;
        // An Include in a block that does not apply reads the file only to check it.
        this.readText(
          file,
          text,
          { user: flags.user, neverMatch: flags.neverMatch || !outer },
          active,
          depth + 1,
          pass,
        );
        active.value = outer;
      }
    }
  }

  /** HostName as obtained so far, `%h` expanded: what `Match host` sees in the first reading. */
  private hostnameSoFar(): string {
    const hostname = this.state.get("hostname");
    if (!hostname) return this.req.host;
    try {
      return expandTokens(hostname.value, (k) => (HOSTNAME_TOKENS.includes(k) ? this.req.host : undefined));
    } catch (err) {
      throw new SshConfigError(hostname.origin.file, hostname.origin.line, (err as Error).message);
    }
  }

  /** The host to connect to after the first reading (ssh.c: HostName, then canonical form). */
  resolvedHost(): string {
    return canonicalHostName(this.hostnameSoFar());
  }
}

/**
 * The settings for `req.host`, read from `source` (default: the user's and the system's
 * files). Throws `SshConfigError` (file:line) for a malformed or unknown line, `TypeError`
 * for a file that cannot be read.
 */
export function resolveHostConfig(
  req: HostRequest,
  source: ConfigSource = {},
  ctx: LocalContext = localContext(),
): SshHostConfig {
  const state = new SettingsState();
  if (req.user !== undefined) state.preset("user", req.user);
  if (req.port !== undefined) state.preset("port", req.port);
  if (req.proxy !== undefined) state.presetProxy(req.proxy);
  const reader = new Reader(state, req, ctx);
  reader.read(source, { hostLineSubject: req.host, resolvedHost: undefined, final: false });
  const hostname = reader.resolvedHost();
  const canonicalize = state.value("canonicalizehostname");
  if (reader.wantsFinal || canonicalize === "yes" || canonicalize === "always") {
    reader.read(source, { hostLineSubject: hostname, resolvedHost: hostname, final: true });
  }
  return settingsToConfig(state, {
    originalHost: req.host,
    hostname,
    ctx,
    files: reader.files,
    warnings: reader.warnings,
  });
}
