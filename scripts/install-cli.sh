#!/usr/bin/env bash
# Puts the `tunnel` command on PATH: builds the bundled CLI (apps/cli/dist/{node,bun,deno}) and
# writes three small launchers that run it straight from this checkout, with no pnpm in
# between — so `tunnel` works from any directory (reading that directory's .env), its stdout
# carries only its own output, and Ctrl+C ends it without a package manager's noise:
#
#   tunnel       under Node (the `node` on PATH when it runs)
#   tunnel-bun   under Bun  (node_modules/bun, installed by `pnpm install`)
#   tunnel-deno  under Deno (node_modules/deno)
#
# Where: $PREFIX/bin if PREFIX is set; else /usr/local/bin as root; else ~/.local/bin.
# `--no-build` skips the build (the bundles are already there). Safe to run again; it
# overwrites only launchers it wrote itself.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h | --help)
      sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install-cli.sh: unknown option $arg (expected --no-build)" >&2
      exit 2
      ;;
  esac
done

if [ -n "${PREFIX:-}" ]; then
  bin="$PREFIX/bin"
elif [ "$(id -u)" -eq 0 ]; then
  bin=/usr/local/bin
else
  bin="$HOME/.local/bin"
fi

if [ "$build" -eq 1 ]; then
  (cd "$repo" && node scripts/build.mjs)
fi
for rt in node bun deno; do
  if [ ! -f "$repo/apps/cli/dist/$rt/tunnel.mjs" ]; then
    echo "install-cli.sh: $repo/apps/cli/dist/$rt/tunnel.mjs is missing; run it without --no-build" >&2
    exit 1
  fi
done

mkdir -p "$bin"
marker="# written by tunnel's scripts/install-cli.sh"
# $1 name, $2 the exec line.
write_launcher() {
  local target="$bin/$1"
  if [ -e "$target" ] && ! grep -qF "$marker" "$target"; then
    echo "install-cli.sh: $target exists and is not ours; leaving it (set PREFIX to install elsewhere)" >&2
    return 1
  fi
  local tmp="$target.tmp.$$"
  printf '#!/bin/sh\n%s from %s\n%s\n' "$marker" "$repo" "$2" >"$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$target"
  echo "installed $target"
}

q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
dist="$repo/apps/cli/dist"
write_launcher tunnel "exec node $(q "$dist/node/tunnel.mjs") \"\$@\""
# Bun would otherwise load ./.env itself, expanding \$VARS inside values (a password with a
# "$" in it): the CLI reads .env on its own terms.
write_launcher tunnel-bun "exec $(q "$repo/node_modules/bun/bin/bun.exe") --no-env-file $(q "$dist/bun/tunnel.mjs") \"\$@\""
# Deno: no update notice on stderr, and no deno.json of the working directory applied.
write_launcher tunnel-deno "export DENO_NO_UPDATE_CHECK=1
exec $(q "$repo/node_modules/deno/deno") run -A --no-config $(q "$dist/deno/tunnel.mjs") \"\$@\""

case ":$PATH:" in
  *":$bin:"*) ;;
  *) echo "note: $bin is not on your PATH; add it: export PATH=\"$bin:\$PATH\"" >&2 ;;
esac
