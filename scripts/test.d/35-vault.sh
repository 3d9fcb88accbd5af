# The vault format v1 implemented in Python from docs/vault.md alone (argon2-cffi + cryptography +
# pyhpke), against the Rust implementation's vectors, sdk/vectors/vault-v1.json. ensure_python
# installs the requirements only into a new venv; an older venv may lack argon2-cffi.
if ! "$PY_VENV/bin/python" -c 'import argon2, cryptography, pyhpke' 2>/dev/null; then
  log "installing python test packages (argon2-cffi for the vault format)"
  "$PY_VENV/bin/pip" install -q -r "$ROOT/scripts/requirements-test.txt"
fi
EXTRA_TESTS+=("$PY_VENV/bin/python $ROOT/scripts/interop/vault_format.py")
