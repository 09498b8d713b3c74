#!/usr/bin/env bash
# Fault test: three specinv-server replicas on loopback behind client-side
# round_robin (`specinv --lb round_robin --server ipv4:A,B,C`, gRPC's built-in
# static resolver) with the client's retry policy (UNAVAILABLE and
# RESOURCE_EXHAUSTED). `specinv bench` sends a bounded number of InvertMel
# calls at concurrency 16, each with a deadline. Mid-run replica A receives
# SIGTERM (graceful drain) and, a little later, replica B is killed with
# SIGKILL. Replica C serves to the end.
#
# Pass:
#   - every call issued has ended: sent == count, sent == ok + errors (none lost);
#   - every failure carries a clear status (UNAVAILABLE, RESOURCE_EXHAUSTED or
#     DEADLINE_EXCEEDED), and at least 90% of the calls succeed;
#   - no call outlives its deadline (slowest call <= deadline + 1 s) and the
#     bench itself ends within its time limit (nothing hangs);
#   - replica A drains: the jobs it held at SIGTERM finish with OK after the
#     drain started, none of its calls is CANCELLED, it logs the end of the
#     shutdown and exits 0 within its grace period;
#   - both faults really happened while calls were in flight on the replica.
# The report counts every outcome: calls ok / failed by status / lost, the
# attempts each replica served (by status), the attempts cut off by SIGKILL,
# and the retries these imply (attempts that reached a server minus calls).
#
# With FAULT_LB=nginx the same run goes through an L7 proxy instead (the
# default, FAULT_LB=auto, runs both when nginx is installed): nginx
# with deploy/nginx/nginx.conf (upstream and listen addresses rewritten to the
# loopback replicas), the client on one plain connection to the proxy.
#
# Only loopback (127.0.0.1) is used; everything is bounded in count and time.
#
# usage: fault_test.sh BUILD_DIR            (BUILD_DIR/server/specinv-server, BUILD_DIR/client/specinv)
#        fault_test.sh SPECINV_SERVER SPECINV
# environment (optional): FAULT_COUNT (200), FAULT_CONCURRENCY (16), FAULT_DEADLINE_MS (30000),
#   FAULT_SECONDS (audio length, 1), FAULT_ITERATIONS (fgla iterations, 32), FAULT_WORKERS (2),
#   FAULT_TIME_LIMIT_S (whole bench, 100), FAULT_LB (client | nginx | auto: client, then nginx
#   when installed), FAULT_NGINX (nginx binary),
#   FAULT_KEEP=1 keeps the work directory.
set -euo pipefail

if [[ $# -eq 1 ]]; then
  SERVER="$1/server/specinv-server"
  CLIENT="$1/client/specinv"
elif [[ $# -eq 2 ]]; then
  SERVER=$1
  CLIENT=$2
else
  echo "usage: $0 BUILD_DIR | $0 SPECINV_SERVER SPECINV" >&2
  exit 2
fi
for bin in "$SERVER" "$CLIENT"; do
  [[ -x "$bin" ]] || { echo "fault test: $bin is not an executable (build it first)" >&2; exit 2; }
done

PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
COUNT=${FAULT_COUNT:-200}
CONCURRENCY=${FAULT_CONCURRENCY:-16}
DEADLINE_MS=${FAULT_DEADLINE_MS:-30000}
SECONDS_AUDIO=${FAULT_SECONDS:-1}
ITERATIONS=${FAULT_ITERATIONS:-32}
WORKERS=${FAULT_WORKERS:-2}
TIME_LIMIT_S=${FAULT_TIME_LIMIT_S:-100}
GRACE_S=20
LB=${FAULT_LB:-auto}
if [[ "$LB" == auto ]]; then  # both routes, the proxy one when nginx is installed
  FAULT_LB=client bash "$0" "$@" || exit $?
  if command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; then
    FAULT_LB=nginx exec bash "$0" "$@"
  fi
  echo "fault test: nginx is not installed; the L7 proxy run was skipped (apt-get install nginx-light)"
  exit 0
fi
case "$LB" in
  client) ;;
  nginx)
    NGINX=${FAULT_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
    [[ -x "$NGINX" ]] || { echo "fault test: FAULT_LB=nginx needs nginx (apt-get install nginx-light)" >&2; exit 2; } ;;
  *) echo "fault test: FAULT_LB must be client or nginx, got $LB" >&2; exit 2 ;;
esac
# Faults are triggered by progress (InvertMel calls the replicas have finished),
# not by wall time, so they land mid-run on fast and slow machines alike.
TERM_AFTER=$((COUNT / 5))
KILL_AFTER=$((COUNT * 2 / 5))

WORK=$(mktemp -d "${TMPDIR:-/tmp}/specinv_fault.XXXXXX")
declare -a PIDS=("" "" "")
BENCH_PID=""
NGINX_PID=""
cleanup() {
  local pid
  if [[ -n "$NGINX_PID" ]]; then  # TERM: the master stops its workers
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  for pid in "$BENCH_PID" "${PIDS[@]}"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [[ "${FAULT_KEEP:-0}" == 1 ]]; then echo "fault test: work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  local i
  for i in 0 1 2; do
    if [[ -f "$WORK/server$i.log" ]]; then
      echo "--- replica $i log (tail) ---" >&2
      tail -n 8 "$WORK/server$i.log" >&2
    fi
  done
  [[ -f "$WORK/bench.err" ]] && { echo "--- bench stderr ---" >&2; cat "$WORK/bench.err" >&2; }
  [[ -f "$WORK/nginx/error.log" ]] && { echo "--- nginx error log (tail) ---" >&2; tail -n 8 "$WORK/nginx/error.log" >&2; }
  exit 1
}

# Eight distinct free loopback ports (held open together so none repeats).
read -r -a PORTS <<<"$($PY - <<'PY'
import socket
socks = []
for _ in range(8):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
)"
GRPC_PORTS=("${PORTS[0]}" "${PORTS[1]}" "${PORTS[2]}")
METRICS_PORTS=("${PORTS[3]}" "${PORTS[4]}" "${PORTS[5]}")
LB_PORT=${PORTS[6]}
LB_HEALTH_PORT=${PORTS[7]}
NAMES=(A B C)

for i in 0 1 2; do
  "$SERVER" --host 127.0.0.1 --port "${GRPC_PORTS[$i]}" --metrics-host 127.0.0.1 \
    --metrics-port "${METRICS_PORTS[$i]}" --http-port 0 --workers "$WORKERS" --queue-depth "$CONCURRENCY" \
    --shutdown-grace-s "$GRACE_S" --log-format json --log-level info >"$WORK/server$i.log" 2>&1 &
  PIDS[$i]=$!
done
for i in 0 1 2; do
  "$CLIENT" --server "127.0.0.1:${GRPC_PORTS[$i]}" --max-attempts 1 --deadline-ms 2000 --quiet \
    health --wait-s 60 || fail "replica ${NAMES[$i]} did not become SERVING"
done

# shellcheck source=scripts/metric.sh
source "$(dirname "$0")/../../scripts/metric.sh"
metric() { scrape_metric 127.0.0.1 "${METRICS_PORTS[$1]}" "$2"; }  # replica index, metric name -> integer value
finished_calls() {  # InvertMel calls the replicas have logged as finished, all replicas
  cat "$WORK"/server*.log | grep '"event":"rpc"' | grep -c '"method":"InvertMel"' || true
}

if [[ "$LB" == nginx ]]; then
  # deploy/nginx/nginx.conf with loopback addresses and a private prefix.
  mkdir -p "$WORK/nginx/logs"
  chmod 0755 "$WORK"  # nginx workers run as an unprivileged user when started by root
  "$PY" - "$(dirname "$0")/../../deploy/nginx/nginx.conf" "$WORK/nginx" "$LB_PORT" "$LB_HEALTH_PORT" \
    "${GRPC_PORTS[@]}" >"$WORK/nginx/nginx.conf" <<'PY' || fail "cannot adapt deploy/nginx/nginx.conf"
import re, sys
conf, prefix, port, health = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], sys.argv[4]
replicas = sys.argv[5:]
def sub(pattern, repl):
    global conf
    conf, n = re.subn(pattern, repl, conf, flags=re.M)
    assert n >= 1, pattern
sub(r"^(\s*)server specinv:50051 (.*);$",
    lambda m: "\n".join(f"{m.group(1)}server 127.0.0.1:{p} {m.group(2)};" for p in replicas))
sub(r"listen 50051 http2;", f"listen 127.0.0.1:{port} http2;")
sub(r"listen 8081;", f"listen 127.0.0.1:{health};")
sub(r"^worker_processes .*;$", "worker_processes 1;")
sub(r"/tmp/", prefix + "/")
sub(r"access_log /dev/stdout", f"access_log {prefix}/access.log")
sub(r"error_log /dev/stderr", f"error_log {prefix}/error.log")
print(conf)
PY
  "$NGINX" -t -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx/test.log" 2>&1 \
    || { cat "$WORK/nginx/test.log" >&2; fail "nginx rejects deploy/nginx/nginx.conf"; }
  "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' 2>>"$WORK/nginx/error.log" &
  NGINX_PID=$!
  "$CLIENT" --server "127.0.0.1:$LB_PORT" --max-attempts 1 --deadline-ms 2000 --quiet health --wait-s 30 \
    || fail "no SERVING answer through nginx"
  TARGET="127.0.0.1:$LB_PORT"
  LB_ARGS=()
  ROUTE="nginx grpc_pass on 127.0.0.1:$LB_PORT"
else
  TARGET="ipv4:127.0.0.1:${GRPC_PORTS[0]},127.0.0.1:${GRPC_PORTS[1]},127.0.0.1:${GRPC_PORTS[2]}"
  LB_ARGS=(--lb round_robin)
  ROUTE="client-side round_robin"
fi
echo "fault test: replicas A B C on 127.0.0.1:${GRPC_PORTS[*]} via $ROUTE; $COUNT InvertMel calls" \
  "(fgla, $ITERATIONS iterations, ${SECONDS_AUDIO} s audio) at concurrency $CONCURRENCY, deadline ${DEADLINE_MS} ms"
START_NS=$(date +%s%N)
timeout --signal=KILL "$TIME_LIMIT_S" \
  "$CLIENT" --server "$TARGET" "${LB_ARGS[@]}" --deadline-ms "$DEADLINE_MS" --max-attempts 5 \
  --initial-backoff-ms 50 bench --rpc invert-mel --count "$COUNT" --concurrency "$CONCURRENCY" \
  --seconds "$SECONDS_AUDIO" --method fgla --iterations "$ITERATIONS" --json \
  >"$WORK/bench.json" 2>"$WORK/bench.err" &
BENCH_PID=$!

# --- faults ----------------------------------------------------------------------
wait_for_progress() {  # calls finished on the replicas before the next fault
  local target=$1
  while (($(finished_calls) < target)); do
    kill -0 "$BENCH_PID" 2>/dev/null || fail "the bench ended before $target calls finished (raise FAULT_COUNT)"
    sleep 0.05
  done
}

wait_for_progress "$TERM_AFTER"
A_IN_FLIGHT=$(metric 0 specinv_rpcs_in_flight)
kill -TERM "${PIDS[0]}"
TERM_NS=$(date +%s%N)
echo "fault test: SIGTERM replica A after $(finished_calls) finished calls (calls in flight on A: ${A_IN_FLIGHT:-?})"

wait_for_progress "$KILL_AFTER"
B_IN_FLIGHT=$(metric 1 specinv_rpcs_in_flight)
disown "${PIDS[1]}"  # no job notice from bash for the kill
kill -KILL "${PIDS[1]}"
echo "fault test: SIGKILL replica B after $(finished_calls) finished calls (calls in flight on B: ${B_IN_FLIGHT:-?})"
while kill -0 "${PIDS[1]}" 2>/dev/null; do sleep 0.05; done
PIDS[1]=""

# Replica A must finish draining and exit 0 within its grace period.
A_STATUS=""
while [[ -z "$A_STATUS" ]]; do
  if ! kill -0 "${PIDS[0]}" 2>/dev/null; then
    A_STATUS=0
    wait "${PIDS[0]}" || A_STATUS=$?
  elif (($(date +%s%N) - TERM_NS > (GRACE_S + 10) * 1000000000)); then
    fail "replica A is still running $((GRACE_S + 10)) s after SIGTERM"
  else
    sleep 0.05
  fi
done
A_EXIT_S=$($PY -c "print(f'{($(date +%s%N) - $TERM_NS) / 1e9:.2f}')")
PIDS[0]=""
[[ "$A_STATUS" -eq 0 ]] || fail "replica A exited with status $A_STATUS after SIGTERM (want 0)"

BENCH_STATUS=0
wait "$BENCH_PID" || BENCH_STATUS=$?
BENCH_PID=""
BENCH_S=$($PY -c "print(f'{($(date +%s%N) - $START_NS) / 1e9:.1f}')")
[[ $BENCH_STATUS -ne 137 ]] || fail "the bench did not finish within ${TIME_LIMIT_S} s (killed): calls hung"
[[ $BENCH_STATUS -eq 0 ]] || fail "the bench exited with status $BENCH_STATUS"

if [[ -n "$NGINX_PID" ]]; then
  kill -QUIT "$NGINX_PID"  # graceful
  wait "$NGINX_PID" || true
  NGINX_PID=""
fi
kill -TERM "${PIDS[2]}"
C_STATUS=0
wait "${PIDS[2]}" || C_STATUS=$?
PIDS[2]=""
[[ $C_STATUS -eq 0 ]] || fail "replica C exited with status $C_STATUS after SIGTERM (want 0)"

# --- verdict -----------------------------------------------------------------------
$PY - "$WORK" "$COUNT" "$DEADLINE_MS" "${A_IN_FLIGHT:-0}" "${B_IN_FLIGHT:-0}" \
  "$A_EXIT_S" "$BENCH_S" "$GRACE_S" <<'PY' || fail "see above"
import json, sys
work, count, deadline_ms = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
a_in_flight, b_in_flight = int(sys.argv[4]), int(sys.argv[5])
a_exit_s, bench_s, grace_s = float(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8])
CLEAR = {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"}
problems = []

report = json.load(open(f"{work}/bench.json"))
sent, ok, errors = report["sent"], report["ok"], report["errors"]
lost = count - sent
failed = sum(errors.values())

def stamp(event):  # "2026-01-01T12:00:00.123Z" -> seconds (same day is enough here)
    t = event["time"].split("T")[1].rstrip("Z")
    h, m, sec = t.split(":")
    return int(h) * 3600 + int(m) * 60 + float(sec)

def events(i):
    out = []
    for line in open(f"{work}/server{i}.log"):
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                problems.append(f"replica {'ABC'[i]}: unparsable log line {line[:80]!r}")
    return out

logs = [events(i) for i in range(3)]
attempts = []  # per replica: status -> InvertMel attempts it finished
for ev in logs:
    by_status = {}
    for e in ev:
        if e.get("event") == "rpc" and e.get("method") == "InvertMel":
            by_status[e["status"]] = by_status.get(e["status"], 0) + 1
    attempts.append(by_status)
served = sum(sum(a.values()) for a in attempts)
reached = served + b_in_flight  # attempts that reached a replica's handler
retries = reached - sent

# Calls: nothing lost, only clear statuses, nothing past its deadline.
if lost != 0:
    problems.append(f"{lost} calls lost (count {count}, sent {sent})")
if ok + failed != sent:
    problems.append(f"ok {ok} + failed {failed} != sent {sent}")
unclear = {c: n for c, n in errors.items() if c not in CLEAR}
if unclear:
    problems.append(f"failures without a clear status: {unclear}")
    if "CANCELLED" in unclear:
        problems.append("CANCELLED with no client cancellation: a call the SIGTERMed replica had received but not "
                        "yet handed to a handler when it shut down (gRPC core cancels those, grpc/grpc#41785); "
                        "the retry policy does not retry CANCELLED")
if ok < 0.9 * count:
    problems.append(f"only {ok} of {count} calls succeeded (want >= 90%)")
slowest = report["latency_all"]["max_ms"]
if slowest > deadline_ms + 1000:
    problems.append(f"slowest call took {slowest:.0f} ms, past its {deadline_ms:.0f} ms deadline")
overdue = report.get("overdue")  # the bench's own count of calls past deadline + 1 s (newer clients)
if overdue:
    problems.append(f"the bench counted {overdue} calls past their deadline")

# Both faults landed on busy replicas.
if a_in_flight < 1:
    problems.append("replica A had no call in flight at SIGTERM")
if b_in_flight < 1:
    problems.append("replica B had no call in flight at SIGKILL")

# Replica A drained: jobs held at SIGTERM finished OK afterwards; nothing cancelled.
a = logs[0]
drain = [k for k, e in enumerate(a) if e.get("event") == "shutdown" and e.get("phase") == "draining"]
done = [e for e in a if e.get("event") == "shutdown" and e.get("phase") == "done"]
if not drain:
    problems.append("replica A logged no shutdown/draining event")
else:
    d = a[drain[0]]
    busy, queued = int(d.get("busy_workers", 0)), int(d.get("queued_jobs", 0))
    drain_time = stamp(d)
    # A worker counted busy may be finishing a call it logged a moment before
    # the draining line; queued jobs had not started and must all finish after.
    finishing = sum(1 for e in a[:drain[0]] if e.get("event") == "rpc" and drain_time - stamp(e) < 0.05)
    must_finish = queued + max(0, busy - finishing)
    after = [e for e in a[drain[0] + 1:] if e.get("event") == "rpc" and e.get("method") == "InvertMel"]
    after_ok = sum(1 for e in after if e["status"] == "OK")
    not_ok = [e["status"] for e in after if e["status"] != "OK"]
    if after_ok < must_finish:
        problems.append(f"replica A held {busy} running and {queued} queued jobs at SIGTERM "
                        f"but finished only {after_ok} with OK")
    if not_ok:
        problems.append(f"replica A ended calls with {not_ok} while draining")
    print(f"  replica A drain: {busy + queued} jobs held at SIGTERM ({busy} running, {queued} queued), "
          f"{after_ok} calls finished OK after SIGTERM, exit 0 after {a_exit_s:.2f} s (grace {grace_s:.0f} s)")
if not done:
    problems.append("replica A logged no shutdown/done event")
if a_exit_s > grace_s + 5:
    problems.append(f"replica A took {a_exit_s:.1f} s to exit (grace {grace_s:.0f} s)")
if any(e.get("status") == "CANCELLED" for e in a if e.get("event") == "rpc"):
    problems.append("replica A cancelled calls")

proxy = {}
try:
    for line in open(f"{work}/nginx/access.log"):
        if "InvertMel" in line:
            m = __import__("re").search(r'" (\d+) grpc-status=(\S+)', line)
            key = f"HTTP {m.group(1)} grpc-status {m.group(2)}" if m else "unparsed"
            proxy[key] = proxy.get(key, 0) + 1
except FileNotFoundError:
    proxy = None

def fmt(d):
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items())) or "none"

print(f"  calls: {count} issued, {sent} ended, {ok} ok, {failed} failed ({fmt(errors)}), {lost} lost, "
      f"slowest {slowest:.0f} ms (deadline {deadline_ms:.0f} ms"
      + (f", {overdue} overdue" if overdue is not None else "") + f"), bench {bench_s:.1f} s")
for i, name in enumerate("ABC"):
    print(f"  replica {name} finished attempts: {fmt(attempts[i])}")
if proxy is not None:
    print(f"  nginx InvertMel responses: {fmt(proxy)}")
print(f"  replica B: {b_in_flight} attempts in flight at SIGKILL (cut off, retried elsewhere)")
print(f"  retries: {reached} attempts reached a replica for {sent} calls -> {retries} retried attempts"
      f" (plus transparent retries of streams refused before reaching a handler)")
if "retried" in report:  # the client's own count (calls whose final attempt was not the first)
    print(f"  retried calls reported by the bench: {report['retried']}")
summary = {"count": count, "sent": sent, "ok": ok, "failed": errors, "lost": lost,
           "retried_attempts": retries, "attempts_by_replica": dict(zip("ABC", attempts)),
           "killed_in_flight": b_in_flight, "sigterm_in_flight": a_in_flight,
           "slowest_ms": slowest, "overdue": overdue, "replica_a_exit_s": a_exit_s,
           "bench_retried": report.get("retried")}
if proxy is not None:
    summary["nginx"] = proxy
print("  summary: " + json.dumps(summary, sort_keys=True))
if problems:
    for p in problems:
        print("  problem: " + p)
    sys.exit(1)
PY
echo "fault test: OK"
