#!/usr/bin/env bash
# The README's quick start: set up, then embed two texts with all-MiniLM-L6-v2 and compare them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash tools/scripts/setup.sh
echo "embedder: embedding two texts (vectors as JSON lines, shortened here)" >&2
node apps/cli/dist/bin.js embed "Hello, world!" "Embeddings turn text into vectors." | cut -c1-120
echo "embedder: cosine similarity of two related sentences" >&2
node apps/cli/dist/bin.js similarity "A man is playing a guitar." "Someone plays an instrument."
