#!/bin/bash
# Every libFuzzer target builds and survives a short run from an empty corpus plus seeds.
# Longer campaigns: make -C _build fuzz && _build/tests/fuzz/fuzz-yaml -max_total_time=600
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
require_cmd clang
: "${HUSK_FUZZ_SECONDS:=10}"

make -C "$HUSK_BUILD_DIR" -s fuzz >"$(husk_tmpdir)/build.log" 2>&1
tap_ok $? "fuzz targets build"
for f in "$HUSK_BUILD_DIR"/tests/fuzz/fuzz-*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  corpus=$(husk_tmpdir)
  seeds="$top_srcdir/tests/fuzz/corpus/${name#fuzz-}"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
  out=$("$f" -max_total_time="$HUSK_FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 "$corpus" 2>&1)
  st=$?
  tap_ok $st "$name survives ${HUSK_FUZZ_SECONDS}s of fuzzing"
  [ $st -eq 0 ] || printf '%s\n' "$out" | tail -30 | sed 's/^/#   /'
done
tap_done
