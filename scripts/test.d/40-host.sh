# Set-up for the host server's tests (sourced by scripts/test): the npm `oidc-provider` that
# plays Google in host/tests/google.rs. PostgreSQL comes from ensure_postgres.
host_oidc="$ROOT/host/tests/oidc"
if [ ! -d "$host_oidc/node_modules/oidc-provider" ]; then
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  log "installing oidc-provider for the host tests (npm ci)"
  npm ci --prefix "$host_oidc" --no-audit --no-fund --loglevel=error
fi
