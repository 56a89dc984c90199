# Sourced by scripts/run and scripts/test: tools first on PATH, npm tools before any system copy
# (Debian's binaryen is too old and breaks the release wasm).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$ROOT/.venv/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
