#!/usr/bin/env bash
# The main job, end to end on the built-in demo input:
#   1. start specinv-server on a free local port,
#   2. the client analyses the demo phrase into a HiFi-GAN log-mel spectrogram
#      (out/demo_mel.npy) and inverts it back to audio with `refine`
#      (out/demo.wav),
#   3. the client renders the vocoded audio's mel spectrogram as a figure
#      with time and frequency axes and a dB colour bar (out/demo.png),
#   4. the server is stopped with SIGTERM (graceful shutdown).
set -euo pipefail
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
server_bin="$build/server/specinv-server"
client_bin="$build/client/specinv"
for b in "$server_bin" "$client_bin"; do
  [[ -x "$b" ]] || { echo "run-demo: $b is not built" >&2; exit 1; }
done
mkdir -p out
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server_bin" --host 127.0.0.1 --port "$port" --metrics-port -1 --http-port 0 >out/server.log 2>&1 &
server_pid=$!
cleanup() { kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT
target="127.0.0.1:$port"
"$client_bin" health --server "$target" --wait-s 30 >/dev/null
echo "specinv-server up on $target (pid $server_pid)"

"$client_bin" invert demo --server "$target" --preset hifigan --method refine \
  --save-mel out/demo_mel.npy -o out/demo.wav
"$client_bin" render out/demo.wav --server "$target" --preset hifigan --view mel --colormap magma \
  --width 900 --height 320 --interpolation bilinear -o out/demo.png

kill -TERM "$server_pid"
wait "$server_pid" && status=0 || status=$?
trap - EXIT
echo "specinv-server stopped (exit $status)"
echo "wrote:"
ls -l out/demo_mel.npy out/demo.wav out/demo.png | awk '{printf "  %s (%s bytes)\n", $NF, $5}'
