#!/usr/bin/python3
"""librosa 0.10.1's `griffinlim(S, init=None)` in plain NumPy, operation for operation.

librosa is not packaged for Debian; this re-creates the arithmetic of
`librosa.griffinlim(S, n_iter, hop_length, window='hann', center=True,
pad_mode, momentum, init=None, length)` with numpy 1.24 / scipy 1.10 so that
specinv's librosa-precision Griffin-Lim (InversionOptions::librosa_precision)
can be compared with it on any input, not only the golden cases in
tests/data/librosa. What it reproduces:

- window: scipy.signal.get_window('hann', n_fft, fftbins=True), float64;
- stft: centre padding (constant or reflect), each frame float64 window times
  float32 samples, numpy.fft.rfft in float64, stored as complex64;
- istft: numpy.fft.irfft of the complex64 frames (computed in float64, scaled
  by 1/n_fft inside the transform), times the float64 window, overlap-added
  into a float32 buffer frame by frame (librosa's numba loop: float32 + float64
  rounded to float32), divided by the float32 window-sum-square where it
  exceeds float32's tiny; frames past ceil((length + n_fft) / hop) dropped;
- the update: angles = rebuilt; angles -= (m / (1 + m)) * previous (complex64,
  the scalar rounded to float32); angles /= |angles| + tiny (complex64 divided
  by float32, NumPy's complex division); angles *= S.

Check it against the golden cases first (it must reproduce them to rounding):
  librosa_griffinlim_reference.py --check-golden tests/data/librosa
Run one case (S from a float32 .npy or from a WAV's own STFT magnitude):
  librosa_griffinlim_reference.py --signal clip.wav --n-fft 1024 --hop 256 \
      --iterations 16 --momentum 0.99 --pad-mode reflect \
      --magnitude-out S.npy --out y.npy [--dump-dir DIR]
--dump-dir writes, per iteration i (1-based), DIR/inverse_<i>.npy (the iSTFT
fed to the STFT), DIR/rebuilt_<i>.npy and DIR/angles_<i>.npy (after the
update), so a second implementation can be compared step by step.
Needs python3-numpy and python3-scipy (Debian).
"""

import argparse
import json
import os
import sys
import wave

import numpy as np
import scipy.signal

TINY32 = np.finfo(np.float32).tiny


def hann(n_fft):
    return scipy.signal.get_window("hann", n_fft, fftbins=True).astype(np.float64)


def stft(y, n_fft, hop, pad_mode):
    """librosa.stft(y, n_fft, hop, center=True, pad_mode) of a float32 signal -> complex64."""
    window = hann(n_fft)[:, None]
    yp = np.pad(y, (n_fft // 2, n_fft // 2), mode=pad_mode)
    frames = 1 + (len(yp) - n_fft) // hop
    view = np.lib.stride_tricks.as_strided(yp, shape=(n_fft, frames), strides=(yp.itemsize, hop * yp.itemsize))
    out = np.empty((n_fft // 2 + 1, frames), dtype=np.complex64, order="F")
    out[:] = np.fft.rfft(window * view, axis=0)  # float64 frames, complex128 -> complex64
    return out


def window_sumsquare(n_fft, hop, n_frames):
    x = np.zeros(n_fft + hop * (n_frames - 1), dtype=np.float32)
    sq = hann(n_fft) ** 2
    for i in range(n_frames):
        s = i * hop
        seg = x[s:s + n_fft]
        seg[:] = (seg.astype(np.float64) + sq[:len(seg)]).astype(np.float32)
    return x


def istft(spec, n_fft, hop, length):
    """librosa.istft(spec, n_fft, hop, center=True, length) -> float32."""
    window = hann(n_fft)[:, None]
    n_frames = min(spec.shape[1], int(np.ceil((length + 2 * (n_fft // 2)) / hop)))
    ytmp = window * np.fft.irfft(spec[:, :n_frames], n=n_fft, axis=0)  # float64
    # Overlap-add on the centre-padded axis; librosa splits off the head frames
    # into their own buffer, which adds the same values in the same order.
    full = np.zeros(n_fft + hop * (n_frames - 1), dtype=np.float32)
    for t in range(n_frames):
        seg = full[t * hop:t * hop + n_fft]
        seg[:] = (seg.astype(np.float64) + ytmp[:, t]).astype(np.float32)
    start = n_fft // 2
    y = np.zeros(length, dtype=np.float32)
    avail = full[start:start + length]
    y[:len(avail)] = avail
    wss = np.zeros(length, dtype=np.float32)
    w = window_sumsquare(n_fft, hop, n_frames)[start:start + length]
    wss[:len(w)] = w
    nz = wss > TINY32
    y[nz] /= wss[nz]
    return y


def griffinlim(S, n_fft, hop, n_iter, momentum, length, pad_mode, dump_dir=None):
    S = np.asarray(S, dtype=np.float32)
    angles = np.empty(S.shape, dtype=np.complex64)
    angles[:] = 1.0
    angles *= S
    rebuilt = tprev = None
    for i in range(n_iter):
        inverse = istft(angles, n_fft, hop, length)
        rebuilt = stft(inverse, n_fft, hop, pad_mode)
        angles[:] = rebuilt
        if tprev is not None:
            angles -= (momentum / (1 + momentum)) * tprev
        angles /= np.abs(angles) + TINY32
        angles *= S
        if dump_dir:
            np.save(os.path.join(dump_dir, f"inverse_{i + 1}.npy"), inverse)
            np.save(os.path.join(dump_dir, f"rebuilt_{i + 1}.npy"), np.ascontiguousarray(rebuilt))
            np.save(os.path.join(dump_dir, f"angles_{i + 1}.npy"), np.ascontiguousarray(angles))
        rebuilt, tprev = tprev, rebuilt
    return istft(angles, n_fft, hop, length)


def read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise SystemExit(f"{path}: expected mono 16-bit PCM")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return w.getframerate(), (data.astype(np.float32) / np.float32(32768.0)).astype(np.float32)


def check_golden(root):
    manifest = json.load(open(os.path.join(root, "manifest.json")))
    worst_ratio = 0.0
    for c in manifest["cases"]:
        if c["kind"] != "griffinlim":
            continue
        p = c["params"]
        S = np.load(os.path.join(root, c["inputs"]["magnitude"]))
        ref = np.load(os.path.join(root, c["output"]))
        y = griffinlim(S, p["n_fft"], p["hop_length"], p["n_iter"], p["momentum"], p["length"], p["pad_mode"])
        peak = float(np.max(np.abs(ref)))
        diff = float(np.max(np.abs(y.astype(np.float64) - ref)))
        same = int(np.sum(y != ref))
        print(f"{c['name']:16s} max|diff|/peak {diff / peak:.3e}  samples differing {same}/{len(ref)}")
        worst_ratio = max(worst_ratio, diff / peak)
    print(f"worst {worst_ratio:.3e}")
    return worst_ratio


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check-golden", metavar="DIR")
    ap.add_argument("--signal", help="16-bit mono WAV or float32 .npy; S = |stft(signal)|")
    ap.add_argument("--magnitude", help="float32 .npy (bins, frames)")
    ap.add_argument("--magnitude-out")
    ap.add_argument("--n-fft", type=int, default=1024)
    ap.add_argument("--hop", type=int, default=256)
    ap.add_argument("--iterations", type=int, default=16)
    ap.add_argument("--momentum", type=float, default=0.99)
    ap.add_argument("--pad-mode", default="constant", choices=["constant", "reflect"])
    ap.add_argument("--length", type=int)
    ap.add_argument("--out")
    ap.add_argument("--dump-dir")
    a = ap.parse_args()
    if a.check_golden:
        sys.exit(0 if check_golden(a.check_golden) < 1e-5 else 1)
    if a.signal:
        if a.signal.endswith(".npy"):
            y = np.load(a.signal).astype(np.float32)
        else:
            _, y = read_wav(a.signal)
        S = np.abs(stft(y, a.n_fft, a.hop, a.pad_mode))
        length = a.length or len(y)
    elif a.magnitude:
        S = np.load(a.magnitude).astype(np.float32)
        length = a.length or a.hop * (S.shape[1] - 1)
    else:
        ap.error("--signal or --magnitude")
    if a.magnitude_out:
        np.save(a.magnitude_out, np.ascontiguousarray(S))
    if a.dump_dir:
        os.makedirs(a.dump_dir, exist_ok=True)
    out = griffinlim(S, a.n_fft, a.hop, a.iterations, a.momentum, length, a.pad_mode, a.dump_dir)
    if a.out:
        np.save(a.out, out)


if __name__ == "__main__":
    main()
