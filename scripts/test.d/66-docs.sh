# The docs site (docs/: the mdBook guides and the Scalar API reference), sourced by scripts/test:
# mdbook and docs/api's npm packages installed now (scripts/build-docs --install-only), then one
# extra test command, scripts/check-docs, that builds the site into $AILERON_DOCS_SITE from the
# server binary that `cargo build` just made and checks every internal link, #anchor and integrity
# hash of it (it prints `interop: N passed`). The UI's browser suite (60-ui.sh) serves the same
# site in ui/tests/e2e/docs.e2e.ts, so the command goes to the FRONT of EXTRA_TESTS: commands run
# in the order of the array, and 60-ui.sh, sourced before this file, appended the UI suite already.
export AILERON_DOCS_SITE="${AILERON_DOCS_SITE:-$CARGO_TARGET_DIR/docs-site}"
"$ROOT/scripts/build-docs" --install-only
EXTRA_TESTS=("$(printf %q "$ROOT/scripts/check-docs") $(printf %q "$AILERON_DOCS_SITE")" "${EXTRA_TESTS[@]}")
