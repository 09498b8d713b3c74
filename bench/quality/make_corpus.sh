#!/usr/bin/env bash
# Builds the `make quality` corpus from Debian-packaged sources (installed
# idempotently by scripts/install-deps.sh quality):
#   speech   espeak-ng (five voices), festival (two voices), the recorded
#            speech of alsa-utils (/usr/share/sounds/alsa)
#   music    piano, violin, trumpet: a short MIDI phrase this script writes,
#            rendered by fluidsynth with the General MIDI soundfont
# Every clip is mono, peak-normalised to -3 dBFS, cut to 3 s and written at
# 22050 Hz and 16000 Hz without dither (so rebuilding gives the same clips):
# OUT/22050/<name>.wav and OUT/16000/<name>.wav.
# Existing clips are kept (delete OUT to rebuild).
#   bench/quality/make_corpus.sh OUT
set -euo pipefail
out=${1:?usage: make_corpus.sh OUT}
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../scripts/install-deps.sh" quality >/dev/null
mkdir -p "$out/raw" "$out/22050" "$out/16000"
raw="$out/raw"
text="The quick brown fox jumps over the lazy dog, and then it sleeps."

# name -> espeak-ng voice
declare -A espeak=(
  [espeak_en_us]="en-us"
  [espeak_en_us_f3]="en-us+f3"
  [espeak_en_gb_m3]="en-gb+m3"
  [espeak_de]="de"
  [espeak_fr_f2]="fr+f2"
)
for name in "${!espeak[@]}"; do
  [[ -s "$raw/$name.wav" ]] || espeak-ng -v "${espeak[$name]}" -s 150 -w "$raw/$name.wav" "$text"
done

# name -> festival voice
declare -A festival=(
  [festival_kal]="kal_diphone"
  [festival_slt]="cmu_us_slt_arctic_hts"
)
for name in "${!festival[@]}"; do
  if [[ ! -s "$raw/$name.wav" ]]; then
    echo "$text" | text2wave -eval "(voice_${festival[$name]})" -o "$raw/$name.wav"
  fi
done

for f in Front_Center Rear_Left; do
  [[ -s "$raw/alsa_$f.wav" ]] || cp "/usr/share/sounds/alsa/$f.wav" "$raw/alsa_$f.wav"
done

# A four-bar phrase (legato line with a chord at the end), one General MIDI
# program per instrument.
declare -A programs=([piano]=0 [violin]=40 [trumpet]=56)
for name in "${!programs[@]}"; do
  if [[ ! -s "$raw/$name.wav" ]]; then
    /usr/bin/python3 - "$raw/$name.mid" "${programs[$name]}" <<'PY'
import struct
import sys

path, program = sys.argv[1], int(sys.argv[2])
ticks = 480  # per quarter note, 120 bpm: 0.5 s

def varlen(v):
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.insert(0, (v & 0x7F) | 0x80)
        v >>= 7
    return bytes(out)

events = [(0, bytes([0xC0, program]))]
t = 0
for note, beats in [(67, 0.5), (69, 0.5), (71, 1.0), (74, 0.5), (72, 0.5), (71, 1.0), (69, 0.75)]:
    events.append((t, bytes([0x90, note, 96])))
    t += int(beats * ticks)
    events.append((t, bytes([0x80, note, 0])))
for note in (60, 64, 67):
    events.append((t, bytes([0x90, note, 90])))
for note in (60, 64, 67):
    events.append((t + 2 * ticks, bytes([0x80, note, 0])))
events.sort(key=lambda e: e[0])
track, last = b"", 0
for when, data in events:
    track += varlen(when - last) + data
    last = when
track += varlen(0) + b"\xff\x2f\x00"
with open(path, "wb") as f:
    f.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, ticks))
    f.write(b"MTrk" + struct.pack(">I", len(track)) + track)
PY
    fluidsynth -ni -q -g 0.8 -r 44100 -F "$raw/$name.wav" /usr/share/sounds/sf2/FluidR3_GM.sf2 "$raw/$name.mid" \
      >/dev/null 2>&1
  fi
done

for f in "$raw"/*.wav; do
  name=$(basename "$f" .wav)
  for rate in 22050 16000; do
    dst="$out/$rate/$name.wav"
    # Leading silence trimmed so the 3 s hold signal; short clips padded.
    [[ -s "$dst" ]] || sox -q -V1 -D "$f" -b 16 -c 1 "$dst" silence 1 0.01 0.1% rate -v "$rate" gain -n -3 trim 0 3 pad 0 3 \
      trim 0 3
  done
done
ls "$out/22050" | wc -l | xargs echo "corpus: clips per rate:"
