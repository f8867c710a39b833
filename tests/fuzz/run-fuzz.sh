#!/bin/sh
# Builds the libFuzzer targets (clang, ASan + UBSan, -Dfuzz=true) in
# build-fuzz/ and runs each for SECONDS on a scratch copy of its seed corpus
# (build-fuzz/fuzz-work/<target>/), so the repository corpus only changes by
# hand: copy a crash input from build-fuzz/fuzz-artifacts/ into
# tests/fuzz/corpus/<target>/ once it is fixed, and replay_<target> keeps it
# as a regression test.
#   tests/fuzz/run-fuzz.sh SECONDS [TARGET...]   (default: every target)
#   tests/fuzz/run-fuzz.sh --list
# Prints one line per target with its executions; exit 1 if any target
# crashed or could not be built.
set -u
cd "$(dirname "$0")/../.."
TARGETS="targets_csv config_ini png_read pgm_read sentio_reply sentio_server"
if [ "${1:-}" = "--list" ]; then echo "$TARGETS"; exit 0; fi
SECONDS_EACH=${1:-60}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && TARGETS="$*"
BUILD=${FUZZ_BUILD:-build-fuzz}

if [ ! -f "$BUILD/build.ninja" ]; then
  mkdir -p "$BUILD"
  CC=clang meson setup "$BUILD" -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false --buildtype=debugoptimized \
    -Dc_args=-fsanitize=fuzzer-no-link >"$BUILD/fuzz-setup.log" 2>&1 ||
    { cat "$BUILD/fuzz-setup.log"; echo "meson setup $BUILD failed"; exit 1; }
fi
exes=""
for t in $TARGETS; do exes="$exes tests/fuzz/fuzz_$t"; done
# shellcheck disable=SC2086
ninja -C "$BUILD" $exes >"$BUILD/fuzz-compile.log" 2>&1 ||
  { cat "$BUILD/fuzz-compile.log"; echo "build of the fuzz targets failed"; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
status=0
mkdir -p "$BUILD/fuzz-artifacts"
for t in $TARGETS; do
  work="$BUILD/fuzz-work/$t"
  rm -rf "$work"
  mkdir -p "$work"
  cp tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
  log="$BUILD/fuzz-$t.log"
  dict=""
  [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
  # shellcheck disable=SC2086
  "$BUILD/tests/fuzz/fuzz_$t" $dict -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
    -artifact_prefix="$BUILD/fuzz-artifacts/$t-" "$work" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz_$t: ok, ${runs:-?} executions in ${SECONDS_EACH} s"
  else
    status=1
    echo "fuzz_$t: FAILED (exit $rc), log $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "$log" | head -5
  fi
done
exit $status
