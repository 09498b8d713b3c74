#!/usr/bin/env python3
"""Regenerates the librosa 0.10.1 golden data of this directory.

Reads manifest.json and perceptual/manifest.json (this directory, or
--reference DIR) and recomputes every case from the parameters they record,
with librosa 0.10.1, numpy 1.24, scipy 1.10 and pystoi 0.4.1:

  mel_filterbank    librosa.filters.mel(**params)
  stft_complex      librosa.stft(y, **params)
  istft_roundtrip   librosa.istft(X, hop_length, win_length, window, center,
                    length) of the named stft_complex case, n_fft not passed:
                    librosa infers n_fft = 2 * (bins - 1), which is 1022 for
                    the 512-bin spectrograms of n_fft = 1023 (as the checked-in
                    outputs were made; such a case is not a round trip)
  mel_spectrogram   librosa.feature.melspectrogram(y=y, **params)
  power_to_db       librosa.power_to_db(P, ref=np.max, amin, top_db), P the
                    named mel case, squared when its power is 1
  mel_to_stft_nnls  librosa.feature.inverse.mel_to_stft(M, sr, n_fft, power,
                    fmin, fmax, htk, norm) of the named mel case (n_mels is
                    M's row count); tolerance.mel_residual_rel is the relative
                    mel residual ||B S^power - M|| / ||M|| of the result
  griffinlim        S = |librosa.stft(y, ...)| with the case's own STFT
                    parameters, written to inputs.magnitude; then
                    librosa.griffinlim(S, ..., init=None) (zero phase). The
                    manifest names the magnitude file, not its signal: the
                    signal is the one named in the case name (gl_<signal>_<i>)
  preset_logmel     HiFi-GAN's mel_spectrogram or Whisper's
                    log_mel_spectrogram, the operations of their published
                    code in NumPy on librosa's STFT and filterbank (below)

Arrays are written as C-order little-endian float32 (<f4) or complex64 (<c8);
the perceptual arrays as float64 (<f8).

Input signals. manifest.json records each signal's file, rate and length but
not how it was made, so by default the checked-in signals/*.npy are the inputs
(and are copied to the output). Options:
  --synthesize-chirp   chirp22k from its formula (not recorded in the
                       manifest; it reproduces the checked-in file bit for bit
                       with numpy 1.24, which --dry-run verifies):
                         t = n / 22050, n = 0 .. 44099
                         y = 0.3 cos(2 pi (100 t + 1975 t^2))
                             + sin^2(pi t / 2) sum_{k=1..5} (0.2 / k) sin(2 pi 220 k t + k)
                       (a 100 Hz -> 8 kHz linear chirp over 2 s plus five
                       harmonics of 220 Hz under a raised-cosine envelope),
                       rounded to float32
  --signals-from-wav [WAV]
                       speech22k and speech16k resampled from the recorded
                       voice (default /usr/share/sounds/alsa/Front_Center.wav,
                       alsa-utils; 48 kHz, 16-bit, 68545 samples), best effort:
                       the checked-in signals are 16-bit values (k / 32768)
                       whose lengths and differences from SoX's `rate -h`
                       output match SoX resampling at its default quality
                       followed by SoX's default (random) dither to 16 bits,
                       so no run reproduces them bit for bit.
                       `--wav-resampler sox` (the default when `sox` is on
                       PATH) runs
                       `sox -D WAV -b 16 -e signed-integer OUT rate -h SR`
                       (no dither; with SoX 14.4.2 within 1/32768 of the
                       checked-in signals);
                       `--wav-resampler soxr` uses python-soxr's HQ resampler
                       (a librosa 0.10.1 dependency) and rounds to 16 bits
                       (within a few 1/32768 steps). The length is the
                       manifest's.

preset_logmel, as the manifest's params spell them (checked; any other
spelling is an error):
  hifigan  y reflect-padded by (n_fft - hop) / 2 on each side;
           X = librosa.stft(y, n_fft, hop, win_length, window="hann",
           center=False) (periodic Hann = torch.hann_window);
           S = sqrt(re^2 + im^2 + 1e-9); M = mel(sr, n_fft, n_mels, fmin,
           fmax) @ S (librosa's Slaney filterbank, as HiFi-GAN's
           librosa_mel_fn); out = ln(max(M, 1e-5))
  whisper  X = librosa.stft(y, n_fft=400, hop_length=160, window="hann",
           center=True, pad_mode="reflect") (torch.stft's padding), last frame
           dropped; P = |X|^2; M = mel(sr=16000, n_fft=400, n_mels=80) @ P (the
           filterbank of Whisper's mel_filters.npz); L = log10(max(M, 1e-10));
           L = max(L, max(L) - 8); out = (L + 4) / 4 (no padding to 30 s)

perceptual/: the pairs are made from speech22k. The manifest records the
file names, rates and scores, not how the degraded signals were made; these
steps reproduce the checked-in clean, noise and low-pass arrays bit for bit:
  clean_22k         speech22k as float64
  clean_10k         scipy.signal.resample_poly(clean_22k, 200, 441)
  noise<D>db_<r>    clean + rms(clean) / 10^(D/20) * z, z standard normal
                    from one numpy.random.default_rng(7) drawn in manifest
                    order (22.05 kHz pair first, then 10 kHz)
  lowpass<F>_<r>    scipy.signal.sosfilt(butter(8, F, "low", fs=r, output="sos"),
                    clean)
  griffinlim<N>_<r> librosa.griffinlim on |librosa.stft(clean, n_fft=1024,
                    hop_length=256)|, N iterations (of the STFT sizes tried,
                    1024 / 256 is the one at which the checked-in pair's
                    magnitude is closest to the clean one, -29 dB at
                    22.05 kHz). The initial phase of the checked-in pair is
                    not recorded, so by default these two arrays are copied
                    from the reference directory;
                    --regenerate-griffinlim recomputes them (random initial
                    phase, random_state=0: not the checked-in arrays; their
                    STOI / ESTOI move by a few 1e-3, beyond the 10 kHz
                    tolerance, and --check reports them without judging)
  stoi, estoi       pystoi.stoi(clean, degraded, rate, extended=False / True)

usage:
  generate.py [--out DIR]      write a complete new copy of the data (default:
                               a new directory under the system temp dir;
                               writes into the checked-in directory only when
                               --out names it)
  generate.py --check          regenerate into a temporary directory and
                               compare with the checked-in files, per case,
                               with the case's tolerance; exit status 1 on any
                               failure
  generate.py --dry-run        parse both manifests and list what would be
                               computed (no librosa needed)
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import wave

HERE = os.path.dirname(os.path.abspath(__file__))

REQUIRED = {"librosa": "0.10.1", "numpy": "1.24", "scipy": "1.10", "pystoi": "0.4.1"}
INSTALL_HINT = ("python3 -m venv venv && venv/bin/pip install librosa==0.10.1 'numpy==1.24.*' "
                "'scipy==1.10.*' pystoi==0.4.1")

DEFAULT_WAV = "/usr/share/sounds/alsa/Front_Center.wav"

# Keys each kind's params may carry ("note" is free text, ignored).
KIND_PARAMS = {
    "mel_filterbank": {"sr", "n_fft", "n_mels", "fmin", "fmax", "htk", "norm"},
    "stft_complex": {"n_fft", "hop_length", "win_length", "window", "center", "pad_mode"},
    "istft_roundtrip": {"n_fft", "hop_length", "win_length", "window", "center", "pad_mode", "length"},
    "mel_spectrogram": {"sr", "n_fft", "hop_length", "win_length", "window", "center", "pad_mode", "n_mels",
                        "fmin", "fmax", "htk", "norm", "power"},
    "power_to_db": {"ref", "amin", "top_db"},
    "mel_to_stft_nnls": {"sr", "n_fft", "power", "n_mels", "fmin", "fmax", "htk", "norm"},
    "griffinlim": {"n_fft", "hop_length", "win_length", "window", "center", "pad_mode", "n_iter", "momentum", "init",
                   "length"},
    "preset_logmel": None,  # per preset, below
}
KIND_INPUTS = {
    "mel_filterbank": set(),
    "stft_complex": {"signal"},
    "istft_roundtrip": {"stft"},
    "mel_spectrogram": {"signal"},
    "power_to_db": {"mel"},
    "mel_to_stft_nnls": {"mel"},
    "griffinlim": {"magnitude"},
    "preset_logmel": {"signal"},
}
# The front ends as the manifest spells them; a different spelling means a
# different computation, which this script does not implement.
PRESETS = {
    "hifigan": {
        "fixed": {"padding": "reflect (n_fft-hop)/2 each side, center=False",
                  "magnitude": "sqrt(re^2+im^2+1e-9)",
                  "log": "ln(max(x,1e-5))"},
        "numeric": {"sr", "n_fft", "hop_length", "win_length", "n_mels", "fmin", "fmax"},
    },
    "whisper": {
        "fixed": {"padding": "center reflect",
                  "drop_last_frame": True,
                  "log": "log10(max(x,1e-10)); max(x, max-8); (x+4)/4"},
        "numeric": {"sr", "n_fft", "hop_length", "n_mels"},
    },
}
STFT_KEYS = ("n_fft", "hop_length", "win_length", "window", "center", "pad_mode")
MEL_KEYS = ("n_mels", "fmin", "fmax", "htk", "norm")

# perceptual/: what the manifest does not record (see the module docstring).
PERCEPTUAL_SOURCE = "speech22k"
PERCEPTUAL_NOISE_SEED = 7
PERCEPTUAL_LOWPASS_ORDER = 8
PERCEPTUAL_GL = {"n_fft": 1024, "hop_length": 256}
PERCEPTUAL_GL_REGENERATE_SEED = 0
DEGRADED_RE = re.compile(r"^(?:(?P<gl>griffinlim)(?P<n_iter>\d+)|(?P<noise>noise)(?P<snr>\d+(?:\.\d+)?)db|"
                         r"(?P<lp>lowpass)(?P<cutoff>\d+(?:\.\d+)?))_(?P<rate>\w+)\.npy$")
CLEAN_RE = re.compile(r"^clean_(?P<rate>\w+)\.npy$")


class ManifestError(Exception):
    pass


def fail(message, status=2):
    print("generate.py: " + message, file=sys.stderr)
    sys.exit(status)


# ---------------------------------------------------------------- manifests


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        fail("cannot read %s: %s" % (path, e))
    except ValueError as e:
        fail("%s is not valid JSON: %s" % (path, e))


def signal_of_gl_case(case, signals):
    m = re.match(r"^gl_(?P<signal>.+)_\d+$", case["name"])
    if not m or m.group("signal") not in signals:
        raise ManifestError("%s: cannot tell the signal of the magnitude from the case name (expected "
                            "gl_<signal>_<i> with <signal> one of %s)" % (case["name"], ", ".join(sorted(signals))))
    return m.group("signal")


def validate(manifest):
    """Checks every case is one this script computes; returns a list of problems."""
    problems = []
    signals = manifest.get("signals")
    if not isinstance(signals, dict) or not signals:
        return ["manifest.json: no 'signals'"]
    for name, sig in signals.items():
        for key in ("file", "sample_rate", "samples"):
            if key not in sig:
                problems.append("signal %s: no '%s'" % (name, key))
    cases = manifest.get("cases")
    if not isinstance(cases, list) or not cases:
        return problems + ["manifest.json: no 'cases'"]
    names = {}
    for i, c in enumerate(cases):
        for key in ("name", "kind", "params", "inputs", "output", "shape", "dtype", "tolerance"):
            if key not in c:
                problems.append("case #%d (%s): no '%s'" % (i, c.get("name", "?"), key))
        if "name" in c:
            if c["name"] in names:
                problems.append("case %s: duplicate name" % c["name"])
            names[c["name"]] = c
    for c in cases:
        name, kind = c.get("name", "?"), c.get("kind")
        if kind not in KIND_PARAMS:
            problems.append("case %s: unrecognised kind %r (known: %s)" % (name, kind, ", ".join(KIND_PARAMS)))
            continue
        params = {k: v for k, v in c.get("params", {}).items() if k != "note"}
        inputs = c.get("inputs", {})
        if set(inputs) != KIND_INPUTS[kind]:
            problems.append("case %s: inputs %s, expected %s" % (name, sorted(inputs), sorted(KIND_INPUTS[kind])))
        expected_dtype = "complex64" if kind == "stft_complex" else "float32"
        if c.get("dtype") != expected_dtype:
            problems.append("case %s: dtype %r, expected %r" % (name, c.get("dtype"), expected_dtype))
        if not str(c.get("output", "")).startswith("cases/") or ".." in str(c.get("output", "")):
            problems.append("case %s: output %r is not under cases/" % (name, c.get("output")))
        if kind == "preset_logmel":
            spec = PRESETS.get(params.get("preset"))
            if spec is None:
                problems.append("case %s: unrecognised preset %r (known: %s)" % (name, params.get("preset"),
                                                                                ", ".join(PRESETS)))
                continue
            allowed = {"preset"} | set(spec["fixed"]) | spec["numeric"]
            if set(params) != allowed:
                problems.append("case %s: params %s, expected %s" % (name, sorted(params), sorted(allowed)))
            for key, value in spec["fixed"].items():
                if params.get(key) != value:
                    problems.append("case %s: %s = %r, this script implements %r" % (name, key, params.get(key),
                                                                                      value))
        else:
            if set(params) != KIND_PARAMS[kind]:
                problems.append("case %s: params %s, expected %s" % (name, sorted(params), sorted(KIND_PARAMS[kind])))
        if kind in ("stft_complex", "mel_spectrogram", "preset_logmel"):
            if inputs.get("signal") not in signals:
                problems.append("case %s: unknown signal %r" % (name, inputs.get("signal")))
        if kind == "istft_roundtrip":
            ref = names.get(inputs.get("stft"))
            if ref is None or ref.get("kind") != "stft_complex":
                problems.append("case %s: input %r is not a stft_complex case" % (name, inputs.get("stft")))
        if kind in ("power_to_db", "mel_to_stft_nnls"):
            ref = names.get(inputs.get("mel"))
            if ref is None or ref.get("kind") != "mel_spectrogram":
                problems.append("case %s: input %r is not a mel_spectrogram case" % (name, inputs.get("mel")))
            elif kind == "mel_to_stft_nnls":
                for key in ("sr", "n_fft", "power") + MEL_KEYS:
                    if ref["params"].get(key) != params.get(key):
                        problems.append("case %s: %s = %r differs from its mel case's %r" % (
                            name, key, params.get(key), ref["params"].get(key)))
                if "mel_residual_rel" not in c.get("tolerance", {}):
                    problems.append("case %s: no tolerance.mel_residual_rel" % name)
        if kind == "power_to_db" and params.get("ref") != "max":
            problems.append("case %s: ref %r, only 'max' (np.max) is implemented" % (name, params.get("ref")))
        if kind == "griffinlim":
            if params.get("init") != "zero_phase":
                problems.append("case %s: init %r, only 'zero_phase' (librosa init=None) is implemented" % (
                    name, params.get("init")))
            try:
                signal_of_gl_case(c, signals)
            except ManifestError as e:
                problems.append(str(e))
            mag = str(inputs.get("magnitude", ""))
            if not mag.startswith("cases/") or ".." in mag:
                problems.append("case %s: magnitude %r is not under cases/" % (name, mag))
    return problems


def perceptual_plan(pmanifest):
    """The perceptual steps in manifest order: (degraded file, recipe dict), plus problems."""
    problems, plan, seen = [], [], set()
    cases = pmanifest.get("cases")
    if not isinstance(cases, list) or not cases:
        return [], ["perceptual/manifest.json: no 'cases'"]
    tol = pmanifest.get("tolerance", {})
    for i, c in enumerate(cases):
        for key in ("clean", "degraded", "sample_rate", "stoi", "estoi"):
            if key not in c:
                problems.append("perceptual case #%d: no '%s'" % (i, key))
        mc = CLEAN_RE.match(str(c.get("clean", "")))
        md = DEGRADED_RE.match(str(c.get("degraded", "")))
        if not mc:
            problems.append("perceptual case #%d: clean %r is not clean_<rate>.npy" % (i, c.get("clean")))
            continue
        if not md:
            problems.append("perceptual case #%d: unrecognised degradation %r (known: griffinlim<N>, noise<D>db, "
                            "lowpass<F>)" % (i, c.get("degraded")))
            continue
        if md.group("rate") != mc.group("rate"):
            problems.append("perceptual case #%d: clean and degraded rates differ" % i)
        if md.group("rate") not in tol:
            problems.append("perceptual case #%d: no tolerance[%r]" % (i, md.group("rate")))
        rate = c.get("sample_rate")
        if md.group("gl"):
            recipe = {"kind": "griffinlim", "n_iter": int(md.group("n_iter"))}
        elif md.group("noise"):
            recipe = {"kind": "noise", "snr_db": float(md.group("snr"))}
        else:
            recipe = {"kind": "lowpass", "cutoff_hz": float(md.group("cutoff")), "order": PERCEPTUAL_LOWPASS_ORDER}
        recipe.update({"clean": c["clean"], "rate": rate, "tolerance_key": md.group("rate")})
        if c["degraded"] in seen:
            problems.append("perceptual case #%d: %s listed twice" % (i, c["degraded"]))
        seen.add(c["degraded"])
        plan.append((c, recipe))
    return plan, problems


def describe_case(c, manifest):
    kind, p, inputs = c["kind"], {k: v for k, v in c["params"].items() if k != "note"}, c["inputs"]
    stft_args = ", ".join("%s=%r" % (k, p[k]) for k in STFT_KEYS if k in p)
    if kind == "mel_filterbank":
        what = "librosa.filters.mel(%s)" % ", ".join("%s=%r" % kv for kv in p.items())
    elif kind == "stft_complex":
        what = "librosa.stft(%s, %s)" % (inputs["signal"], stft_args)
    elif kind == "istft_roundtrip":
        what = ("librosa.istft(%s, hop_length=%r, win_length=%r, window=%r, center=%r, length=%r) "
                "[n_fft inferred from the bins]" % (inputs["stft"], p["hop_length"], p["win_length"], p["window"],
                                                    p["center"], p["length"]))
    elif kind == "mel_spectrogram":
        what = "librosa.feature.melspectrogram(y=%s, %s)" % (inputs["signal"], ", ".join(
            "%s=%r" % kv for kv in p.items()))
    elif kind == "power_to_db":
        what = "librosa.power_to_db(%s%s, ref=np.max, amin=%r, top_db=%r)" % (
            inputs["mel"], "" if _mel_power(manifest, inputs["mel"]) != 1.0 else "**2", p["amin"], p["top_db"])
    elif kind == "mel_to_stft_nnls":
        what = "librosa.feature.inverse.mel_to_stft(%s, %s) + mel residual" % (inputs["mel"], ", ".join(
            "%s=%r" % (k, p[k]) for k in ("sr", "n_fft", "power", "fmin", "fmax", "htk", "norm")))
    elif kind == "griffinlim":
        sig = signal_of_gl_case(c, manifest["signals"])
        what = "%s = |librosa.stft(%s, %s)|; librosa.griffinlim(S, n_iter=%r, momentum=%r, init=None, length=%r)" % (
            inputs["magnitude"], sig, stft_args, p["n_iter"], p["momentum"], p["length"])
    else:
        if p["preset"] == "hifigan":
            what = ("HiFi-GAN mel_spectrogram(%s): reflect pad %d+%d, stft(n_fft=%r, hop=%r, win=%r, hann, "
                    "center=False), sqrt(|X|^2+1e-9), mel(sr=%r, n_mels=%r, fmin=%r, fmax=%r), ln(max(x,1e-5))" % (
                        inputs["signal"], (p["n_fft"] - p["hop_length"]) // 2, (p["n_fft"] - p["hop_length"]) // 2,
                        p["n_fft"], p["hop_length"], p["win_length"], p["sr"], p["n_mels"], p["fmin"], p["fmax"]))
        else:
            what = ("Whisper log_mel_spectrogram(%s): stft(n_fft=%r, hop=%r, hann, center reflect), drop last frame, "
                    "|X|^2, mel(sr=%r, n_mels=%r), log10(max(x,1e-10)), max(x, max-8), (x+4)/4" % (
                        inputs["signal"], p["n_fft"], p["hop_length"], p["sr"], p["n_mels"]))
    return what


def _mel_power(manifest, mel_name):
    for c in manifest["cases"]:
        if c["name"] == mel_name:
            return float(c["params"]["power"])
    raise ManifestError("no case named %s" % mel_name)


# ------------------------------------------------------------------ dry run


def npy_header(path):
    """(descr, fortran_order, shape) of a .npy file, without numpy."""
    import ast
    with open(path, "rb") as f:
        magic = f.read(8)
        if magic[:6] != b"\x93NUMPY":
            raise ValueError("not a .npy file")
        size = int.from_bytes(f.read(2 if magic[6] == 1 else 4), "little")
        header = ast.literal_eval(f.read(size).decode("latin1"))
    return header["descr"], header["fortran_order"], tuple(header["shape"])


def synthesize_chirp(np, samples, sample_rate):
    t = np.arange(samples) / sample_rate
    chirp = 0.3 * np.cos(2 * np.pi * (100 * t + 1975 * t * t))
    harmonics = sum(0.2 / k * np.sin(2 * np.pi * 220 * k * t + k) for k in range(1, 6))
    return (chirp + np.sin(np.pi * t / 2) ** 2 * harmonics).astype(np.float32)


def dry_run(args, manifest, pmanifest):
    problems = validate(manifest)
    plan, pproblems = perceptual_plan(pmanifest)
    problems += pproblems
    counts = {}
    print("reference: %s" % args.reference)
    print("signals (%s):" % ("checked-in files" if not (args.synthesize_chirp or args.signals_from_wav)
                             else "see below"))
    for name, sig in manifest.get("signals", {}).items():
        source = "copied from %s" % sig.get("file")
        if name == "chirp22k" and args.synthesize_chirp:
            source = "synthesised (formula in the docstring)"
        if name in ("speech22k", "speech16k") and args.signals_from_wav:
            source = "resampled from %s (%s)" % (args.signals_from_wav, args.wav_resampler or "sox if on PATH, "
                                                 "else soxr")
        print("  %-10s %6s Hz %6s samples  %s" % (name, sig.get("sample_rate"), sig.get("samples"), source))
    print("cases (manifest.json):")
    for c in manifest.get("cases", []):
        kind = c.get("kind")
        counts[kind] = counts.get(kind, 0) + 1
        try:
            what = describe_case(c, manifest) if kind in KIND_PARAMS else "UNRECOGNISED KIND"
        except (KeyError, ManifestError) as e:
            what = "CANNOT DESCRIBE: %s" % e
        print("  %-20s %-17s %s -> %s %s %s" % (c.get("name"), kind, what, c.get("output"),
                                                 tuple(c.get("shape", ())), c.get("dtype")))
    print("perceptual pairs (perceptual/manifest.json):")
    for c, r in plan:
        if r["kind"] == "griffinlim":
            how = ("librosa.griffinlim(|stft(%s, n_fft=%d, hop=%d)|, n_iter=%d) -- %s" % (
                r["clean"], PERCEPTUAL_GL["n_fft"], PERCEPTUAL_GL["hop_length"], r["n_iter"],
                "recomputed, random_state=%d" % PERCEPTUAL_GL_REGENERATE_SEED if args.regenerate_griffinlim
                else "copied from the reference (initial phase not recorded)"))
        elif r["kind"] == "noise":
            how = "%s + white noise at %g dB SNR (default_rng(%d), manifest order)" % (
                r["clean"], r["snr_db"], PERCEPTUAL_NOISE_SEED)
        else:
            how = "sosfilt(butter(%d, %g Hz, low, fs=%s), %s)" % (r["order"], r["cutoff_hz"], r["rate"], r["clean"])
        counts["perceptual:" + r["kind"]] = counts.get("perceptual:" + r["kind"], 0) + 1
        print("  %-22s %6s Hz  %s; pystoi.stoi + estoi (manifest %.6f / %.6f, tolerance %s)" % (
            c["degraded"], c["sample_rate"], how, c["stoi"], c["estoi"], pmanifest["tolerance"].get(
                r["tolerance_key"])))
    cleans = sorted({r["clean"] for _, r in plan})
    for clean in cleans:
        how = "%s as float64" % PERCEPTUAL_SOURCE if clean == "clean_22k.npy" else \
            "scipy.signal.resample_poly(clean_22k.npy, up, down) to the pair's rate"
        print("  %-22s %s" % (clean, how))
    # The reference files the check would compare against.
    missing = []
    for c in manifest.get("cases", []):
        for rel in [c.get("output")] + ([c["inputs"]["magnitude"]] if c.get("kind") == "griffinlim" else []):
            path = os.path.join(args.reference, str(rel))
            if not os.path.isfile(path):
                missing.append(rel)
                continue
            try:
                descr, _, shape = npy_header(path)
            except (OSError, ValueError, SyntaxError, KeyError) as e:
                problems.append("%s: unreadable header: %s" % (rel, e))
                continue
            if rel == c.get("output") and list(shape) != list(c.get("shape", [])):
                problems.append("%s: shape %s, manifest says %s" % (rel, shape, c.get("shape")))
            if rel == c.get("output"):
                want = "<c8" if c.get("dtype") == "complex64" else "<f4"
            else:
                want = "<f4"
            if descr != want:
                problems.append("%s: dtype %s, expected %s" % (rel, descr, want))
    for name, sig in manifest.get("signals", {}).items():
        if not os.path.isfile(os.path.join(args.reference, sig.get("file", ""))):
            missing.append(sig.get("file"))
    for f in sorted({c["clean"] for c, _ in plan} | {c["degraded"] for c, _ in plan}):
        if not os.path.isfile(os.path.join(args.reference, "perceptual", f)):
            missing.append("perceptual/" + f)
    if missing:
        print("reference files missing (--check compares with them; the default signal and Griffin-Lim sources "
              "read some): %s" % ", ".join(map(str, missing)))
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None and "chirp22k" in manifest.get("signals", {}):
        sig = manifest["signals"]["chirp22k"]
        path = os.path.join(args.reference, sig["file"])
        if os.path.isfile(path):
            ref = np.load(path)
            syn = synthesize_chirp(np, sig["samples"], sig["sample_rate"])
            same = int(np.count_nonzero(ref == syn)) if ref.shape == syn.shape else 0
            print("chirp22k formula vs %s: %d of %d samples identical, max |diff| %.3g" % (
                sig["file"], same, ref.size, float(np.max(np.abs(ref.astype(np.float64) - syn)))
                if ref.shape == syn.shape else float("nan")))
    print("summary:")
    total = 0
    for kind in list(KIND_PARAMS) + sorted(k for k in counts if k not in KIND_PARAMS):
        if kind in counts:
            print("  %-28s %d" % (kind, counts[kind]))
            if not kind.startswith("perceptual:"):
                total += counts[kind]
    print("  %d cases in manifest.json, %d pairs in perceptual/manifest.json" % (total, len(plan)))
    if problems:
        print("problems:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print("every case recognised")
    return 0


# --------------------------------------------------------------- generation


def require_libraries(any_version):
    missing = []
    mods = {}
    for name in ("numpy", "scipy", "librosa", "pystoi"):
        try:
            mods[name] = __import__(name)
        except ImportError as e:
            missing.append("%s (%s)" % (name, e))
    if missing:
        fail("needs librosa %s, numpy %s, scipy %s and pystoi %s; missing: %s\n  e.g. %s" % (
            REQUIRED["librosa"], REQUIRED["numpy"], REQUIRED["scipy"], REQUIRED["pystoi"], "; ".join(missing),
            INSTALL_HINT))
    from importlib import metadata
    found = {}
    for name in REQUIRED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = getattr(mods[name], "__version__", "unknown")
    wrong = ["%s %s (want %s)" % (n, found[n], REQUIRED[n]) for n in REQUIRED
             if found[n] != REQUIRED[n] and not found[n].startswith(REQUIRED[n] + ".")]
    if wrong:
        message = "version mismatch: %s; the golden data is defined by these versions" % ", ".join(wrong)
        if not any_version:
            fail(message + " (--any-version to go on anyway)\n  e.g. " + INSTALL_HINT)
        print("warning: " + message, file=sys.stderr)
    return found


def save(np, path, array, dtype):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, np.ascontiguousarray(np.asarray(array).astype(dtype, copy=False)))


def read_wav_pcm16(np, path):
    with wave.open(path, "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            fail("%s: need a mono 16-bit WAV, got %d channels of %d bytes" % (path, w.getnchannels(),
                                                                              w.getsampwidth()))
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return data.astype(np.float32) / np.float32(32768), rate


def resample_wav(np, wav, target_rate, samples, resampler, workdir):
    x, rate = read_wav_pcm16(np, wav)
    if resampler == "sox":
        out = os.path.join(workdir, "resampled_%d.wav" % target_rate)
        subprocess.run(["sox", "-D", wav, "-b", "16", "-e", "signed-integer", out, "rate", "-h", str(target_rate)],
                       check=True)
        y, got_rate = read_wav_pcm16(np, out)
        if got_rate != target_rate:
            fail("sox wrote %d Hz, wanted %d" % (got_rate, target_rate))
    else:
        import soxr
        y = soxr.resample(x, rate, target_rate, quality="HQ")
        y = (np.clip(np.round(y.astype(np.float64) * 32768), -32768, 32767) / 32768).astype(np.float32)
    if len(y) < samples:
        y = np.pad(y, (0, samples - len(y)))
    return np.ascontiguousarray(y[:samples], dtype=np.float32)


def signal_source(args, name):
    if name == "chirp22k" and args.synthesize_chirp:
        return "formula"
    if name in ("speech22k", "speech16k") and args.signals_from_wav:
        return "wav"
    return "reference"


def build_signals(np, args, manifest, workdir):
    signals = {}
    for name, sig in manifest["signals"].items():
        path = os.path.join(args.reference, sig["file"])
        source = signal_source(args, name)
        if source == "formula":
            y = synthesize_chirp(np, sig["samples"], sig["sample_rate"])
        elif source == "wav":
            y = resample_wav(np, args.signals_from_wav, sig["sample_rate"], sig["samples"], args.wav_resampler,
                             workdir)
        else:
            if not os.path.isfile(path):
                fail("%s is missing; it is the input of the %s cases (or use --synthesize-chirp / "
                     "--signals-from-wav)" % (path, name))
            y = np.load(path)
        y = np.ascontiguousarray(y, dtype=np.float32)
        if y.shape != (sig["samples"],):
            fail("signal %s: %s samples, manifest says %d" % (name, y.shape, sig["samples"]))
        signals[name] = y
    return signals


def mel_kwargs(p):
    return {k: p[k] for k in MEL_KEYS}


def stft_kwargs(p):
    return {k: p[k] for k in STFT_KEYS}


class Generator:
    def __init__(self, np, librosa, manifest, signals):
        self.np, self.librosa = np, librosa
        self.manifest = manifest
        self.signals = signals
        self.by_name = {c["name"]: c for c in manifest["cases"]}
        self.results = {}      # case name -> array
        self.extra = {}        # relative path -> array (griffinlim magnitudes)
        self.tolerance = {}    # case name -> tolerance written to the new manifest

    def get(self, name):
        if name not in self.results:
            self.results[name] = self.compute(self.by_name[name])
        return self.results[name]

    def compute(self, c):
        np, librosa = self.np, self.librosa
        kind, inputs = c["kind"], c["inputs"]
        p = {k: v for k, v in c["params"].items() if k != "note"}
        self.tolerance[c["name"]] = dict(c["tolerance"])
        if kind == "mel_filterbank":
            return librosa.filters.mel(**p)
        if kind == "stft_complex":
            return librosa.stft(self.signals[inputs["signal"]], **p)
        if kind == "istft_roundtrip":
            X = self.get(inputs["stft"])
            return librosa.istft(X, hop_length=p["hop_length"], win_length=p["win_length"], window=p["window"],
                                 center=p["center"], length=p["length"])
        if kind == "mel_spectrogram":
            return librosa.feature.melspectrogram(y=self.signals[inputs["signal"]], **p)
        if kind == "power_to_db":
            P = self.get(inputs["mel"])
            if float(self.by_name[inputs["mel"]]["params"]["power"]) == 1.0:
                P = P ** 2
            return librosa.power_to_db(P, ref=np.max, amin=p["amin"], top_db=p["top_db"])
        if kind == "mel_to_stft_nnls":
            M = self.get(inputs["mel"])
            if M.shape[0] != p["n_mels"]:
                raise ManifestError("%s: the mel case has %d bands, params say %d" % (c["name"], M.shape[0],
                                                                                     p["n_mels"]))
            S = librosa.feature.inverse.mel_to_stft(M, sr=p["sr"], n_fft=p["n_fft"], power=p["power"],
                                                    fmin=p["fmin"], fmax=p["fmax"], htk=p["htk"], norm=p["norm"])
            self.tolerance[c["name"]]["mel_residual_rel"] = self.mel_residual(S, M, p)
            return S
        if kind == "griffinlim":
            y = self.signals[signal_of_gl_case(c, self.manifest["signals"])]
            S = np.abs(librosa.stft(y, **stft_kwargs(p)))
            self.extra[inputs["magnitude"]] = S
            return librosa.griffinlim(S, n_iter=p["n_iter"], hop_length=p["hop_length"], win_length=p["win_length"],
                                      n_fft=p["n_fft"], window=p["window"], center=p["center"], length=p["length"],
                                      pad_mode=p["pad_mode"], momentum=p["momentum"], init=None)
        if kind == "preset_logmel":
            return self.preset(p, self.signals[inputs["signal"]])
        raise ManifestError("case %s: unrecognised kind %r" % (c["name"], kind))

    def mel_residual(self, S, M, p):
        np = self.np
        B = self.librosa.filters.mel(sr=p["sr"], n_fft=p["n_fft"], n_mels=M.shape[0], **{
            k: p[k] for k in ("fmin", "fmax", "htk", "norm")})
        return float(np.linalg.norm(B @ S ** np.float32(p["power"]) - M) / np.linalg.norm(M))

    def preset(self, p, y):
        np, librosa = self.np, self.librosa
        n_fft, hop = p["n_fft"], p["hop_length"]
        if p["preset"] == "hifigan":
            # meldataset.mel_spectrogram: F.pad(y, ((n_fft-hop)/2, (n_fft-hop)/2), "reflect"),
            # torch.stft(center=False, hann_window(win_size)), sqrt(re^2+im^2+1e-9),
            # mel_basis @ spec, spectral_normalize = log(clamp(x, min=1e-5)).
            pad = (n_fft - hop) // 2
            padded = np.pad(y, (pad, pad), mode="reflect")
            X = librosa.stft(padded, n_fft=n_fft, hop_length=hop, win_length=p["win_length"], window="hann",
                             center=False)
            S = np.sqrt(X.real ** 2 + X.imag ** 2 + 1e-9)
            mel = librosa.filters.mel(sr=p["sr"], n_fft=n_fft, n_mels=p["n_mels"], fmin=p["fmin"], fmax=p["fmax"])
            return np.log(np.maximum(mel @ S, 1e-5))
        # whisper/audio.py log_mel_spectrogram: torch.stft(audio, N_FFT, HOP_LENGTH, window=hann_window(N_FFT),
        # return_complex=True) (center=True, reflect), stft[..., :-1].abs() ** 2, filters @ magnitudes,
        # clamp(min=1e-10).log10(), maximum(log_spec, log_spec.max() - 8.0), (log_spec + 4.0) / 4.0.
        X = librosa.stft(y, n_fft=n_fft, hop_length=hop, window="hann", center=True, pad_mode="reflect")
        P = np.abs(X[:, :-1]) ** 2
        mel = librosa.filters.mel(sr=p["sr"], n_fft=n_fft, n_mels=p["n_mels"])
        L = np.log10(np.maximum(mel @ P, 1e-10))
        L = np.maximum(L, L.max() - 8.0)
        return (L + 4.0) / 4.0


def generate_cases(np, librosa, manifest, signals):
    gen = Generator(np, librosa, manifest, signals)
    for c in manifest["cases"]:
        arr = gen.get(c["name"])
        want = tuple(c["shape"])
        if tuple(arr.shape) != want:
            raise ManifestError("case %s: computed shape %s, manifest says %s" % (c["name"], arr.shape, want))
    return gen


def generate_perceptual(np, librosa, pmanifest, signals, reference, regenerate_gl):
    import scipy.signal
    import pystoi
    plan, problems = perceptual_plan(pmanifest)
    if problems:
        raise ManifestError("; ".join(problems))
    arrays = {"clean_22k.npy": signals[PERCEPTUAL_SOURCE].astype(np.float64)}
    source_rate = 22050
    for _, r in plan:
        name = r["clean"]
        if name not in arrays:
            g = math.gcd(int(r["rate"]), source_rate)
            arrays[name] = scipy.signal.resample_poly(arrays["clean_22k.npy"], int(r["rate"]) // g, source_rate // g)
    rng = np.random.default_rng(PERCEPTUAL_NOISE_SEED)
    scores = []
    for c, r in plan:
        clean = arrays[r["clean"]]
        if r["kind"] == "noise":
            z = rng.standard_normal(len(clean))
            degraded = clean + np.sqrt(np.mean(clean ** 2)) / 10 ** (r["snr_db"] / 20) * z
        elif r["kind"] == "lowpass":
            sos = scipy.signal.butter(r["order"], r["cutoff_hz"], btype="low", fs=r["rate"], output="sos")
            degraded = scipy.signal.sosfilt(sos, clean)
        elif regenerate_gl:
            S = np.abs(librosa.stft(clean, n_fft=PERCEPTUAL_GL["n_fft"], hop_length=PERCEPTUAL_GL["hop_length"]))
            degraded = librosa.griffinlim(S, n_iter=r["n_iter"], hop_length=PERCEPTUAL_GL["hop_length"],
                                          n_fft=PERCEPTUAL_GL["n_fft"], length=len(clean),
                                          random_state=PERCEPTUAL_GL_REGENERATE_SEED)
        else:
            path = os.path.join(reference, "perceptual", c["degraded"])
            if not os.path.isfile(path):
                fail("%s is missing (its initial phase is not recorded; --regenerate-griffinlim recomputes it "
                     "with another)" % path)
            degraded = np.load(path)
        degraded = np.asarray(degraded, dtype=np.float64)
        if degraded.shape != clean.shape:
            raise ManifestError("%s: %s samples, clean has %s" % (c["degraded"], degraded.shape, clean.shape))
        arrays[c["degraded"]] = degraded
        entry = dict(c)
        entry["stoi"] = float(pystoi.stoi(clean, degraded, r["rate"], extended=False))
        entry["estoi"] = float(pystoi.stoi(clean, degraded, r["rate"], extended=True))
        scores.append(entry)
    out_manifest = {k: v for k, v in pmanifest.items() if k != "cases"}
    out_manifest["cases"] = scores
    return arrays, out_manifest


def generator_string(template, found, pystoi_style):
    np_v = ".".join(found["numpy"].split(".")[:2])
    sp_v = ".".join(found["scipy"].split(".")[:2])
    if pystoi_style:
        return re.sub(r"^pystoi \S+", "pystoi " + found["pystoi"],
                      re.sub(r"numpy \S+, scipy \S+$", "numpy %s, scipy %s" % (np_v, sp_v), template))
    return "librosa %s, numpy %s, scipy %s" % (found["librosa"], np_v, sp_v)


def write_all(np, out, manifest, pmanifest, signals, gen, parrays, pmanifest_out, found):
    for name, sig in manifest["signals"].items():
        save(np, os.path.join(out, sig["file"]), signals[name], "<f4")
    cases_out = []
    for c in manifest["cases"]:
        arr = gen.results[c["name"]]
        dtype = "<c8" if c["dtype"] == "complex64" else "<f4"
        save(np, os.path.join(out, c["output"]), arr, dtype)
        entry = dict(c)
        entry["shape"] = list(arr.shape)
        entry["tolerance"] = gen.tolerance[c["name"]]
        cases_out.append(entry)
    for rel, arr in gen.extra.items():
        save(np, os.path.join(out, rel), arr, "<f4")
    new_manifest = {k: v for k, v in manifest.items() if k != "cases"}
    new_manifest["generator"] = generator_string(manifest.get("generator", ""), found, False)
    new_manifest["cases"] = cases_out
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(new_manifest, f, indent=1)
    for name, arr in parrays.items():
        save(np, os.path.join(out, "perceptual", name), arr, "<f8")
    pmanifest_out["generator"] = generator_string(pmanifest.get("generator", ""), found, True)
    with open(os.path.join(out, "perceptual", "manifest.json"), "w") as f:
        json.dump(pmanifest_out, f, indent=1)


# -------------------------------------------------------------------- check


def compare(np, args, manifest, pmanifest, out, gen, pmanifest_out):
    """Prints one line per case; returns the number of failures."""
    ref_dir = args.reference
    failures = 0
    rows = []

    def load_ref(rel):
        path = os.path.join(ref_dir, rel)
        if not os.path.isfile(path):
            return None
        return np.load(path)

    def bounded(name, kind, new, ref, atol, rtol):
        if ref is None:
            return (name, kind, "missing", "", "FAIL")
        if new.shape != ref.shape:
            return (name, kind, "shape %s vs %s" % (new.shape, ref.shape), "", "FAIL")
        err = float(np.max(np.abs(new.astype(ref.dtype) - ref))) if new.size else 0.0
        bound = atol + rtol * float(np.max(np.abs(ref))) if ref.size else atol
        return (name, kind, "%.3e" % err, "%.3e" % bound, "ok" if err <= bound else "FAIL")

    for name, sig in manifest["signals"].items():
        new, ref = np.load(os.path.join(out, sig["file"])), load_ref(sig["file"])
        if signal_source(args, name) == "wav" and ref is not None and ref.shape == new.shape:
            # Best effort by design: report the distance in 16-bit steps.
            steps = float(np.max(np.abs(new.astype(np.float64) - ref))) * 32768
            rows.append((name, "signal (wav)", "%.3g / 32768" % steps, "(not compared)", "info"))
        else:
            rows.append(bounded(name, "signal", new, ref, 0.0, 0.0))
    for c in manifest["cases"]:
        new = np.load(os.path.join(out, c["output"]))
        ref = load_ref(c["output"])
        tol = c["tolerance"]
        if c["kind"] == "mel_to_stft_nnls":
            mel_ref = load_ref(gen.by_name[c["inputs"]["mel"]]["output"])
            if ref is None or mel_ref is None:
                rows.append((c["name"], c["kind"], "missing", "", "FAIL"))
                continue
            p = c["params"]
            residual = gen.mel_residual(new, mel_ref, p)
            bound = float(tol["mel_residual_rel"])
            # The residual is a float32 quotient of norms: allow its last bits.
            rows.append((c["name"], c["kind"], "residual %.6e" % residual, "%.6e" % bound,
                         "ok" if residual <= bound * (1 + 1e-5) else "FAIL"))
            continue
        rows.append(bounded(c["name"], c["kind"], new, ref, float(tol.get("atol", 0)), float(tol.get("rtol", 0))))
        if c["kind"] == "griffinlim":
            rel = c["inputs"]["magnitude"]
            # |STFT| of the signal: the stft_complex tolerance.
            rows.append(bounded(rel, "gl magnitude", np.load(os.path.join(out, rel)), load_ref(rel), 1e-4, 1e-4))
    tolerances = pmanifest.get("tolerance", {})
    plan, _ = perceptual_plan(pmanifest)
    for name in sorted({r["clean"] for _, r in plan}):
        rel = os.path.join("perceptual", name)
        rows.append(bounded(rel, "perceptual clean", np.load(os.path.join(out, rel)), load_ref(rel), 0.0, 1e-9))
    for (c, r), new_c in zip(plan, pmanifest_out["cases"]):
        rel = os.path.join("perceptual", c["degraded"])
        new = np.load(os.path.join(out, rel))
        ref = load_ref(rel)
        if r["kind"] == "griffinlim" and args.regenerate_griffinlim:
            err = float(np.max(np.abs(new - ref))) if ref is not None and ref.shape == new.shape else float("nan")
            rows.append((rel, "perceptual gl", "%.3e" % err, "(not compared)", "info"))
        else:
            rows.append(bounded(rel, "perceptual " + r["kind"], new, ref, 0.0, 1e-9))
        bound = float(tolerances.get(r["tolerance_key"], 0.0))
        for metric in ("stoi", "estoi"):
            err = abs(new_c[metric] - c[metric])
            if r["kind"] == "griffinlim" and args.regenerate_griffinlim:
                rows.append(("%s %s" % (c["degraded"], metric), "perceptual score", "%.3e" % err,
                             "(not compared)", "info"))
                continue
            rows.append(("%s %s" % (c["degraded"], metric), "perceptual score", "%.3e" % err, "%.3e" % bound,
                         "ok" if err <= bound else "FAIL"))
    # Signals resampled from the WAV differ from the checked-in ones by design:
    # everything computed from them is then reported, not judged.
    informative = any(signal_source(args, name) == "wav" for name in manifest["signals"])
    over = 0
    width = max(len(r[0]) for r in rows)
    print("%-*s  %-21s  %-24s  %-14s  %s" % (width, "case", "kind", "max error", "bound", "result"))
    for r in rows:
        result = r[4]
        if result == "FAIL" and informative:
            result = "over"
            over += 1
        print("%-*s  %-21s  %-24s  %-14s  %s" % (width, r[0], r[1], r[2], r[3], result))
        if result == "FAIL":
            failures += 1
    if informative:
        print("signals resampled from %s: the comparisons above are informative only ('over' = outside the "
              "tolerance)" % args.signals_from_wav)
    return failures, over, len(rows)


# --------------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Regenerate (or check) the librosa 0.10.1 golden data of tests/data/librosa.",
        epilog="Needs librosa 0.10.1, numpy 1.24, scipy 1.10 and pystoi 0.4.1 (not for --dry-run): " + INSTALL_HINT)
    parser.add_argument("--reference", default=HERE,
                        help="directory holding manifest.json, perceptual/manifest.json and the checked-in arrays "
                             "(default: this script's directory)")
    parser.add_argument("--out", help="write the data here (default: a new directory under the system temp dir); "
                                      "writes into the reference directory only when named here")
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temporary directory (or --out) and compare with the reference files "
                             "using each case's tolerance; exit status 1 on any failure")
    parser.add_argument("--dry-run", action="store_true",
                        help="parse both manifests and list what would be computed per case; exit status 1 if any "
                             "case is not recognised")
    parser.add_argument("--synthesize-chirp", action="store_true",
                        help="compute chirp22k from its formula instead of reading signals/chirp22k.npy")
    parser.add_argument("--signals-from-wav", nargs="?", const=DEFAULT_WAV, metavar="WAV",
                        help="resample speech22k and speech16k from this WAV (default %s): best effort, not bit "
                             "for bit" % DEFAULT_WAV)
    parser.add_argument("--wav-resampler", choices=("sox", "soxr"),
                        help="for --signals-from-wav: SoX's rate -h without dither (default when sox is on PATH) "
                             "or python-soxr HQ")
    parser.add_argument("--regenerate-griffinlim", action="store_true",
                        help="recompute the perceptual Griffin-Lim pair (random_state=%d) instead of copying the "
                             "checked-in arrays, whose initial phase is not recorded" % PERCEPTUAL_GL_REGENERATE_SEED)
    parser.add_argument("--any-version", action="store_true",
                        help="go on (with a warning) when the installed versions differ from the required ones")
    args = parser.parse_args(argv)
    args.reference = os.path.abspath(args.reference)
    if args.signals_from_wav and args.wav_resampler is None:
        args.wav_resampler = "sox" if shutil.which("sox") else "soxr"
    return args


def main(argv):
    args = parse_args(argv)
    manifest = load_json(os.path.join(args.reference, "manifest.json"))
    pmanifest = load_json(os.path.join(args.reference, "perceptual", "manifest.json"))
    if args.dry_run:
        return dry_run(args, manifest, pmanifest)
    problems = validate(manifest) + perceptual_plan(pmanifest)[1]
    if problems:
        fail("the manifests hold cases this script does not compute:\n  " + "\n  ".join(problems), status=1)
    if args.signals_from_wav and not os.path.isfile(args.signals_from_wav):
        fail("%s not found (Debian: apt-get install alsa-utils)" % args.signals_from_wav)
    if args.wav_resampler == "sox" and not shutil.which("sox"):
        fail("--wav-resampler sox: sox is not on PATH (Debian: apt-get install sox)")

    found = require_libraries(args.any_version)
    import numpy as np
    import librosa

    cleanup = None
    if args.out:
        out = os.path.abspath(args.out)
    elif args.check:
        cleanup = tempfile.TemporaryDirectory(prefix="specinv-librosa-check-")
        out = cleanup.name
    else:
        out = tempfile.mkdtemp(prefix="specinv-librosa-")
    if args.check and os.path.realpath(out) == os.path.realpath(args.reference):
        fail("--check compares with the reference directory; --out must be elsewhere")
    os.makedirs(out, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix="specinv-librosa-work-") as work:
            signals = build_signals(np, args, manifest, work)
        gen = generate_cases(np, librosa, manifest, signals)
        parrays, pmanifest_out = generate_perceptual(np, librosa, pmanifest, signals, args.reference,
                                                     args.regenerate_griffinlim)
        write_all(np, out, manifest, pmanifest, signals, gen, parrays, pmanifest_out, found)
        print("wrote %d cases, %d perceptual arrays and both manifests to %s" % (
            len(manifest["cases"]), len(parrays), out))
        if args.check:
            failures, over, total = compare(np, args, manifest, pmanifest, out, gen, pmanifest_out)
            print("%d of %d comparisons within tolerance%s" % (
                total - failures - over, total, ", %d over (informative)" % over if over else ""))
            return 1 if failures else 0
        return 0
    except ManifestError as e:
        fail(str(e), status=1)
    finally:
        if cleanup is not None:
            cleanup.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
