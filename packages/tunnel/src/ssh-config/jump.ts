/**
 * The jump hosts in front of a destination (ProxyJump, ssh_config(5)), each resolved through
 * the configuration as ssh(1) resolves it. ssh reaches `ProxyJump a,b,c` by running
 * `ssh -J a,b -W host:port c`, which runs `ssh -J a -W c:port b`, which runs `ssh -W b:port a`:
 * so every hop gets its own settings (HostName, User, Port, keys, known hosts…), but only the
 * first hop's own ProxyJump/ProxyCommand applies (the later ones are given -J, which beats
 * their files); the first hop's own jump hosts come before it. `%h %n %p %r %%` in the list
 * stand for the destination's values, as they do in the command ssh builds from it.
 */
import { type ConfigSource, type LocalContext, localContext, resolveHostConfig, SshConfigError } from "./resolve.ts";
import type { SshHostConfig } from "./result.ts";
import { expandTokens, PROXY_TOKENS, tokenLookup } from "./tokens.ts";
import { type JumpHop, parseJumpHop } from "./values.ts";

/** Longest chain we follow; longer (or looping) chains are a configuration error. */
export const MAX_JUMP_HOPS = 16;

function hopError(target: SshHostConfig, message: string): Error {
  const o = target.origins.proxyjump;
  return o && o.line > 0 ? new SshConfigError(o.file, o.line, message) : new TypeError(message);
}

/** The target's hops with its tokens expanded, first hop first. */
function expandedHops(target: SshHostConfig): JumpHop[] {
  if (target.proxy?.kind !== "jump") return [];
  const lookup = tokenLookup(target.tokens, PROXY_TOKENS);
  return target.proxy.hops.map((hop) => {
    let spec: string;
    try {
      spec = expandTokens(hop.spec, lookup);
    } catch (err) {
      throw hopError(target, `ProxyJump: ${(err as Error).message}`);
    }
    const parsed = parseJumpHop(spec);
    if (!parsed) throw hopError(target, `ProxyJump hop "${spec}" (from "${hop.spec}") is not [user@]host[:port]`);
    return parsed;
  });
}

/**
 * The hosts to pass through before `target`, first connected first, each with its resolved
 * settings. Empty when there is no ProxyJump. A hop proxied by a command keeps it in its
 * `proxy`. Throws for a chain that loops or runs longer than MAX_JUMP_HOPS.
 */
export function resolveJumpChain(
  target: SshHostConfig,
  source: ConfigSource = {},
  ctx: LocalContext = localContext(),
): SshHostConfig[] {
  const chain: SshHostConfig[] = [];
  const seen = [`${target.user}@${target.hostname}:${target.port}`];
  const walk = (dest: SshHostConfig): void => {
    const hops = expandedHops(dest);
    const before: SshHostConfig[] = [];
    for (const [i, hop] of hops.entries()) {
      const request = { host: hop.host, user: hop.user, port: hop.port };
      const config =
        i === 0
          ? resolveHostConfig(request, source, ctx)
          : resolveHostConfig(
              {
                ...request,
                proxy: {
                  kind: "jump",
                  hops: hops.slice(0, i),
                  spec: hops
                    .slice(0, i)
                    .map((h) => h.spec)
                    .join(","),
                },
              },
              source,
              ctx,
            );
      const key = `${config.user}@${config.hostname}:${config.port}`;
      if (seen.includes(key)) throw hopError(dest, `ProxyJump loops: ${[...seen, key].join(" -> ")}`);
      if (seen.length > MAX_JUMP_HOPS) throw hopError(dest, `ProxyJump chain longer than ${MAX_JUMP_HOPS} hops`);
      seen.push(key);
      if (i === 0) walk(config);
      before.push(config);
    }
    chain.push(...before);
  };
  walk(target);
  return chain;
}
