# The fleet (docs/scale.md): two API servers behind nginx from Debian (round robin) on one
# PostgreSQL database, with two local enclaves, driven by the CLI and plain HTTP.
# scripts/scale/test_fleet.py prints `interop: N passed`.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || apt_install nginx
command -v psql >/dev/null 2>&1 || apt_install postgresql-client
EXTRA_TESTS+=("python3 $(printf %q "$ROOT/scripts/scale/test_fleet.py")")
