#!/usr/bin/env bash
# Runs every libFuzzer target (or those named in FUZZ_TARGETS) for a bounded
# time (FUZZ_SECONDS each, default 60) on a scratch copy of its corpus, with
# a 2 GiB RSS limit and a 10 s limit per input. A crash input is copied into the target's
# kept corpus under tests/fuzz/corpus/, where the regression tests replay it.
set -euo pipefail
build=${1:?usage: run-fuzz.sh BUILD_DIR}
seconds=${FUZZ_SECONDS:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
declare -A corpus=([npy_fuzz]=tests/fuzz/corpus/npy [audio_decode_fuzz]=tests/fuzz/corpus/audio
                   [request_fuzz]=tests/server/fuzz_corpus/request)
# The same LeakSanitizer suppressions as the tests (third-party libraries only).
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
status=0
for target in ${FUZZ_TARGETS:-${!corpus[@]}}; do
  [[ -n "${corpus[$target]:-}" ]] || { echo "run-fuzz: unknown target $target" >&2; exit 2; }
  bin=$(find "$build" -type f -name "$target" -perm -u+x | head -n 1)
  [[ -n "$bin" ]] || { echo "run-fuzz: $target not built in $build, skipped" >&2; continue; }
  kept="$root/${corpus[$target]}"
  work=$(mktemp -d)
  cp "$kept"/* "$work"/
  artifacts=$(mktemp -d)
  echo "== $target: ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$artifacts/" \
       "$work" 2>"$artifacts/log"; then
    status=1
    tail -n 30 "$artifacts/log" >&2
    for crash in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
      [[ -e "$crash" ]] && cp "$crash" "$kept/" && echo "run-fuzz: kept $(basename "$crash") in $kept" >&2
    done
  else
    grep -E "^#[0-9]+.*DONE" "$artifacts/log" | tail -n 1 || true
  fi
  rm -rf "$work" "$artifacts"
done
exit $status
