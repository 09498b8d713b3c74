#!/usr/bin/env bash
# Service overhead benchmark: the same InvertMel load against specinv-server
# and in-process (the server's request handling called directly, no gRPC, no
# network: `specinv bench --in-process`), with the same worker threads, queue
# depth and concurrency, in one run. Prints requests/s, p50/p99 latency and
# rejections for each, and the ratio service / in-process of successful calls
# per second (the target is >= 0.92 at concurrency 8).
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
#   BENCH_DURATION_S=10      per measurement (after a short warm-up)
#   BENCH_ROUNDS=3           measurements of each mode per concurrency, in
#                            alternating order; the ratio is their median
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
duration_s=${BENCH_DURATION_S:-10}
rounds=${BENCH_ROUNDS:-3}
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
"$server_bin" --host 127.0.0.1 --port "$port" --metrics-port -1 --http-port 0 --workers "$workers" \
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
# Rounds alternate which mode goes first, so slow drift of the machine (other
# tenants of a VM, thermal state) does not favour one mode; the ratio is the
# median of the rounds' ratios.
measure() {  # mode concurrency round
  local mode=$1 c=$2 round=$3
  echo "concurrency $c, round $round: $mode, ${duration_s} s" >&2
  if [[ $mode == service ]]; then
    "${service[@]}" --concurrency "$c" --duration-s "$duration_s" --json
  else
    "${in_process[@]}" --concurrency "$c" --duration-s "$duration_s" --json
  fi | $python -c 'import json,sys; r=json.load(sys.stdin); r["mode"]=sys.argv[1]; r["round"]=int(sys.argv[2]); print(json.dumps(r))' \
      "$mode" "$round" >>"$work/reports.jsonl"
}
for c in $concurrency_list; do
  for ((round = 1; round <= rounds; round++)); do
    if ((round % 2)); then order=(service in-process); else order=(in-process service); fi
    for mode in "${order[@]}"; do measure "$mode" "$c" "$round"; done
  done
done

kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=

[[ -n "${BENCH_JSON:-}" ]] && cp "$work/reports.jsonl" "$BENCH_JSON"

$python - "$work/reports.jsonl" "$workers" "$build_type" <<'EOF'
import json, statistics, sys
path, workers, build_type = sys.argv[1], sys.argv[2], sys.argv[3] or "unknown"
rows = {}  # concurrency -> mode -> [report of each round]
title = ""
for line in open(path):
    r = json.loads(line)
    rows.setdefault(r["concurrency"], {}).setdefault(r["mode"], []).append(r)
    if r["mode"] == "service":
        title = r["title"]
print(f"{title}; {workers} workers; {build_type} build")
head = (f"{'conc':>4} {'round':>5} | {'mode':<10} | {'ok/s':>8} {'sent/s':>8} | {'p50 ms':>8} {'p99 ms':>8} | "
        f"{'rejected':>8} {'waits':>6} | {'all p99':>8} {'all max':>8}")
print(head)
print("-" * len(head))
for c in sorted(rows):
    for mode in ("service", "in-process"):
        for r in rows[c].get(mode, []):
            ok, a = r["latency_ok"], r["latency_all"]
            other = sum(n for code, n in r["errors"].items() if code != "RESOURCE_EXHAUSTED")
            extra = f"  other errors {r['errors']}" if other else ""
            print(f"{c:>4} {r['round']:>5} | {mode:<10} | {r['ok_per_s']:>8.2f} {r['requests_per_s']:>8.2f} | "
                  f"{ok['p50_ms']:>8.1f} {ok['p99_ms']:>8.1f} | {r['rejected']:>8} {r['retry_waits']:>6} | "
                  f"{a['p99_ms']:>8.1f} {a['max_ms']:>8.1f}{extra}")
print()
for c in sorted(rows):
    service = {r["round"]: r for r in rows[c].get("service", [])}
    local = {r["round"]: r for r in rows[c].get("in-process", [])}
    ratios = [service[k]["ok_per_s"] / local[k]["ok_per_s"] for k in sorted(service)
              if k in local and local[k]["ok_per_s"] > 0]
    if ratios:
        target = "  (target >= 0.92)" if c == 8 else ""
        each = ", ".join(f"{x:.3f}" for x in ratios)
        print(f"concurrency {c}: service / in-process throughput = {statistics.median(ratios):.3f} "
              f"(median of rounds: {each}){target}")
EOF
