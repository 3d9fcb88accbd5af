#!/usr/bin/env bash
# The TypeScript SDK's checks: `npm ci` when node_modules is stale (not made from this
# package-lock.json); `tsc` on the package and its tests, emitting them to .test-build/ (Node 20
# cannot run .ts), and on the browser-safe build (no Node types); then Node's own test runner:
# tests/unit.test.ts in one process, and in another tests/live.test.ts, which starts one real
# stack for every live test and stops it at the end (PostgreSQL on AILERON_TEST_DATABASE_URL, the
# debug binaries in ${CARGO_TARGET_DIR:-~/.cache/aileron/target}/debug; build them first).
# Arguments go to `node --test` (e.g. --test-name-pattern=VaultLocked). Ends with exactly one line
# `interop: N passed`; exits non-zero when anything failed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here" || exit 1

stamp=node_modules/.aileron-lock-sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if ! npm ci --no-audit --no-fund --loglevel=error; then
    echo "npm ci failed" >&2; echo "interop: 0 passed"; exit 1
  fi
  echo "$want" > "$stamp"
fi

# A deleted test must not live on in an old build. tsc emits even when a type check fails, so the
# tests still run and report; the type failure still fails the run.
rm -rf .test-build
npx tsc -p tsconfig.test.json && npx tsc -p tsconfig.build.json --noEmit; typed=$?

results="$(mktemp)"; trap 'rm -f "$results"' EXIT
node --enable-source-maps --test \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$results" \
  "$@" .test-build/tests/unit.test.js .test-build/tests/live.test.js; tested=$?

# The TAP report ends with the run's totals, `# pass N` among them (suites are not counted).
passed="$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$results" | tail -n 1)"
echo "interop: ${passed:-0} passed"
[ "$typed" -eq 0 ] && [ "$tested" -eq 0 ]
