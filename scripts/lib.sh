# Shared helpers for scripts/*: sourced, never run. Installs only what is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Reuse one cargo target directory outside the clone, so a fresh clone (CI) starts warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/aileron/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} (apt)"
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    apt_install curl ca-certificates build-essential
    log "installing the Rust toolchain (rustup)"
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
  fi
  command -v cc >/dev/null 2>&1 || apt_install build-essential
}

# A cargo subcommand installed from crates.io when missing (e.g. ensure_cargo_tool cargo-deny).
ensure_cargo_tool() {
  command -v "$1" >/dev/null 2>&1 && return 0
  log "installing $1 (cargo install --locked; once per machine)"
  cargo install --quiet --locked "$1"
}

# Python packages for the interoperability tests, in a venv kept beside the cargo cache.
PY_VENV="${AILERON_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/aileron/venv}"
ensure_python() {
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
  if [ ! -x "$PY_VENV/bin/python" ]; then
    log "creating python venv at $PY_VENV"
    python3 -m venv "$PY_VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$PY_VENV"; }
  fi
  if ! "$PY_VENV/bin/python" -c 'import jwt, cryptography' 2>/dev/null; then
    log "installing python test packages"
    "$PY_VENV/bin/pip" install -q -r "$ROOT/scripts/requirements-test.txt"
  fi
}

# PostgreSQL 16+ in production; tests accept the machine's cluster (15 here) or install one.
export AILERON_TEST_DATABASE_URL="${AILERON_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
ensure_postgres() {
  if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then return 0; fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
  fi
  local ver; ver="$(ls /etc/postgresql | sort -V | tail -1)"
  log "starting PostgreSQL $ver"
  # Trust auth on loopback for the test database (this is a test machine's cluster).
  local hba="/etc/postgresql/$ver/main/pg_hba.conf"
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE test' >/dev/null
}

# Node.js 20+ and npm (the UI, the test OpenID provider). Debian's packages when missing.
ensure_node() {
  if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]; then
    command -v npm >/dev/null 2>&1 && return 0
  fi
  apt_install nodejs npm
}

# The UI's packages (`npm ci`, only when package-lock.json changed since the last install) and its
# production build in ui/build (only when a source file is newer than the last build).
ensure_ui() {
  ensure_node
  local ui="$ROOT/ui" stamp="$ROOT/ui/node_modules/.aileron-lock-sha256" sum
  sum="$(sha256sum "$ui/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    log "installing the UI's npm packages (npm ci)"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$ui" --prefer-offline --no-audit --no-fund --loglevel=error
    echo "$sum" > "$stamp"
  fi
  if [ ! -f "$ui/build/index.js" ] || [ -n "$(find "$ui/src" "$ui/static" "$ui/package-lock.json" \
      "$ui/svelte.config.js" "$ui/vite.config.ts" -newer "$ui/build/index.js" 2>/dev/null | head -1)" ]; then
    log "building the UI (npm run build)"
    npm run --prefix "$ui" --silent build >/dev/null
  fi
}
