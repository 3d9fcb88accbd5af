# The management UI (ui/), sourced by scripts/test: its npm packages and production build
# (ensure_ui, scripts/lib.sh) and Debian's Chromium (the browser suite never downloads a
# browser), then one extra test command that checks the UI's API types against the server's
# OpenAPI document, type-checks the UI (svelte-check), and runs its unit tests (vitest) and the
# browser suite (Playwright against the whole stack, started by ui/tests/e2e/stack.ts with the
# debug binaries scripts/test builds). It prints `ui: N passed`, N the tests of all three.
ui="$ROOT/ui"
ensure_ui
command -v psql >/dev/null 2>&1 || apt_install postgresql-client
if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then apt_install chromium; fi

# Every part runs even when one fails; the command fails when any did. The counts come from the
# JSON reports (vitest's numPassedTests, Playwright's stats.expected: retries are off).
read -r -d '' ui_suite <<'SH' || true
types=0; check=0; unit=0; browser=0
mkdir -p test-results; rm -f test-results/unit.json test-results/results.json
# The checked-in API types are what the server's document generates (the UI cannot drift).
"$CARGO_TARGET_DIR/debug/aileron-server" openapi > test-results/openapi.json \
  && node scripts/gen-api.mjs test-results/openapi.json test-results/schema.d.ts >/dev/null \
  && diff -u src/lib/api/schema.d.ts test-results/schema.d.ts \
  || { types=1; echo "ui: src/lib/api/schema.d.ts differs from the server's OpenAPI document: npm run gen:api -- <(aileron-server openapi)" >&2; }
npm run --silent check >/dev/null 2>test-results/check.log || { check=$?; cat test-results/check.log >&2; }
npm run --silent test:unit -- --reporter=default --reporter=json --outputFile=test-results/unit.json || unit=$?
# ensure_ui built ui/build from these sources: the suite serves a copy of it.
AILERON_UI_SKIP_BUILD=1 npx playwright test || browser=$?
node -e '
  const fs = require("fs");
  const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")); } catch { return null; } };
  const unit = read("test-results/unit.json")?.numPassedTests ?? 0;
  const browser = read("test-results/results.json")?.stats?.expected ?? 0;
  const types = process.argv[1] === "0" ? 1 : 0;
  console.log(`the UI: API types ${types ? "match" : "DRIFTED"}; ${unit} unit tests and ${browser} browser tests passed`);
  console.log(`ui: ${types + unit + browser} passed`);
' "$types"
[ "$types" -eq 0 ] && [ "$check" -eq 0 ] && [ "$unit" -eq 0 ] && [ "$browser" -eq 0 ]
SH
EXTRA_TESTS+=("cd $(printf %q "$ui") || exit 1
$ui_suite")
