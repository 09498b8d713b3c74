#!/usr/bin/env bash
# Service overhead benchmark: the same InvertMel load against specinv-server
# and in-process (the server's request handling called directly, no gRPC, no
# network: `specinv bench --in-process`), with the same worker threads, queue
# depth and concurrency, in one run. Prints requests/s, p50/p99 latency and
# rejections for each, and the ratio service / in-process of successful calls
# per second (the target is >= 0.90 at concurrency 1 and 8).
#
#   scripts/service-bench.sh [BUILD_DIR]       (default build/release)
#
# BUILD_DIR must hold server/specinv-server and client/specinv; when they are
# missing, BUILD_DIR is configured as a Release build and the two are built.
# Measure on an otherwise idle machine with a Release build (the script warns
# about other build types).
#
# Settings (environment):
#   BENCH_WORKERS=2          server --workers and in-process --workers
#   BENCH_QUEUE_DEPTH=-1     --queue-depth of both (-1 = 2 x workers)
#   BENCH_CONCURRENCY="1 8 64"
#   BENCH_DURATION_S=20      per measurement (after a short warm-up)
#   BENCH_METHOD=fgla BENCH_ITERATIONS=32 BENCH_SECONDS=2 BENCH_PRESET=hifigan
#                            the request: InvertMel of the log-mel of
#                            BENCH_SECONDS of generated audio (80 mels at hifigan)
#   BENCH_JSON=FILE          also write every report as JSON lines to FILE
#
# Calls are made with --max-attempts 1 (no transparent channel retries), so a
# full queue shows as rejections in both runs alike; after a rejection the
# bench worker waits for the server's retry hint before its next call.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
workers=${BENCH_WORKERS:-2}
queue_depth=${BENCH_QUEUE_DEPTH:--1}
concurrency_list=${BENCH_CONCURRENCY:-1 8 64}
duration_s=${BENCH_DURATION_S:-20}
method=${BENCH_METHOD:-fgla}
iterations=${BENCH_ITERATIONS:-32}
seconds=${BENCH_SECONDS:-2}
preset=${BENCH_PRESET:-hifigan}
python=/usr/bin/python3

server_bin="$build/server/specinv-server"
client_bin="$build/client/specinv"
if [[ ! -x "$server_bin" || ! -x "$client_bin" ]]; then
  echo "service-bench: building specinv-server and specinv (Release) in $build" >&2
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSPECINV_BUILD_TESTS=OFF \
    -DSPECINV_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" --target specinv-server specinv
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
if [[ "$build_type" != Release ]]; then
  echo "service-bench: warning: $build is a '${build_type:-unknown}' build, not Release" >&2
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$($python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server_bin" --host 127.0.0.1 --port "$port" --metrics-port -1 --workers "$workers" \
  --queue-depth "$queue_depth" >"$work/server.log" 2>&1 &
server_pid=$!
target="127.0.0.1:$port"
"$client_bin" --server "$target" health --wait-s 30 >/dev/null

request=(--rpc invert-mel --preset "$preset" --method "$method" --iterations "$iterations" --seconds "$seconds")
service=("$client_bin" --server "$target" --max-attempts 1 bench "${request[@]}")
in_process=("$client_bin" bench "${request[@]}" --in-process --workers "$workers" --queue-depth "$queue_depth")

warm=$((2 * workers))
echo "warming up ($warm calls each)" >&2
"${service[@]}" --count "$warm" --concurrency "$workers" >/dev/null
"${in_process[@]}" --count "$warm" --concurrency "$workers" >/dev/null

: >"$work/reports.jsonl"
for c in $concurrency_list; do
  echo "concurrency $c: service, ${duration_s} s" >&2
  "${service[@]}" --concurrency "$c" --duration-s "$duration_s" --json |
    $python -c 'import json,sys; r=json.load(sys.stdin); r["mode"]="service"; print(json.dumps(r))' \
      >>"$work/reports.jsonl"
  echo "concurrency $c: in-process, ${duration_s} s" >&2
  "${in_process[@]}" --concurrency "$c" --duration-s "$duration_s" --json |
    $python -c 'import json,sys; r=json.load(sys.stdin); r["mode"]="in-process"; print(json.dumps(r))' \
      >>"$work/reports.jsonl"
done

kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=

[[ -n "${BENCH_JSON:-}" ]] && cp "$work/reports.jsonl" "$BENCH_JSON"

$python - "$work/reports.jsonl" "$workers" "$build_type" <<'EOF'
import json, sys
path, workers, build_type = sys.argv[1], sys.argv[2], sys.argv[3] or "unknown"
rows = {}
title = ""
for line in open(path):
    r = json.loads(line)
    rows.setdefault(r["concurrency"], {})[r["mode"]] = r
    if r["mode"] == "service":
        title = r["title"]
print(f"{title}; {workers} workers; {build_type} build")
head = (f"{'conc':>4} | {'mode':<10} | {'ok/s':>8} {'sent/s':>8} | {'p50 ms':>8} {'p99 ms':>8} | "
        f"{'rejected':>8} {'waits':>6} | {'all p99':>8} {'all max':>8}")
print(head)
print("-" * len(head))
for c in sorted(rows):
    for mode in ("service", "in-process"):
        r = rows[c].get(mode)
        if r is None:
            continue
        ok, a = r["latency_ok"], r["latency_all"]
        other = sum(n for code, n in r["errors"].items() if code != "RESOURCE_EXHAUSTED")
        extra = f"  other errors {r['errors']}" if other else ""
        print(f"{c:>4} | {mode:<10} | {r['ok_per_s']:>8.2f} {r['requests_per_s']:>8.2f} | {ok['p50_ms']:>8.1f} "
              f"{ok['p99_ms']:>8.1f} | {r['rejected']:>8} {r['retry_waits']:>6} | {a['p99_ms']:>8.1f} "
              f"{a['max_ms']:>8.1f}{extra}")
print()
for c in sorted(rows):
    s, p = rows[c].get("service"), rows[c].get("in-process")
    if s and p and p["ok_per_s"] > 0:
        ratio = s["ok_per_s"] / p["ok_per_s"]
        target = "  (target >= 0.90)" if c in (1, 8) else ""
        print(f"concurrency {c}: service / in-process throughput = {ratio:.3f}{target}")
EOF
