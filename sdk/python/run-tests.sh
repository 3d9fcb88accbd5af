#!/usr/bin/env bash
# The Python SDK's checks: `mypy --strict` and ruff on the package and its tests, then pytest against a
# real stack (PostgreSQL on AILERON_TEST_DATABASE_URL, the debug binaries in
# ${CARGO_TARGET_DIR:-~/.cache/aileron/target}/debug; build them first). Arguments go to pytest.
# Ends with exactly one line `interop: N passed`; exits non-zero when anything failed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${AILERON_SDK_VENV:-$HOME/.cache/aileron/venv-sdk}"
export PYTHONDONTWRITEBYTECODE=1 MYPY_CACHE_DIR="$venv/mypy-cache" RUFF_CACHE_DIR="$venv/ruff-cache"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || { echo "could not create $venv" >&2; echo "interop: 0 passed"; exit 1; }
fi
if ! { "$venv/bin/pip" install -q -r "$here/requirements-dev.txt" &&
       "$venv/bin/pip" install -q -e "$here[requests,test]"; }; then
  echo "could not install the SDK and its test dependencies" >&2
  echo "interop: 0 passed"; exit 1
fi

cd "$here" || exit 1
"$venv/bin/mypy" --strict src/aileron tests; typed=$?
"$venv/bin/ruff" check -q src tests && "$venv/bin/ruff" format -q --check src tests; linted=$?

log="$(mktemp)"; trap 'rm -f "$log"' EXIT
"$venv/bin/pytest" -q -p no:cacheprovider "$@" 2>&1 | tee "$log"; tested=${PIPESTATUS[0]}

passed="$(tail -n 1 "$log" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')"
echo "interop: ${passed:-0} passed"
[ "$typed" -eq 0 ] && [ "$linted" -eq 0 ] && [ "$tested" -eq 0 ]
