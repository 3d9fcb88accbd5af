# The fuzz targets (fuzz/), 5 seconds each from their seed corpus: every target builds, no seed
# breaks an invariant, and neither does anything the fuzzer finds in those seconds. cargo fuzz
# needs the nightly toolchain; libFuzzer targets cannot be replayed on stable, so when nightly or
# cargo-fuzz cannot be installed the fuzz test fails, loudly, instead of being skipped.
if "$ROOT/scripts/fuzz" --install-only; then
  EXTRA_TESTS+=("$ROOT/scripts/fuzz 5")
else
  log "FUZZ TESTS CANNOT RUN: nightly Rust or cargo-fuzz could not be installed (see above)"
  EXTRA_TESTS+=("echo 'fuzz: FAILED: nightly Rust or cargo-fuzz is missing and could not be installed; run scripts/fuzz for details' >&2; exit 1")
fi
