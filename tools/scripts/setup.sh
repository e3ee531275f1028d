#!/usr/bin/env bash
# Installs the toolchain and dependencies (lockfile frozen) and builds every package.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
pnpm install --frozen-lockfile
pnpm build
