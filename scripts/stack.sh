# A whole local stack for the benchmarks (sourced after lib.sh, never run): release builds of the
# server, the enclave, the CLI and a loopback upstream; PostgreSQL; a signed-up user whose CLI
# session (with the local attestation policy) and vault are ready. Sets BIN, work, base, UP and
# `ail` (the CLI with that session); stops everything on exit.
ensure_postgres
command -v jq >/dev/null 2>&1 || apt_install jq
command -v psql >/dev/null 2>&1 || apt_install postgresql-client

log "building the release server, enclave, CLI and upstream"
cargo build -q --release -p aileron-host --bin aileron-server -p aileron-enclave --bin aileron-enclave \
  --example bench_client -p aileron-sdk --bin aileron
BIN="$CARGO_TARGET_DIR/release"
work="$(mktemp -d)"; pids=()
admin="$AILERON_TEST_DATABASE_URL"; db="aileron_bench_$$"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$BIN/examples/bench_client" upstream > "$work/upstream.port" & pids+=($!)
for _ in $(seq 50); do [ -s "$work/upstream.port" ] && break; sleep 0.1; done
UP="http://127.0.0.1:$(cat "$work/upstream.port")"

# Development setting on both sides: the upstream is on loopback over http.
export AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS=true
export AILERON_JWT_SIGNING_KEY="bench-signing-key-0123456789abcdef0123456789"
eport="$(free_port)"
AILERON_TEE_PROVIDER=local AILERON_ENCLAVE_BIND=127.0.0.1 AILERON_ENCLAVE_PORT="$eport" \
  AILERON_LOCAL_CA_DIR="$work/ca" RUST_LOG=warn AILERON_ENCLAVE_ATTESTATIONS_PER_MINUTE=100000 \
  AILERON_ENCLAVE_ADMISSION_KEYS="$(env -u AILERON_DATABASE_URL "$BIN/aileron-server" admission-key)" \
  "$BIN/aileron-enclave" > "$work/enclave.out" 2> "$work/enclave.log" & pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/enclave.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/enclave.out" || { echo "the enclave did not start" >&2; cat "$work/enclave.log" >&2; exit 1; }
digest="sha256:$(sha256sum "$BIN/aileron-enclave" | cut -d' ' -f1)"

psql -q "$admin" -c "CREATE DATABASE $db" >/dev/null
hport="$(free_port)"; base="http://127.0.0.1:$hport"
AILERON_ADDR="127.0.0.1:$hport" AILERON_PUBLIC_URL="$base" AILERON_DATABASE_URL="${admin%/*}/$db" \
AILERON_AUTO_VERIFY_EMAIL=true AILERON_RATE_LIMIT_PER_ADDR=100000000 AILERON_RATE_LIMIT_PER_ACCOUNT=100000000 \
AILERON_TEE_PROVIDER=local AILERON_ENCLAVE_URL="https://127.0.0.1:$eport" AILERON_ENCLAVE_IMAGE_DIGEST="$digest" \
AILERON_LOCAL_CA_DIR="$work/ca" RUST_LOG=warn \
  "$BIN/aileron-server" > "$work/server.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf "$base/v1/health" >/dev/null && break; sleep 0.1; done

cat > "$work/policy.toml" <<TOML
audience = "aileron-enclave"
image_digests = ["$digest"]
hwmodels = ["LOCAL_INSECURE"]
allow_debug = true
issuer = "https://aileron.local/attestation"
allow_dangerous_settings = true
TOML
ail() { AILERON_CONFIG_DIR="$work/config" "$BIN/aileron" "$@"; }
BENCH_PASSPHRASE="bench vault passphrase: umber kite 4071"
curl -sf "$base/auth/signup" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password-123"}' >/dev/null
echo "bench-password-123" | ail login --server "$base" --email bench@example.com \
  --policy "$work/policy.toml" --root "$work/ca/root.pem" 2>/dev/null
echo "$BENCH_PASSPHRASE" | ail vault set 2>/dev/null
