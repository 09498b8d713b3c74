#!/usr/bin/env bash
# End-to-end test of the `specinv` client against a real specinv-server:
# health, info, analyze, invert (mel .npy and audio round trip), error lines
# and exit codes, and a short bench. Output files are checked by parsing their
# headers (WAV RIFF chunks, .npy header) with the Python standard library.
#
# usage: client_e2e_test.sh SPECINV SPECINV_SERVER
set -euo pipefail

CLIENT=${1:?path to specinv}
SERVER=${2:?path to specinv-server}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/specinv_client_e2e.XXXXXX")
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [[ -f "$WORK/server.log" ]]; then
    echo "--- server log (tail) ---" >&2
    tail -n 20 "$WORK/server.log" >&2
  fi
  exit 1
}

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$SERVER" --host 127.0.0.1 --port "$PORT" --http-port 0 --workers 2 --log-level warn >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

specinv() { "$CLIENT" --server "127.0.0.1:$PORT" "$@"; }

# --- health and info ---------------------------------------------------------
specinv health --wait-s 60 >"$WORK/health.txt" || fail "server did not become SERVING"
grep -qx SERVING "$WORK/health.txt" || fail "health printed $(cat "$WORK/health.txt")"
specinv info >"$WORK/info.txt" || fail "info failed"
grep -q '^specinv server ' "$WORK/info.txt" || fail "info output: $(head -n 1 "$WORK/info.txt")"
grep -q 'hifigan' "$WORK/info.txt" || fail "info does not list the hifigan preset"
specinv info --json >"$WORK/info.json" || fail "info --json failed"
python3 - "$WORK/info.json" <<'PY' || fail "info --json is not the expected JSON"
import json, sys
info = json.load(open(sys.argv[1]))
assert info["version"], info
assert any(p["name"] == "hifigan" for p in info["presets"]), info["presets"]
assert info["worker_count"] == 2, info["worker_count"]
PY

# --- input audio: 1 s of a gliding two-tone signal, 16-bit mono 22050 Hz ------
python3 - "$WORK/in.wav" <<'PY'
import math, struct, sys, wave
sr, n = 22050, 22050
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * (220 + 200 * i / n) * i / sr)
                                                  + 3000 * math.sin(2 * math.pi * 660 * i / sr)))
                           for i in range(n)))
PY

# Checkers ---------------------------------------------------------------------
check_npy() {  # file, expected first dimension, expected rank
  python3 - "$@" <<'PY'
import ast, struct, sys
path, first, rank = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
assert data[:6] == b"\x93NUMPY", "bad magic"
major = data[6]
if major == 1:
    hlen, start = struct.unpack("<H", data[8:10])[0], 10
else:
    hlen, start = struct.unpack("<I", data[8:12])[0], 12
header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
assert header["descr"] == "<f4", header
assert header["fortran_order"] is False, header
shape = header["shape"]
assert len(shape) == rank, shape
assert shape[0] == first or first < 0, shape
count = 1
for d in shape:
    count *= d
assert count > 0, shape
assert len(data) - start - hlen == 4 * count, (len(data), shape)
values = struct.unpack("<%df" % count, data[start + hlen:])
assert all(v == v and abs(v) != float("inf") for v in values), "non-finite values"
print(" ".join(map(str, shape)))
PY
}

check_wav() {  # file, expected sample rate, expected bits, [expected frames]
  python3 - "$@" <<'PY'
import struct, sys
path, rate, bits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
frames_expected = int(sys.argv[4]) if len(sys.argv) > 4 else None
data = open(path, "rb").read()
assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", "not a RIFF WAVE file"
pos, fmt, frames = 12, None, None
while pos + 8 <= len(data):
    cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
    body = data[pos + 8:pos + 8 + size]
    if cid == b"fmt ":
        fmt = struct.unpack("<HHIIHH", body[:16])
    elif cid == b"data":
        assert fmt is not None, "data before fmt"
        frames = size // fmt[4]
        assert len(body) == size, "truncated data chunk"
        samples = body
    pos += 8 + size + (size & 1)
assert fmt is not None and frames is not None, "missing fmt or data chunk"
tag, channels, sr, _, _, b = fmt
assert channels == 1 and sr == rate and b == bits, fmt
assert frames > 0
if frames_expected is not None:
    assert frames == frames_expected, (frames, frames_expected)
if bits == 16:
    values = struct.unpack("<%dh" % frames, samples[:2 * frames])
    assert max(abs(v) for v in values) > 100, "silent output"
print(frames)
PY
}

# --- analyze ---------------------------------------------------------------------
specinv analyze "$WORK/in.wav" -o "$WORK/mel.npy" --preset hifigan >"$WORK/analyze.txt" \
  || fail "analyze failed"
MEL_SHAPE=$(check_npy "$WORK/mel.npy" 80 2) || fail "mel.npy is not a (80, frames) float32 .npy"
echo "analyze: mel shape $MEL_SHAPE"
specinv analyze "$WORK/in.wav" -o "$WORK/stft.npy" --kind complex-stft --n-fft 512 --hop-length 128 \
  >/dev/null || fail "analyze complex-stft failed"
check_npy "$WORK/stft.npy" 257 3 >/dev/null || fail "complex STFT is not (257, frames, 2)"

# --- invert: a mel .npy, then an audio file (round trip, streaming progress) ---
specinv invert "$WORK/mel.npy" -o "$WORK/out.wav" --preset hifigan --iterations 4 >"$WORK/invert.txt" \
  || fail "invert mel.npy failed"
check_wav "$WORK/out.wav" 22050 16 >/dev/null || fail "out.wav is not a 16-bit mono 22050 Hz WAV"
grep -q 'SC_mel' "$WORK/invert.txt" || fail "invert printed no SC_mel: $(cat "$WORK/invert.txt")"

# Codec outputs: Opus from the extension; mu-law WAV resampled to 8 kHz.
specinv invert "$WORK/mel.npy" -o "$WORK/out.opus" --preset hifigan --iterations 4 >/dev/null \
  || fail "invert to .opus failed"
[ "$(head -c 4 "$WORK/out.opus")" = "OggS" ] || fail "out.opus is not an Ogg stream"
specinv invert "$WORK/mel.npy" -o "$WORK/out_ulaw.wav" --encoding wav-mulaw --output-rate 8000 \
  --preset hifigan --iterations 4 >/dev/null || fail "invert to mu-law at 8 kHz failed"
check_wav "$WORK/out_ulaw.wav" 8000 8 >/dev/null || fail "out_ulaw.wav is not an 8-bit mono 8000 Hz WAV"

specinv invert "$WORK/in.wav" -o "$WORK/roundtrip.wav" --preset hifigan --method pghi-fgla \
  --iterations 4 --progress always --encoding wav-float >/dev/null 2>"$WORK/progress.txt" \
  || fail "invert round trip failed: $(cat "$WORK/progress.txt")"
check_wav "$WORK/roundtrip.wav" 22050 32 22050 >/dev/null \
  || fail "round trip is not a float WAV as long as the input"

specinv invert "$WORK/mel.npy" -o "$WORK/out.npy" --preset hifigan --iterations 2 >/dev/null \
  || fail "invert to .npy failed"
check_npy "$WORK/out.npy" -1 1 >/dev/null || fail "out.npy is not 1-D float32 audio"

specinv invert-spectrogram "$WORK/in.wav" -o "$WORK/spec.wav" --iterations 4 >/dev/null \
  || fail "invert-spectrogram round trip failed"
check_wav "$WORK/spec.wav" 22050 16 22050 >/dev/null || fail "spec.wav is wrong"

# --- errors: one line "error: CODE: message", non-zero exit ---------------------
expect_error() {  # code, expected exit status, command...
  local code=$1 want_status=$2
  shift 2
  local status=0
  "$@" >/dev/null 2>"$WORK/err.txt" || status=$?
  [[ $status -eq $want_status ]] || fail "expected exit $want_status, got $status for: $*"
  [[ $(wc -l <"$WORK/err.txt") -eq 1 ]] || fail "expected one error line, got: $(cat "$WORK/err.txt")"
  grep -q "^error: $code: " "$WORK/err.txt" || fail "expected error: $code, got: $(cat "$WORK/err.txt")"
}
expect_error INVALID_ARGUMENT 1 specinv analyze "$WORK/in.wav" -o "$WORK/bad.npy" --n-fft 8
grep -q 'n_fft' "$WORK/err.txt" || fail "n_fft error does not name the field: $(cat "$WORK/err.txt")"
expect_error INVALID_ARGUMENT 1 specinv invert "$WORK/mel.npy" -o "$WORK/bad.wav" --method magic
expect_error NOT_FOUND 1 specinv analyze "$WORK/missing.wav" -o "$WORK/bad.npy"
expect_error INVALID_ARGUMENT 2 specinv analyze "$WORK/in.wav"
expect_error UNAVAILABLE 1 "$CLIENT" --server 127.0.0.1:1 --max-attempts 1 --deadline-ms 5000 info

# --- bench ---------------------------------------------------------------------
specinv bench --count 6 --concurrency 2 --seconds 0.5 --iterations 2 --json >"$WORK/bench.json" \
  || fail "bench failed"
python3 - "$WORK/bench.json" <<'PY' || fail "bench JSON: $(cat "$WORK/bench.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["sent"] == 6 and r["ok"] == 6 and r["failed"] == 0, r
assert r["latency_ok"]["count"] == 6 and r["latency_ok"]["p99_ms"] > 0, r
PY

echo "client e2e: OK"
