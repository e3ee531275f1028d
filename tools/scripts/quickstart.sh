#!/usr/bin/env bash
# The README's quick start: set up, then embed two texts with all-MiniLM-L6-v2 and compare them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash tools/scripts/setup.sh
# Record where the models are in .env, which every pnpm script of the README reads: nothing to export by hand later.
if [ -n "${EMBEDDER_MODEL_PATH:-}" ] && ! grep -qs '^EMBEDDER_MODEL_PATH=' .env; then
  echo "EMBEDDER_MODEL_PATH=\"$EMBEDDER_MODEL_PATH\"" >> .env
  echo "embedder: recorded EMBEDDER_MODEL_PATH=$EMBEDDER_MODEL_PATH in .env (read by pnpm embedder, start, eval, bench, example:*)" >&2
fi
echo "embedder: embedding two texts (vectors as JSON lines, shortened here)" >&2
node apps/cli/dist/bin.js embed "Hello, world!" "Embeddings turn text into vectors." | cut -c1-120
echo "embedder: cosine similarity of two related sentences" >&2
node apps/cli/dist/bin.js similarity "A man is playing a guitar." "Someone plays an instrument."
