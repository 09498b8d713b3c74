#!/usr/bin/env python3
"""Times librosa 0.10.1's mel_to_audio computation on this machine.

librosa is not packaged for Debian bookworm, so this re-implements the exact
NumPy/SciPy operations librosa 0.10.1 runs for
`librosa.feature.inverse.mel_to_audio(M, sr, n_fft, hop_length, power=1)` and
`librosa.griffinlim(S, n_iter)`: Slaney mel filterbank, `util.nnls` (least
squares warm start clipped at 0, then scipy's L-BFGS-B per 256 KiB block of
frames with m = n_fft/2+1 memory, objective 0.5/size * ||A x - B||^2),
complex64 STFT/iSTFT with numpy.fft in 256 KiB blocks, centred zero padding,
periodic Hann window, window-sum-square normalisation, and fast Griffin-Lim
(momentum 0.99, random initial phase). It prints wall times so
`specinv-invert-bench` figures can be compared on the same machine.

Usage: librosa_baseline.py [--seconds 10] [--iterations 32] [--repeat 3]
       librosa_baseline.py --input CLIP.wav --output OUT.wav [--sample-rate 22050] [--n-fft 1024] [--hop 256]
           [--n-mels 80] [--fmin 0] [--fmax 8000] [--iterations 32] [--seed 0] [--repeat 3]
The second form inverts the mel of a clip (16-bit or float WAV already at the
sample rate) with mel_to_audio and writes the reconstruction as 32-bit float
WAV, printing {"ms": ..., "cpu_ms": ...} (mel_to_audio's wall and CPU time,
the least of --repeat runs) as JSON (--linear:
griffinlim on the clip's linear magnitude instead): the clip's
scores are then computed by specinv-invert-bench --score like every other row.
Needs python3-numpy and python3-scipy (Debian).
"""

import argparse
import json
import time
import wave

import numpy as np
import scipy.optimize

MAX_MEM_BLOCK = 2**8 * 2**10
SR, N_FFT, HOP, N_MELS, FMIN, FMAX = 22050, 1024, 256, 80, 0.0, 8000.0


def configure(sr, n_fft, hop, n_mels, fmin, fmax):
    """Sets the analysis the functions below use (module-wide)."""
    global SR, N_FFT, HOP, N_MELS, FMIN, FMAX, WINDOW
    SR, N_FFT, HOP, N_MELS, FMIN, FMAX = sr, n_fft, hop, n_mels, fmin, fmax
    WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz, logstep = 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz, logstep = 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_basis():
    fftfreqs = np.fft.rfftfreq(N_FFT, 1.0 / SR)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(FMIN), hz_to_mel(FMAX), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((N_MELS, len(fftfreqs)), dtype=np.float32)
    for i in range(N_MELS):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / fdiff[i], ramps[i + 2] / fdiff[i + 1]))
    weights *= (2.0 / (mel_f[2:N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights


WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def stft(y):
    pad = N_FFT // 2
    yp = np.pad(y, pad, mode="constant")
    frames = 1 + (len(yp) - N_FFT) // HOP
    view = np.lib.stride_tricks.as_strided(yp, shape=(N_FFT, frames), strides=(yp.itemsize, HOP * yp.itemsize))
    out = np.empty((N_FFT // 2 + 1, frames), dtype=np.complex64)
    cols = max(MAX_MEM_BLOCK // (out.shape[0] * out.itemsize), 1)
    for s in range(0, frames, cols):
        t = min(s + cols, frames)
        out[:, s:t] = np.fft.rfft(WINDOW[:, None] * view[:, s:t], axis=0)
    return out


def istft(spec, length):
    frames = spec.shape[1]
    expected = N_FFT + HOP * (frames - 1)
    y = np.zeros(expected, dtype=np.float32)
    cols = max(MAX_MEM_BLOCK // (spec.shape[0] * spec.itemsize), 1)
    for s in range(0, frames, cols):
        t = min(s + cols, frames)
        ytmp = WINDOW[:, None] * np.fft.irfft(spec[:, s:t], n=N_FFT, axis=0)
        for i in range(t - s):  # librosa's __overlap_add (numba) does this loop
            y[(s + i) * HOP:(s + i) * HOP + N_FFT] += ytmp[:, i]
    wss = np.zeros(expected, dtype=np.float32)
    sq = WINDOW**2
    for i in range(frames):
        wss[i * HOP:i * HOP + N_FFT] += sq
    nz = wss > np.finfo(np.float32).tiny
    y[nz] /= wss[nz]
    start = N_FFT // 2
    y = y[start:start + length]
    return np.pad(y, (0, max(0, length - len(y))))


def nnls(a, b):
    def obj(x, shape, a_, b_):
        x = x.reshape(shape)
        diff = a_ @ x - b_
        value = (1 / b_.size) * 0.5 * np.sum(diff**2)
        grad = (1 / b_.size) * (a_.T @ diff)
        return value, grad.flatten()

    x = np.linalg.lstsq(a, b, rcond=None)[0].astype(np.float32)
    np.clip(x, 0, None, out=x)
    cols = max(MAX_MEM_BLOCK // (b.shape[0] * a.itemsize), 1)
    for s in range(0, b.shape[1], cols):
        t = min(s + cols, b.shape[1])
        x0 = x[:, s:t]
        sol, _, _ = scipy.optimize.fmin_l_bfgs_b(obj, x0, args=(x0.shape, a, b[:, s:t]),
                                                 bounds=[(0, None)] * x0.size, m=a.shape[1])
        x[:, s:t] = sol.reshape(x0.shape)
    return x


def griffinlim(s, n_iter, length, rng):
    angles = np.exp(2j * np.pi * rng.random(size=s.shape)).astype(np.complex64)
    eps = np.finfo(np.float32).tiny
    angles *= s
    tprev = None
    for _ in range(n_iter):
        rebuilt = stft(istft(angles, length))
        angles[:] = rebuilt
        if tprev is not None:
            angles -= (0.99 / 1.99) * tprev
        angles /= np.abs(angles) + eps
        angles *= s
        tprev = rebuilt
    return istft(angles, length)


def read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise SystemExit(f"{path}: expected mono 16-bit PCM")
        return w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0


def write_wav_float(path, y, sr):
    data = np.asarray(y, dtype="<f4").tobytes()
    fmt = b"fmt " + np.array([16], "<u4").tobytes() + np.array([3, 1], "<u2").tobytes() + \
        np.array([sr, sr * 4], "<u4").tobytes() + np.array([4, 32], "<u2").tobytes()
    body = b"WAVE" + fmt + b"data" + np.array([len(data)], "<u4").tobytes() + data
    with open(path, "wb") as f:
        f.write(b"RIFF" + np.array([len(body)], "<u4").tobytes() + body)


def invert_clip(args):
    configure(args.sample_rate, args.n_fft, args.hop, args.n_mels, args.fmin, args.fmax)
    rate, y = read_wav(args.input)
    if rate != SR:
        raise SystemExit(f"{args.input}: {rate} Hz, expected {SR}")
    mag = np.abs(stft(y))
    ms = cpu_ms = float("inf")
    for _ in range(max(args.repeat, 1)):  # the same output every time: the best time of --repeat runs
        rng = np.random.default_rng(args.seed)
        t0, c0 = time.perf_counter(), time.process_time()
        if args.linear:
            out = griffinlim(mag, args.iterations, len(y), rng)
        else:
            out = griffinlim(nnls(mel_basis(), mel_basis() @ mag), args.iterations, len(y), rng)
        ms = min(ms, 1e3 * (time.perf_counter() - t0))
        cpu_ms = min(cpu_ms, 1e3 * (time.process_time() - c0))
    write_wav_float(args.output, out, SR)
    print(json.dumps({"ms": round(ms, 2), "cpu_ms": round(cpu_ms, 2)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--iterations", type=int, default=32)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--input")
    p.add_argument("--output")
    p.add_argument("--sample-rate", type=int, default=22050)
    p.add_argument("--n-fft", type=int, default=1024)
    p.add_argument("--hop", type=int, default=256)
    p.add_argument("--n-mels", type=int, default=80)
    p.add_argument("--fmin", type=float, default=0.0)
    p.add_argument("--fmax", type=float, default=8000.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--linear", action="store_true", help="griffinlim on the clip's own linear magnitude")
    args = p.parse_args()
    if args.input:
        if not args.output:
            raise SystemExit("--input needs --output")
        invert_clip(args)
        return
    rng = np.random.default_rng(0)
    n = int(args.seconds * SR)
    t = np.arange(n) / SR
    y = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(n)).astype(np.float32)
    a = mel_basis()
    mag = np.abs(stft(y))
    mel = a @ mag
    best = {}
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        lin = nnls(a, mel)
        t1 = time.perf_counter()
        griffinlim(lin, args.iterations, n, rng)
        t2 = time.perf_counter()
        one = time.perf_counter()
        stft(istft(lin.astype(np.complex64), n))
        per_iter = time.perf_counter() - one
        for k, v in (("mel_to_stft_ms", 1e3 * (t1 - t0)), ("griffinlim_ms", 1e3 * (t2 - t1)),
                     ("mel_to_audio_ms", 1e3 * (t2 - t0)), ("iteration_ms", 1e3 * per_iter)):
            best[k] = min(best.get(k, float("inf")), v)
    print(f"librosa 0.10.1 mel_to_audio path (NumPy/SciPy), {args.seconds:g} s at {SR} Hz, n_fft {N_FFT}, "
          f"hop {HOP}, {N_MELS} mels, {args.iterations} iterations, best of {args.repeat}:")
    for k, v in best.items():
        print(f"  {k:16s} {v:9.1f}")


if __name__ == "__main__":
    main()
