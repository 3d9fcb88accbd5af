# The enclave protocol implemented in Python from DESIGN §4 alone (pyhpke + cryptography + PyJWT),
# against the aileron-enclave binary that `cargo test` builds.
EXTRA_TESTS+=("$PY_VENV/bin/python $ROOT/scripts/interop/enclave_protocol.py")
