# The Python SDK (sdk/python) and `aileron mcp` driven by the official MCP client: mypy --strict,
# ruff and pytest against a real stack (PostgreSQL, the local enclave, the server, a recording
# upstream) in their own venv. sdk/python/run-tests.sh prints `interop: N passed`.
EXTRA_TESTS+=("$(printf %q "$ROOT/sdk/python/run-tests.sh")")
