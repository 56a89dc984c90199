# Sourced by the scripts: tools first on PATH, npm build tools before any system copy
# (Debian's binaryen is too old and breaks the release wasm).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$ROOT/.venv/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# The demo cloud's provider, installed by scripts/setup (see docs/workspaces.md, "Drift").
export SLIPWAY_PROVIDER_MIRROR="${SLIPWAY_PROVIDER_MIRROR:-$ROOT/.demo-cloud/mirror}"
