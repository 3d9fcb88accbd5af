# The TypeScript client (sdk/typescript): type checks and Node's test runner against a real stack
# (PostgreSQL, the local enclave, the server, a recording upstream). sdk/typescript/run-tests.sh
# installs its packages (npm ci when package-lock.json changed) and prints `interop: N passed`.
ensure_node
EXTRA_TESTS+=("$(printf %q "$ROOT/sdk/typescript/run-tests.sh")")
