#!/bin/sh
# Builds @embedder-rag/server (and the workspace packages it uses) and writes a self-contained production copy to
# OUT: dist/, package.json and node_modules with production dependencies only (workspace packages copied in).
# The Dockerfile's build stage and apps/server/src/deploy.int.test.ts both run this, so the test replays
# exactly what the runtime stage copies.  Usage: apps/server/scripts/deploy.sh OUT   (run from anywhere)
set -eu
OUT=${1:?usage: deploy.sh OUT}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"
# onnxruntime-node's install script would fetch CUDA extras; its CPU binary ships in the package.
export ONNXRUNTIME_NODE_INSTALL=skip NX_DAEMON=false
# The test suite sets DEPLOY_SKIP_BUILD=1: `pnpm test` has just built, and a rebuild there (or Nx restoring dist
# from its cache) would delete dist/ under the tests running beside it.
if [ -z "${DEPLOY_SKIP_BUILD:-}" ]; then
  pnpm exec nx run @embedder-rag/server:build --output-style=stream
fi
rm -rf "$OUT"
# pnpm 10 needs --legacy (or inject-workspace-packages) to deploy a workspace package with workspace deps.
pnpm --filter @embedder-rag/server deploy --prod --legacy "$OUT"
test -f "$OUT/dist/main.js"
# onnxruntime-node ships native libraries for every platform (darwin 86 MB, win32 134 MB, linux x64 and arm64);
# the image runs only this platform and architecture.
PLATFORM=$(node -p process.platform)
ARCH=$(node -p process.arch)
for bin in "$OUT"/node_modules/.pnpm/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v*; do
  [ -d "$bin" ] || continue
  for dir in "$bin"/*; do
    [ "$(basename "$dir")" = "$PLATFORM" ] || rm -rf "$dir"
  done
  for dir in "$bin/$PLATFORM"/*; do
    [ "$(basename "$dir")" = "$ARCH" ] || rm -rf "$dir"
  done
done
