#!/usr/bin/env bash
# Compares specinv's librosa-precision Griffin-Lim with librosa 0.10.1's
# arithmetic (bench/librosa_griffinlim_reference.py) on real recordings:
# instruments (fluidsynth, General MIDI soundfont) at 22050 and 44100 Hz and
# speech (espeak-ng, festival, alsa-utils' recorded voice) at 48000 Hz, each
# with librosa's three golden Griffin-Lim settings (zero initial phase):
#   16 iterations, momentum 0.99, n_fft 1024, hop 256, reflect padding
#    8 iterations, momentum 0,    n_fft 1024, hop 256, reflect padding
#   10 iterations, momentum 0.5,  n_fft 2048, hop 512, constant padding
# and prints max|ours - reference| / max|reference| per case (the golden
# tolerance is 2e-4) twice: with librosa's S (np.abs of its STFT, stored and
# given to specinv) and with S from specinv's own analysis of the clip
# (FeatureExtractor::Magnitude, power 1), and once more with that analysis
# taking |X| as sqrt(re^2 + im^2) (MagnitudeFormula::kSqrtOfSquares, what the
# analysis computed for every configuration before it followed np.abs).
#   bench/librosa_precision_grid.sh BUILD_DIR WORK_DIR [--sweep]
# --sweep also prints the ratio after every iteration.
set -euo pipefail
build=${1:?usage: librosa_precision_grid.sh BUILD_DIR WORK_DIR [--sweep]}
work=${2:?usage: librosa_precision_grid.sh BUILD_DIR WORK_DIR [--sweep]}
sweep=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
ref="$here/librosa_griffinlim_reference.py"
tool="$build/bench/specinv-librosa-gl"
[[ -x "$tool" ]] || { echo "build $tool first (cmake --build $build --target specinv-librosa-gl)" >&2; exit 1; }
"$here/quality/make_corpus.sh" "$work/corpus" >/dev/null
mkdir -p "$work/clips" "$work/runs"
raw="$work/corpus/raw"

clips=()
for name in piano violin trumpet; do
  for rate in 22050 44100; do clips+=("$name:$rate"); done
done
for name in espeak_en_us festival_slt alsa_Front_Center; do clips+=("$name:48000"); done

configs=("16 0.99 1024 256 reflect" "8 0 1024 256 reflect" "10 0.5 2048 512 constant")

printf "%-26s %-24s %-14s %-14s %s\n" case setting "librosa's S" "specinv's S" "sqrt(re²+im²)"
for clip in "${clips[@]}"; do
  name=${clip%%:*}
  rate=${clip##*:}
  wav="$work/clips/${name}_$rate.wav"
  # Leading silence trimmed, 3 s, peak -3 dBFS, 16-bit without dither.
  [[ -s "$wav" ]] || sox -q -V1 -D "$raw/$name.wav" -b 16 -c 1 "$wav" silence 1 0.01 0.1% rate -v "$rate" \
    gain -n -3 trim 0 3
  length=$(soxi -s "$wav")
  for cfg in "${configs[@]}"; do
    read -r iters momentum n_fft hop pad <<<"$cfg"
    tag="${name}_${rate}_${iters}_${momentum}_${n_fft}"
    dir="$work/runs/$tag"
    mkdir -p "$dir"
    /usr/bin/python3 "$ref" --signal "$wav" --n-fft "$n_fft" --hop "$hop" --iterations "$iters" \
      --momentum "$momentum" --pad-mode "$pad" --magnitude-out "$dir/S.npy" --out "$dir/ref.npy" \
      ${sweep:+--dump-dir "$dir/ref"}
    "$tool" --magnitude "$dir/S.npy" --n-fft "$n_fft" --hop "$hop" --iterations "$iters" --momentum "$momentum" \
      --pad-mode "$pad" --length "$length" --out "$dir/ours.npy" ${sweep:+--sweep}
    /usr/bin/python3 -c "import sys; sys.path.insert(0, sys.argv[1]); import numpy as np; \
from librosa_griffinlim_reference import read_wav; np.save(sys.argv[3], read_wav(sys.argv[2])[1])" "$here" "$wav" "$dir/y.npy"
    "$tool" --analyse "$dir/y.npy" --n-fft "$n_fft" --hop "$hop" --iterations "$iters" --momentum "$momentum" \
      --pad-mode "$pad" --out "$dir/analysed.npy"
    "$tool" --analyse "$dir/y.npy" --abs sqrt --n-fft "$n_fft" --hop "$hop" --iterations "$iters" \
      --momentum "$momentum" --pad-mode "$pad" --out "$dir/analysed_sqrt.npy"
    /usr/bin/python3 - "$dir" "$iters" "${name}_$rate" "it $iters m $momentum n_fft $n_fft" "$sweep" <<'PY'
import os
import sys

import numpy as np

d, iters, case, setting, sweep = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ref = np.load(os.path.join(d, "ref.npy")).astype(np.float64)
ours = np.load(os.path.join(d, "ours.npy")).astype(np.float64)
peak = np.max(np.abs(ref))
cols = [np.max(np.abs(np.load(os.path.join(d, f)).astype(np.float64) - ref)) / peak
        for f in ("ours.npy", "analysed.npy", "analysed_sqrt.npy")]
print(f"{case:26s} {setting:24s} " + " ".join(f"{c:<14.3e}" for c in cols))
if sweep:
    row = []
    for i in range(1, iters):
        r = np.load(os.path.join(d, "ref", f"inverse_{i + 1}.npy")).astype(np.float64)
        o = np.load(os.path.join(d, f"ours_{i}.npy")).astype(np.float64)
        row.append(f"{np.max(np.abs(o - r)) / np.max(np.abs(r)):.1e}")
    row.append(f"{np.max(np.abs(ours - ref)) / peak:.1e}")
    print("    per iteration: " + " ".join(row))
PY
  done
done
