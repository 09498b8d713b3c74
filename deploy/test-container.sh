#!/usr/bin/env bash
# Builds the specinv image and checks it end to end:
#   1. build deploy/Dockerfile with docker if an engine is running, else podman
#      (deploy/engine.sh installs podman and runc from Debian; without a registry
#      ../shared/tools/container-env.sh provides a local debian:bookworm base);
#   2. start the server container on free ports (host network), configured only
#      by SPECINV_* environment variables;
#   3. wait until the image's own HEALTHCHECK (`specinv health`) reports healthy;
#   4. run the client in the image: analyze a generated WAV to a log-mel .npy,
#      invert it back to audio, and check the output WAV (RIFF header, 22050 Hz,
#      16-bit mono, length, not silent); fetch /metrics from the host;
#   5. check the server runs as a non-root user, stop it (SIGTERM) and check it
#      exits 0 after logging the end of its shutdown;
#   6. print the image size and fail if it is over SPECINV_IMAGE_MAX_MB (200).
#
# usage: deploy/test-container.sh            (from anywhere; builds from the repo root)
# environment: SPECINV_IMAGE (tag, default specinv:test), SPECINV_ENGINE (docker|podman),
#   SPECINV_RUNTIME_IMAGE (runtime base; see deploy/engine.sh), SPECINV_BUILD_JOBS (2),
#   SPECINV_IMAGE_MAX_MB (200), SPECINV_KEEP_IMAGE=0 (remove the image afterwards; kept by default).
#
# Engine selection, the runtime base (a slim base derived from a local
# debootstrap import when there is no registry) and the build are shared with
# deploy/test-deploy.sh in deploy/engine.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGE=${SPECINV_IMAGE:-specinv:test}
JOBS=${SPECINV_BUILD_JOBS:-2}
MAX_MB=${SPECINV_IMAGE_MAX_MB:-200}
NAME="specinv-test-$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/specinv_container.XXXXXX")
chmod 0777 "$WORK"  # the container user (uid 10001) writes here

log() { echo "test-container: $*"; }
fail() {
  echo "test-container: FAIL: $*" >&2
  if [[ -n "${ENGINE:-}" ]] && $ENGINE inspect "$NAME" >/dev/null 2>&1; then
    echo "--- container log (tail) ---" >&2
    $ENGINE logs --tail 20 "$NAME" >&2 2>&1 || true
  fi
  exit 1
}

# --- engine, runtime base, build ----------------------------------------------------
ENGINE_LOG_PREFIX=test-container
# shellcheck source=deploy/engine.sh
source "$ROOT/deploy/engine.sh"
engine_select "${SPECINV_ENGINE:-}" || fail "no usable container engine (docker daemon or podman)"
RUN_ARGS=("${ENGINE_RUN_ARGS[@]}")

cleanup() {
  $ENGINE rm -f "$NAME" >/dev/null 2>&1 || true
  if [[ "${SPECINV_KEEP_IMAGE:-1}" != 1 ]]; then $ENGINE rmi -f "$IMAGE" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

engine_runtime_base || fail "could not derive the slim base image"
log "building $IMAGE (this compiles specinv-server and specinv; -j$JOBS)"
BUILD_S=$(engine_build "$IMAGE" "$ROOT/deploy/Dockerfile" "$ROOT" "$WORK/build.log") || fail "image build failed"
log "built in $BUILD_S s"
grep '^runtime packages: ' "$WORK/build.log" | head -n 1 | sed 's/^/test-container: /' || true

# --- run -------------------------------------------------------------------------
read -r PORT METRICS_PORT <<<"$(python3 - <<'PY'
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])
PY
)"
# (podman without systemd complains that it cannot schedule the periodic
# health check; the check itself is run on demand below.)
$ENGINE run -d "${RUN_ARGS[@]}" --name "$NAME" --network=host -v "$WORK:/data" \
  -e SPECINV_PORT="$PORT" -e SPECINV_METRICS_PORT="$METRICS_PORT" -e SPECINV_WORKERS=2 \
  -e SPECINV_SHUTDOWN_GRACE_S=10 "$IMAGE" >/dev/null 2>"$WORK/run.err" \
  || { cat "$WORK/run.err" >&2; fail "container did not start"; }
log "container $NAME: gRPC on 127.0.0.1:$PORT, metrics on :$METRICS_PORT"

# The image's HEALTHCHECK (specinv health), run on demand, until healthy.
healthy=0
for _ in $(seq 1 120); do
  if [[ "$ENGINE" == podman ]]; then
    if podman healthcheck run "$NAME" >/dev/null 2>&1; then healthy=1; break; fi
  else
    status=$(docker inspect --format '{{.State.Health.Status}}' "$NAME" 2>/dev/null || true)
    if [[ "$status" == healthy ]]; then healthy=1; break; fi
  fi
  [[ "$($ENGINE inspect --format '{{.State.Running}}' "$NAME")" == true ]] || fail "container exited"
  sleep 0.5
done
[[ $healthy == 1 ]] || fail "HEALTHCHECK never passed"
specinv() { $ENGINE exec "$NAME" specinv --server "127.0.0.1:$PORT" --deadline-ms 60000 "$@"; }
[[ "$(specinv health)" == SERVING ]] || fail "health is not SERVING"
log "health: SERVING (image HEALTHCHECK passes)"

UID_IN=$($ENGINE exec "$NAME" id -u)
[[ "$UID_IN" != 0 ]] || fail "the server runs as root"
log "server runs as uid $UID_IN"

# --- round trip --------------------------------------------------------------------
python3 - "$WORK/in.wav" <<'PY'
import math, struct, sys, wave
sr, n = 22050, 22050
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * (220 + 200 * i / n) * i / sr)
                                                  + 3000 * math.sin(2 * math.pi * 660 * i / sr)))
                           for i in range(n)))
PY
chmod 0644 "$WORK/in.wav"
specinv analyze /data/in.wav -o /data/mel.npy --preset hifigan >"$WORK/analyze.txt" || fail "analyze failed"
specinv invert /data/mel.npy -o /data/out.wav --preset hifigan --method fgla --iterations 32 \
  --length-samples 22050 >"$WORK/invert.txt" || fail "invert failed"
python3 - "$WORK/mel.npy" "$WORK/out.wav" <<'PY' || fail "output check failed"
import ast, struct, sys
mel = open(sys.argv[1], "rb").read()
assert mel[:6] == b"\x93NUMPY", "mel.npy: bad magic"
hlen = struct.unpack("<H", mel[8:10])[0]
header = ast.literal_eval(mel[10:10 + hlen].decode("latin1"))
assert header["descr"] == "<f4" and header["shape"][0] == 80, header
data = open(sys.argv[2], "rb").read()
assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", "out.wav: not a RIFF WAVE file"
pos, fmt, samples = 12, None, None
while pos + 8 <= len(data):
    cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
    if cid == b"fmt ":
        fmt = struct.unpack("<HHIIHH", data[pos + 8:pos + 24])
    elif cid == b"data":
        samples = data[pos + 8:pos + 8 + size]
        assert len(samples) == size, "truncated data chunk"
    pos += 8 + size + (size & 1)
assert fmt is not None and samples is not None, "missing fmt or data chunk"
_, channels, rate, _, _, bits = fmt
assert (channels, rate, bits) == (1, 22050, 16), fmt
frames = len(samples) // 2
assert frames == 22050, frames
values = struct.unpack("<%dh" % frames, samples)
peak = max(abs(v) for v in values)
rms = (sum(v * v for v in values) / frames) ** 0.5
assert peak > 1000 and rms > 300, (peak, rms)
print(f"test-container: round trip: mel {header['shape']}, out.wav {frames} samples at {rate} Hz, "
      f"peak {peak}, rms {rms:.0f}")
PY
grep -h 'SC_mel' "$WORK/invert.txt" | head -n 1 | sed 's/^/test-container: invert: /' || true

python3 - "$METRICS_PORT" <<'PY' || fail "/metrics is not reachable from the host"
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
assert "specinv_rpc_requests_total" in text, text[:200]
ok = [l for l in text.splitlines() if l.startswith("specinv_rpc_requests_total") and 'code="OK"' in l]
print("test-container: metrics: " + "; ".join(ok))
PY

# --- graceful stop ----------------------------------------------------------------------
$ENGINE stop -t 30 "$NAME" >/dev/null 2>"$WORK/stop.err" || { cat "$WORK/stop.err" >&2; fail "stop failed"; }
EXIT_CODE=$($ENGINE inspect --format '{{.State.ExitCode}}' "$NAME")
[[ "$EXIT_CODE" == 0 ]] || fail "server exited with $EXIT_CODE after SIGTERM (want 0)"
$ENGINE logs "$NAME" 2>&1 | grep -q '"phase":"done"' || fail "no shutdown/done event in the log"
log "stopped: SIGTERM, drained, exit 0"

SIZE=$($ENGINE image inspect "$IMAGE" --format '{{.Size}}')
SIZE_MB=$(( SIZE / 1000000 ))
log "image $IMAGE: $SIZE_MB MB (target < $MAX_MB MB)"
(( SIZE_MB < MAX_MB )) || fail "image is $SIZE_MB MB, over $MAX_MB MB"
log "OK"
