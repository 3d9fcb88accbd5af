# scripts/deploy-gcp, sourced by scripts/test: shellcheck (installed from Debian when missing)
# and one extra test command, scripts/test-deploy, which checks the deployment's dry runs
# against their golden files and replays every gcloud command offline through the installed
# gcloud (without gcloud it says so and fails). It prints `interop: N passed`.
command -v shellcheck >/dev/null 2>&1 || apt_install shellcheck
EXTRA_TESTS+=("$(printf %q "$ROOT/scripts/test-deploy")")
