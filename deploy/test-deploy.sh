#!/usr/bin/env bash
# Deployment test on a real container engine (podman; `make deploy-test`):
#
#   1. tools: podman, podman-compose and runc from Debian (deploy/engine.sh;
#      without a registry ../shared/tools/container-env.sh provides the
#      debian:bookworm base images locally);
#   2. images: the server (deploy/Dockerfile, compiled inside the build) and
#      the nginx gRPC balancer (deploy/nginx/), tagged as deploy/compose.yaml
#      and deploy/k8s/ name them (specinv:0.1.0, specinv-lb:0.1.0);
#   3. compose: deploy/compose.yaml with podman-compose (project "specinv",
#      bridge network, the balancer published on a free host port): three
#      replicas behind nginx;
#   4. load and faults: `specinv bench` (the image's own client, on the host
#      network) sends COUNT InvertMel calls through the balancer at
#      concurrency 4, with the client's retry policy (UNAVAILABLE and
#      RESOURCE_EXHAUSTED, --max-attempts 5) and a deadline per call. Once a
#      third of the calls have reached the balancer, the replica with the most
#      calls in flight is killed (`podman kill`, SIGKILL); at half, another
#      busy one is stopped (`podman stop`: SIGTERM, the server drains and
#      exits 0);
#   5. Kubernetes: `podman kube play` of the Deployment in deploy/k8s (a
#      generated one-document YAML holding only the Deployment: its pod spec
#      with probes, resources, security context and env as the manifest has
#      them; one replica, ports pinned to free host ports, see step 5 below);
#      the script checks what podman applied (uid, read-only root, dropped
#      capabilities, limits), readiness with grpc.health.v1 through `specinv
#      health` (see below), then InvertMel calls are served by the pod;
#      `podman kube down` removes it. What kube play cannot express
#      (Services, HPA, PDB, NetworkPolicy) is checked by
#      tests/deploy/manifests_test.py;
#   6. everything started here is removed on exit, pass or fail (trap);
#      images and the build cache are kept (reruns rebuild only what changed).
#
# Call outcomes (each InvertMel call the bench issues is counted once, by the
# final status the client saw after its own retries):
#   ok      the call returned OK, at the first attempt or after retries
#           ("ok after retry": an attempt cut off by the kill or refused by a
#           draining replica came back as UNAVAILABLE and was retried);
#   failed  the call ended with a clear status that tells the caller what
#           happened and that retrying later may work: UNAVAILABLE,
#           RESOURCE_EXHAUSTED or DEADLINE_EXCEEDED after all attempts;
#   lost    the call never ended (the bench did not report it within its time
#           limit) or ended with a status that means "accepted and then
#           dropped" rather than refused: CANCELLED (no cancellation was
#           asked for), UNKNOWN, INTERNAL, DATA_LOSS, or any other code.
# Pass: 0 lost; ok >= 90% of the calls; the kill cut off at least one call in
# flight on the killed replica (nginx answered it UNAVAILABLE, the client
# retried it); the stopped replica held at least one job at SIGTERM, ended
# every call after it with OK, logged the end of its drain and exited 0.
# Retried attempts are counted at the balancer: InvertMel attempts in nginx's
# access log minus calls.
#
# Probes under podman: podman 4.3's kube play turns exec / httpGet / tcpSocket
# liveness probes into container health checks but ignores `grpc:` probes
# (and readiness / startup probes), so the pod gets no health check from the
# manifest; the script reports what podman configured and checks readiness the
# way the probe would, with grpc.health.v1 Check on the probe's port and
# service (`specinv health`, which exits 0 only when SERVING).
#
# usage: deploy/test-deploy.sh          (as root: installs packages and runs containers)
# environment: DEPLOY_COUNT (InvertMel calls, 300), DEPLOY_CONCURRENCY (4),
#   DEPLOY_SECONDS (audio per call, 3), DEPLOY_ITERATIONS (fgla iterations, 64),
#   DEPLOY_DEADLINE_MS (per call, 30000), DEPLOY_TIME_LIMIT_S (whole load, 300),
#   SPECINV_BUILD_JOBS (2), DEPLOY_BUILD=0 (use the existing images as they are),
#   DEPLOY_KEEP=1 (keep the work directory);
#   SPECINV_IMAGE_MAX_MB (200, the server image size limit).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COUNT=${DEPLOY_COUNT:-300}
CONCURRENCY=${DEPLOY_CONCURRENCY:-4}
SECONDS_AUDIO=${DEPLOY_SECONDS:-3}
ITERATIONS=${DEPLOY_ITERATIONS:-64}
DEADLINE_MS=${DEPLOY_DEADLINE_MS:-30000}
TIME_LIMIT_S=${DEPLOY_TIME_LIMIT_S:-300}
MAX_MB=${SPECINV_IMAGE_MAX_MB:-200}
IMAGE=specinv:0.1.0
LB_IMAGE=specinv-lb:0.1.0
PROJECT=specinv
LB=${PROJECT}_lb_1
REPLICAS=("${PROJECT}_specinv_1" "${PROJECT}_specinv_2" "${PROJECT}_specinv_3")
BENCH=specinv-deploy-bench-$$
CLIENT=specinv-deploy-client-$$
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/specinv_deploy.XXXXXX")
START_S=$(date +%s)

log() { echo "test-deploy: $*"; }
fail() {
  echo "test-deploy: FAIL: $*" >&2
  local c
  for c in "${REPLICAS[@]}" "$LB"; do
    if [[ -n "${ENGINE:-}" ]] && podman container exists "$c" 2>/dev/null; then
      echo "--- $c log (tail) ---" >&2
      podman logs --tail 6 "$c" >&2 2>&1 || true
    fi
  done
  if [[ -n "${KUBE_CTR:-}" ]]; then
    echo "--- $KUBE_CTR log (tail) ---" >&2
    podman logs --tail 6 "$KUBE_CTR" >&2 2>&1 || true
  fi
  [[ -s "$WORK/bench.err" ]] && { echo "--- bench stderr ---" >&2; tail -n 20 "$WORK/bench.err" >&2; }
  exit 1
}

COMPOSE_UP=0
KUBE_UP=0
BENCH_PID=""
cleanup() {
  local status=$? _
  set +e
  [[ -n "$BENCH_PID" ]] && kill "$BENCH_PID" 2>/dev/null
  for _ in 1 2 3 4 5; do  # the client containers may still be starting
    podman rm -f -t 0 "$BENCH" "$CLIENT" >/dev/null 2>&1
    podman container exists "$BENCH" || podman container exists "$CLIENT" || break
    sleep 1
  done
  if ((KUBE_UP)); then
    podman kube down "$WORK/deployment.yaml" >/dev/null 2>&1
  fi
  if [[ -n "${KUBE_NET_NEW:-}" ]]; then  # the network kube play created
    podman network rm "$KUBE_NET_NEW" >/dev/null 2>&1
  fi
  if ((COMPOSE_UP)); then
    (cd "$ROOT/deploy" && podman-compose -p "$PROJECT" -f compose.yaml down -t 5 >"$WORK/down.log" 2>&1)
    podman rm -f -t 0 "${REPLICAS[@]}" "$LB" >/dev/null 2>&1
    podman network rm -f "${PROJECT}_default" >/dev/null 2>&1
  fi
  if [[ "${DEPLOY_KEEP:-0}" == 1 ]]; then echo "test-deploy: work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. tools ------------------------------------------------------------------------
ENGINE_LOG_PREFIX=test-deploy
# shellcheck source=deploy/engine.sh
source "$ROOT/deploy/engine.sh"
engine_select podman || fail "could not prepare podman"
command -v podman-compose >/dev/null 2>&1 || fail "podman-compose is missing (scripts/install-deps.sh deploy)"
PODMAN_RUN=(podman run "${ENGINE_RUN_ARGS[@]}")
COMPOSE_VERSION=$(podman-compose version 2>/dev/null | sed -n 's/^podman-composer* version *//p' | head -n 1)
log "podman-compose ${COMPOSE_VERSION:-?}"

# Containers of an earlier, interrupted run would hold the names.
if podman container exists "$LB" || podman container exists "${REPLICAS[0]}"; then
  log "removing the containers of an earlier run"
  podman rm -f "${REPLICAS[@]}" "$LB" >/dev/null 2>&1 || true
fi

# --- 2. images -------------------------------------------------------------------------
if [[ "${DEPLOY_BUILD:-1}" == 1 ]]; then
  engine_runtime_base || fail "could not derive the slim base image"
  log "building $IMAGE (compiles specinv-server and specinv inside the build; cached layers are reused)"
  BUILD_S=$(engine_build "$IMAGE" "$ROOT/deploy/Dockerfile" "$ROOT" "$WORK/build.log") || fail "server image build failed"
  log "building $LB_IMAGE"
  LB_BUILD_S=$(engine_build "$LB_IMAGE" "$ROOT/deploy/nginx/Dockerfile" "$ROOT/deploy/nginx" "$WORK/build-lb.log") \
    || fail "balancer image build failed"
else
  for image in "$IMAGE" "$LB_IMAGE"; do
    podman image exists "$image" || fail "DEPLOY_BUILD=0 but there is no image $image"
  done
  BUILD_S="-" LB_BUILD_S="-"  # not built here
fi
IMAGE_MB=$(engine_image_mb "$IMAGE")
LB_MB=$(engine_image_mb "$LB_IMAGE")
log "images: $IMAGE $IMAGE_MB MB (build: $BUILD_S s), $LB_IMAGE $LB_MB MB (build: $LB_BUILD_S s)"
((IMAGE_MB < MAX_MB)) || fail "the server image is $IMAGE_MB MB, over $MAX_MB MB"

# The image's client, on the host network (reaches the published balancer port).
specinv_client() { "${PODMAN_RUN[@]}" --rm --init --no-healthcheck --network host --entrypoint specinv "$IMAGE" "$@"; }

# --- 3. compose ------------------------------------------------------------------------
LB_PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log "podman-compose up: 3 replicas + nginx, balancer on 127.0.0.1:$LB_PORT"
COMPOSE_UP=1
(cd "$ROOT/deploy" && SPECINV_LB_PORT=$LB_PORT podman-compose -p "$PROJECT" -f compose.yaml \
   --podman-run-args "${ENGINE_RUN_ARGS[*]}" up -d --no-build >"$WORK/up.log" 2>&1) \
  || { tail -n 30 "$WORK/up.log" >&2; fail "podman-compose up failed"; }
for c in "${REPLICAS[@]}" "$LB"; do
  [[ "$(podman inspect --format '{{.State.Running}}' "$c" 2>/dev/null)" == true ]] \
    || { tail -n 30 "$WORK/up.log" >&2; fail "container $c is not running after podman-compose up"; }
done

# Each replica's compose health check (`specinv health` in the container),
# run on demand: podman without systemd does not schedule it by itself.
for c in "${REPLICAS[@]}"; do
  healthy=0
  for _ in $(seq 1 120); do
    if podman healthcheck run "$c" >/dev/null 2>&1; then healthy=1; break; fi
    sleep 0.5
  done
  ((healthy)) || fail "replica $c never passed its health check"
done
specinv_client --server "127.0.0.1:$LB_PORT" --deadline-ms 3000 --max-attempts 1 --quiet health --wait-s 60 \
  || fail "no SERVING answer through the balancer"
log "replicas healthy (compose health check); SERVING through nginx"

# --- 4. load and faults ------------------------------------------------------------------
# shellcheck source=scripts/metric.sh
source "$ROOT/scripts/metric.sh"
metric() { scrape_metric "$1" 9090 "$2"; }  # replica address, metric name -> integer value (empty when unreachable)
proxied_calls() {  # InvertMel attempts the balancer has finished (its access log)
  podman logs "$LB" 2>/dev/null | grep -c 'Spectrogram/InvertMel' || true
}
busiest() {  # the replica (not $1) with the most calls in flight; waits for one
  local skip=${1:-} best="" best_n=0 n c
  for _ in $(seq 1 100); do
    for c in "${REPLICAS[@]}"; do
      [[ "$c" == "$skip" ]] && continue
      n=$(metric "${ADDRESS[$c]}" specinv_rpcs_in_flight)
      if [[ -n "$n" ]] && ((n > best_n)); then best=$c; best_n=$n; fi
    done
    if [[ -n "$best" ]]; then echo "$best $best_n"; return; fi
    sleep 0.05
  done
  for c in "${REPLICAS[@]}"; do [[ "$c" != "$skip" ]] && { echo "$c 0"; return; }; done
}
address() { podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }
wait_for_calls() {
  while (($(proxied_calls) < $1)); do
    podman container exists "$BENCH" || fail "the load ended before $1 calls reached the balancer (raise DEPLOY_COUNT)"
    sleep 0.3
  done
}

log "load: $COUNT InvertMel calls (fgla, $ITERATIONS iterations, ${SECONDS_AUDIO} s audio) at concurrency" \
  "$CONCURRENCY through nginx; deadline ${DEADLINE_MS} ms, up to 5 attempts per call"
ADDRESSES=""
declare -A ADDRESS
for c in "${REPLICAS[@]}"; do
  ADDRESS[$c]=$(address "$c")
  ADDRESSES+="$c=${ADDRESS[$c]} "
  [[ -n "$(metric "${ADDRESS[$c]}" specinv_workers)" ]] || fail "no /metrics from $c at ${ADDRESS[$c]}:9090"
done
LOAD_START=$(date +%s%N)
timeout -k 10 "$TIME_LIMIT_S" "${PODMAN_RUN[@]}" --rm --init --no-healthcheck --name "$BENCH" --network host --entrypoint specinv "$IMAGE" \
  --server "127.0.0.1:$LB_PORT" --deadline-ms "$DEADLINE_MS" --max-attempts 5 --initial-backoff-ms 100 \
  bench --rpc invert-mel --count "$COUNT" --concurrency "$CONCURRENCY" --seconds "$SECONDS_AUDIO" \
  --method fgla --iterations "$ITERATIONS" --json >"$WORK/bench.json" 2>"$WORK/bench.err" &
BENCH_PID=$!
for _ in $(seq 1 100); do podman container exists "$BENCH" && break; sleep 0.1; done

wait_for_calls $((COUNT / 3))
PICK_NS=$(date +%s%N)
read -r KILLED KILLED_IN_FLIGHT <<<"$(busiest)"
PICK_S=$($PY -c "print(f'{($(date +%s%N) - $PICK_NS) / 1e9:.1f}')")
KILLED_IP=${ADDRESS[$KILLED]}
podman kill --signal KILL "$KILLED" >/dev/null
log "podman kill $KILLED after $(proxied_calls) calls at the balancer ($KILLED_IN_FLIGHT calls in flight on it;" \
  "picked in $PICK_S s)"

wait_for_calls $((COUNT / 2))
read -r STOPPED STOPPED_IN_FLIGHT <<<"$(busiest "$KILLED")"
STOPPED_IP=${ADDRESS[$STOPPED]}
STOP_NS=$(date +%s%N)
podman stop -t 35 "$STOPPED" >"$WORK/stop.log" 2>&1 &
STOP_PID=$!
log "podman stop $STOPPED after $(proxied_calls) calls at the balancer ($STOPPED_IN_FLIGHT calls in flight on it)"

STOP_STATUS=0
wait "$STOP_PID" || STOP_STATUS=$?
STOP_S=$($PY -c "print(f'{($(date +%s%N) - $STOP_NS) / 1e9:.1f}')")
BENCH_STATUS=0
wait "$BENCH_PID" || BENCH_STATUS=$?
BENCH_PID=""
LOAD_S=$($PY -c "print(f'{($(date +%s%N) - $LOAD_START) / 1e9:.1f}')")
((STOP_STATUS == 0)) || { cat "$WORK/stop.log" >&2; fail "podman stop $STOPPED failed"; }
STOPPED_EXIT=$(podman inspect --format '{{.State.ExitCode}}' "$STOPPED")
podman logs "$STOPPED" >"$WORK/stopped.log" 2>&1 || true
KILLED_STATE=$(podman inspect --format '{{.State.Status}} (restarts: {{.RestartCount}})' "$KILLED" 2>/dev/null || echo gone)
podman logs "$LB" >"$WORK/lb.log" 2>/dev/null || true

$PY - "$WORK" "$COUNT" "$BENCH_STATUS" "$LOAD_S" "$KILLED" "$KILLED_IN_FLIGHT" "$STOPPED" "$STOPPED_IN_FLIGHT" \
  "$STOPPED_EXIT" "$STOP_S" "$KILLED_STATE" "$TIME_LIMIT_S" "$KILLED_IP" "$STOPPED_IP" "$ADDRESSES" >"$WORK/load-report.txt" <<'PY' || { cat "$WORK/load-report.txt"; fail "see above"; }
import json, re, sys
work, count, bench_status, load_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
killed, killed_in_flight, stopped, stopped_in_flight = sys.argv[5], int(sys.argv[6]), sys.argv[7], int(sys.argv[8])
stopped_exit, stop_s, killed_state, limit_s = sys.argv[9], float(sys.argv[10]), sys.argv[11], sys.argv[12]
killed_ip, stopped_ip = sys.argv[13], sys.argv[14]
names = dict(reversed(pair.split("=", 1)) for pair in sys.argv[15].split())  # address -> replica
CLEAR = {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"}
problems = []
try:
    report = json.load(open(f"{work}/bench.json"))
except (OSError, ValueError):
    report = {"sent": 0, "ok": 0, "errors": {},
              "latency_all": {"p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")},
              "latency_ok": {"p99_ms": float("nan")}}
    problems.append(f"the bench reported nothing (exit status {bench_status}"
                    + (", killed at the time limit" if bench_status == 124 else "") + ")")
sent, ok, errors = report["sent"], report["ok"], report["errors"]
failed = sum(n for code, n in errors.items() if code in CLEAR)
dropped = {code: n for code, n in errors.items() if code not in CLEAR}
lost = (count - sent) + sum(dropped.values())
if lost:
    problems.append(f"{lost} calls lost: {count - sent} never ended, dropped {dropped or '{}'}")
if ok < 0.9 * count:
    problems.append(f"only {ok} of {count} calls succeeded (want >= 90%)")
stopped_log = open(f"{work}/stopped.log").read()
if stopped_exit != "0":
    problems.append(f"{stopped} exited with {stopped_exit} after SIGTERM (want 0)")
if '"phase":"done"' not in stopped_log:
    problems.append(f"{stopped} logged no end of its drain")
# The stopped replica's own log: the jobs it held when SIGTERM came and the
# calls it finished afterwards (all must be OK: a drain refuses new calls but
# completes the ones it has).
events = []
for line in stopped_log.splitlines():
    line = line[line.find("{"):] if "{" in line else ""
    try:
        events.append(json.loads(line))
    except ValueError:
        pass
drain = [k for k, e in enumerate(events) if e.get("event") == "shutdown" and e.get("phase") == "draining"]
held, after = 0, {}
if not drain:
    problems.append(f"{stopped} logged no start of a drain")
else:
    d = events[drain[0]]
    held = int(d.get("busy_workers", 0)) + int(d.get("queued_jobs", 0))
    for e in events[drain[0] + 1:]:
        if e.get("event") == "rpc" and e.get("method") == "InvertMel":
            after[e["status"]] = after.get(e["status"], 0) + 1
    if any(code != "OK" for code in after):
        problems.append(f"{stopped} ended calls with {after} while draining")
    if held < 1:
        problems.append(f"{stopped} held no job when SIGTERM came (the drain was not exercised)")

attempts, by_result, cut_off, by_replica = 0, {}, 0, {}
for line in open(f"{work}/lb.log"):
    if "Spectrogram/InvertMel" not in line:
        continue
    attempts += 1
    m = re.search(r'" (\d+) grpc-status=(\S+) upstream=(.*?) request_time=', line)
    if not m:
        key = "unparsed"
    elif m.group(1) == "204":
        key = "nginx UNAVAILABLE (upstream failed)"
        cut_off += any(u.strip().split(":")[0] == killed_ip for u in m.group(3).split(","))
    else:
        key = {"0": "OK", "14": "UNAVAILABLE", "8": "RESOURCE_EXHAUSTED", "4": "DEADLINE_EXCEEDED"}.get(
            m.group(2), f"grpc-status {m.group(2)}")
    if m:  # the replica that gave the final answer (nginx lists every one it tried)
        last = m.group(3).split(",")[-1].strip().split(":")[0]
        name = names.get(last, last).rsplit("_", 1)[-1]
        by_replica[f"#{name}"] = by_replica.get(f"#{name}", 0) + 1
    by_result[key] = by_result.get(key, 0) + 1
fmt = lambda d: ", ".join(f"{k} {v}" for k, v in sorted(d.items())) or "none"
lat_all, lat_ok = report["latency_all"], report["latency_ok"]
print(f"calls           {count} issued: {ok} ok, {failed} failed ({fmt({k: v for k, v in errors.items() if k in CLEAR})}), "
      f"{lost} lost")
print(f"retries         {attempts} attempts at the balancer for {sent} calls -> {max(0, attempts - sent)} retried "
      f"({fmt(by_result)})")
print(f"by replica      attempts answered by replica {fmt(by_replica)}")
print(f"latency         p50 {lat_all['p50_ms']:.0f} ms, p99 {lat_all['p99_ms']:.0f} ms (all calls; ok calls: p99 "
      f"{lat_ok['p99_ms']:.0f} ms), max {lat_all['max_ms']:.0f} ms; load {load_s:.1f} s (limit {limit_s} s)")
if cut_off < 1:
    problems.append(f"no call was in flight on {killed} when it was killed (nothing was cut off)")
print(f"kill            {killed}: SIGKILL with {killed_in_flight} calls in flight (read just before); "
      f"{cut_off} cut off -> UNAVAILABLE from nginx, retried; afterwards {killed_state}")
print(f"graceful stop   {stopped}: SIGTERM holding {held} jobs ({stopped_in_flight} calls in flight just before); "
      f"finished after SIGTERM: {fmt(after)}; exited {stopped_exit} after {stop_s:.1f} s")
for p in problems:
    print(f"PROBLEM: {p}")
sys.exit(1 if problems else 0)
PY
log "load and faults: pass"

COMPOSE_UP=0
(cd "$ROOT/deploy" && podman-compose -p "$PROJECT" -f compose.yaml down -t 35 >"$WORK/down.log" 2>&1) || true
podman rm -f "${REPLICAS[@]}" "$LB" >/dev/null 2>&1 || true
podman network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true
log "compose down"

# --- 5. Kubernetes Deployment with podman kube play ----------------------------------------
# The Deployment object as deploy/k8s has it, alone in one document, with two
# changes podman 4.3 forces: it publishes every containerPort on the host (on
# hostPort, else on the same port number), so a second replica could not bind
# its ports and the ports of a shared machine may be taken. The copy runs one
# replica and pins each port to a free host port (hostPort); the pod spec is
# otherwise untouched. Replica count and scaling belong to the HPA
# (tests/deploy/manifests_test.py).
$PY - "$ROOT/deploy/k8s" >"$WORK/deployment.yaml" <<'PY' || fail "cannot read the Deployment from deploy/k8s"
import os, socket, sys, yaml
k8s = sys.argv[1]
resources = yaml.safe_load(open(os.path.join(k8s, "kustomization.yaml")))["resources"]
found = [d for name in resources for d in yaml.safe_load_all(open(os.path.join(k8s, name)))
         if d and d.get("kind") == "Deployment"]
assert len(found) == 1, f"want one Deployment in {resources}, found {len(found)}"
deployment = found[0]
deployment["spec"]["replicas"] = 1
socks = []
for container in deployment["spec"]["template"]["spec"]["containers"]:
    for port in container.get("ports", []):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        port["hostPort"] = s.getsockname()[1]
yaml.safe_dump(deployment, sys.stdout, sort_keys=False)
PY
KUBE_NETS_BEFORE=$(podman network ls --format '{{.Name}}')
KUBE_UP=1
podman kube play "${ENGINE_GLOBAL_ARGS[@]}" "$WORK/deployment.yaml" >"$WORK/kube.log" 2>&1 \
  || { cat "$WORK/kube.log" >&2; fail "podman kube play failed"; }
KUBE_NAME=$($PY -c "import yaml,sys; print(yaml.safe_load(open(sys.argv[1]))['metadata']['name'])" "$WORK/deployment.yaml")
mapfile -t PODS < <(podman pod ps --filter "name=^${KUBE_NAME}-pod" --format '{{.Name}}')
((${#PODS[@]} >= 1)) || fail "podman kube play started no pod"
KUBE_CTR=$(podman ps --filter "pod=${PODS[0]}" --format '{{.Names}}' | grep -v -- '-infra$' | head -n 1)
[[ -n "$KUBE_CTR" ]] || fail "no running server container in pod ${PODS[0]}"
INFRA=$(podman pod inspect --format '{{.InfraContainerID}}' "${PODS[0]}")
KUBE_NET=$(podman inspect --format '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' "$INFRA")
KUBE_IP=$(podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$INFRA")
[[ -n "$KUBE_IP" && -n "$KUBE_NET" ]] || fail "pod ${PODS[0]} has no network address"
grep -qxF "$KUBE_NET" <<<"$KUBE_NETS_BEFORE" || KUBE_NET_NEW=$KUBE_NET
# What podman made of the pod spec (absolute paths: the container's
# environment is the manifest's env, without a PATH).
read -r K_RO K_CAPS K_HEALTH K_CPU K_MEM <<<"$(podman inspect --format \
  '{{.HostConfig.ReadonlyRootfs}} {{len .EffectiveCaps}} {{if .Config.Healthcheck}}configured{{else}}none{{end}} {{.HostConfig.CpuQuota}} {{.HostConfig.Memory}}' \
  "$KUBE_CTR")"
K_UID=$(podman exec "$KUBE_CTR" /usr/bin/id -u 2>/dev/null)
K_ENV=$(podman exec "$KUBE_CTR" /usr/bin/printenv SPECINV_WORKERS 2>/dev/null)
log "kube play: pod ${PODS[0]}, container $KUBE_CTR at $KUBE_IP ($KUBE_NET); uid $K_UID, read-only root $K_RO," \
  "$K_CAPS capabilities, cpu quota $K_CPU/100000, memory limit $K_MEM, SPECINV_WORKERS=$K_ENV, health check from the probes: $K_HEALTH"
[[ "$K_UID" == 10001 ]] || fail "the pod runs as uid $K_UID, not the manifest's runAsUser 10001"
[[ "$K_RO" == true ]] || fail "readOnlyRootFilesystem was not applied"
[[ "$K_CAPS" == 0 ]] || fail "capabilities were not dropped"

# Readiness as the manifest's probes define it: grpc.health.v1 Check on port
# 50051 for "" (startup, liveness) and specinv.v1.Spectrogram (readiness).
KUBE_CLIENT=("${PODMAN_RUN[@]}" --rm --init --no-healthcheck --name "$CLIENT" --network "$KUBE_NET" --entrypoint specinv "$IMAGE"
             --server "$KUBE_IP:50051")
READY_START=$(date +%s%N)
"${KUBE_CLIENT[@]}" --deadline-ms 2000 --max-attempts 1 --quiet health --wait-s 60 \
  || fail "the pod never reported SERVING (startup probe)"
"${KUBE_CLIENT[@]}" --deadline-ms 2000 --max-attempts 1 --quiet health --service specinv.v1.Spectrogram \
  || fail "the pod is not ready (readiness probe service specinv.v1.Spectrogram)"
READY_S=$($PY -c "print(f'{($(date +%s%N) - $READY_START) / 1e9:.1f}')")
"${KUBE_CLIENT[@]}" --deadline-ms "$DEADLINE_MS" bench --rpc invert-mel --count 20 --concurrency 2 \
  --seconds "$SECONDS_AUDIO" --method fgla --iterations "$ITERATIONS" --json >"$WORK/kube-bench.json" 2>"$WORK/kube-bench.err" \
  || { cat "$WORK/kube-bench.err" >&2; fail "InvertMel calls to the pod failed"; }
KUBE_RESULT=$($PY -c "import json,sys; r = json.load(open(sys.argv[1])); \
print(f\"{r['ok']}/{r['sent']} ok, p99 {r['latency_all']['p99_ms']:.0f} ms\"); sys.exit(0 if r['ok'] == r['sent'] == 20 else 1)" \
  "$WORK/kube-bench.json") || fail "InvertMel calls to the pod: $KUBE_RESULT"
log "kube pod: SERVING (\"\" and specinv.v1.Spectrogram) after $READY_S s; 20 InvertMel calls: $KUBE_RESULT"
podman kube down "$WORK/deployment.yaml" >"$WORK/kube-down.log" 2>&1 || { cat "$WORK/kube-down.log" >&2; fail "podman kube down failed"; }
KUBE_UP=0
[[ -n "${KUBE_NET_NEW:-}" ]] && podman network rm "$KUBE_NET_NEW" >/dev/null 2>&1 && KUBE_NET_NEW=""
log "kube down"

# --- report ------------------------------------------------------------------------------
TOTAL_S=$(( $(date +%s) - START_S ))
cat <<EOF
==================== specinv deployment test: PASS ====================
engine          $(podman --version), podman-compose ${COMPOSE_VERSION:-?}, runc
images          $IMAGE $IMAGE_MB MB (build $BUILD_S s), $LB_IMAGE $LB_MB MB (build $LB_BUILD_S s)
compose         3 replicas behind nginx grpc_pass (podman-compose, bridge network)
$(cat "$WORK/load-report.txt")
kube play       Deployment (1 replica): uid $K_UID, read-only root, no capabilities, cpu/memory limits applied;
                grpc probes: not run by podman 4.3 (health check: $K_HEALTH); grpc.health.v1 SERVING
                ("" and specinv.v1.Spectrogram) after $READY_S s; 20 InvertMel calls: $KUBE_RESULT
wall time       $TOTAL_S s
========================================================================
EOF
