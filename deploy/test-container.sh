#!/usr/bin/env bash
# Builds the specinv image and checks it end to end:
#   1. build deploy/Dockerfile with docker if an engine is running, else podman
#      (machines without Docker: ../shared/tools/container-env.sh prepares podman
#      with runc and a local debian:bookworm base);
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
#   SPECINV_RUNTIME_IMAGE (runtime base; see below), SPECINV_BUILD_JOBS (2),
#   SPECINV_IMAGE_MAX_MB (200), SPECINV_KEEP_IMAGE=0 (remove the image afterwards; kept by default).
#
# Runtime base: the Dockerfile's runtime stage is `debian:bookworm-slim`. When
# that name resolves to a local debootstrap import rather than the official
# slim image (it still holds apt's package cache, lists and all locales:
# ~200 MB instead of ~75 MB), this script derives an equivalent slim base from
# it the way the official image is made (no apt cache or lists, no docs, man
# pages or translations, dpkg excludes for later installs) and builds with
# --build-arg RUNTIME_IMAGE=localhost/specinv-base:bookworm-slim.
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

# --- engine ----------------------------------------------------------------------
ENGINE=${SPECINV_ENGINE:-}
if [[ -z "$ENGINE" ]]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    ENGINE=docker
  elif command -v podman >/dev/null 2>&1; then
    ENGINE=podman
  elif [[ -x "$ROOT/../shared/tools/container-env.sh" || -f "$ROOT/../shared/tools/container-env.sh" ]]; then
    log "no container engine: preparing podman with ../shared/tools/container-env.sh"
    bash "$ROOT/../shared/tools/container-env.sh" || fail "container-env.sh could not prepare podman"
    ENGINE=podman
  else
    fail "no container engine (docker daemon or podman) found"
  fi
fi
BUILD_ARGS=(--build-arg "JOBS=$JOBS")
RUN_ARGS=()
if [[ "$ENGINE" == podman ]]; then
  # HEALTHCHECK is part of the Docker image format only (OCI drops it).
  BUILD_ARGS+=(--format docker --network=host)
  if [[ -x /usr/sbin/runc ]]; then
    BUILD_ARGS+=(--runtime /usr/sbin/runc)
    RUN_ARGS+=(--runtime /usr/sbin/runc)
  fi
fi
log "engine: $ENGINE ($($ENGINE --version 2>/dev/null | head -n 1))"

cleanup() {
  $ENGINE rm -f "$NAME" >/dev/null 2>&1 || true
  if [[ "${SPECINV_KEEP_IMAGE:-1}" != 1 ]]; then $ENGINE rmi -f "$IMAGE" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- runtime base ----------------------------------------------------------------
RUNTIME_IMAGE=${SPECINV_RUNTIME_IMAGE:-}
if [[ -z "$RUNTIME_IMAGE" ]] &&
   $ENGINE run --rm "${RUN_ARGS[@]}" --network=host debian:bookworm-slim \
     sh -c 'ls /var/cache/apt/archives/*.deb >/dev/null 2>&1 || [ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v "^lock$\|^partial$")" ]'; then
  RUNTIME_IMAGE=localhost/specinv-base:bookworm-slim
  if ! $ENGINE image inspect "$RUNTIME_IMAGE" >/dev/null 2>&1; then
    log "local debian:bookworm-slim is a full debootstrap import; deriving the slim base $RUNTIME_IMAGE"
    base="specinv-base-$$"
    $ENGINE run "${RUN_ARGS[@]}" --network=host --name "$base" debian:bookworm-slim sh -ec '
      apt-get clean
      rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/log/* /tmp/*
      find /usr/share/doc -mindepth 1 ! -name copyright ! -type d -delete
      find /usr/share/doc -mindepth 1 -type d -empty -delete
      rm -rf /usr/share/man/* /usr/share/info/* /usr/share/locale/* /usr/share/lintian/*
      printf "%s\n" "path-exclude /usr/share/doc/*" "path-include /usr/share/doc/*/copyright" \
        "path-exclude /usr/share/man/*" "path-exclude /usr/share/info/*" \
        "path-exclude /usr/share/locale/*" "path-exclude /usr/share/lintian/*" \
        > /etc/dpkg/dpkg.cfg.d/docker
      printf "%s\n" "DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb || true\"; };" \
        "Dir::Cache::pkgcache \"\"; Dir::Cache::srcpkgcache \"\";" > /etc/apt/apt.conf.d/docker-clean' \
      || fail "could not derive the slim base image"
    $ENGINE export "$base" | $ENGINE import --change 'CMD ["bash"]' - "$RUNTIME_IMAGE" >/dev/null
    $ENGINE rm -f "$base" >/dev/null
  fi
fi
if [[ -n "$RUNTIME_IMAGE" ]]; then
  BUILD_ARGS+=(--build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE")
  log "runtime base: $RUNTIME_IMAGE ($(( $($ENGINE image inspect "$RUNTIME_IMAGE" --format '{{.Size}}') / 1000000 )) MB)"
fi

# --- build -----------------------------------------------------------------------
log "building $IMAGE (this compiles specinv-server and specinv; -j$JOBS)"
BUILD_START=$(date +%s)
$ENGINE build "${BUILD_ARGS[@]}" -f "$ROOT/deploy/Dockerfile" -t "$IMAGE" "$ROOT" >"$WORK/build.log" 2>&1 \
  || { tail -n 40 "$WORK/build.log" >&2; fail "image build failed"; }
log "built in $(( $(date +%s) - BUILD_START )) s"
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
