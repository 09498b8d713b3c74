#!/usr/bin/env python3
"""Mel-inversion quality table over the `make quality` corpus.

For every clip of CORPUS/22050 (preset tacotron2: 1024/256, 80 Slaney mels
0-8 kHz) and CORPUS/16000 (preset espnet: 1024/256, 80 mels 80-7600 Hz), both
with librosa's centred constant padding, it inverts the clip's mel with
  - librosa 0.10.1 mel_to_audio, 32 iterations (bench/librosa_baseline.py,
    which writes its reconstruction; time from that script),
  - each specinv method of --methods (specinv-invert-bench, mel domain),
  - "ceiling": pghi_fgla, 100 iterations, on the TRUE linear magnitude,
and scores every reconstruction with the same code (specinv-invert-bench;
the baseline's WAV through --score). Prints one row per method and clip and
then the means per sample rate, class (speech / music) and method, with the
time as a ratio to librosa's on the same clip: "cpu/librosa" compares CPU
times (all threads), the work; "wall/librosa" compares wall times with
--threads threads per specinv job (make quality: 2, what the server gives a
lone job on the 2-core machine; librosa runs as NumPy runs it). Each time is
the least of --repeat runs. Quality figures do not depend on the threads.
A method written NAME@N runs N iterations instead of --iterations; "stream"
is the streaming vocoder with the preset's defaults fed 8 frames at a time
(one thread, its time including the vocoder's creation).

Then the linear-magnitude table: librosa griffinlim (100 iterations, random
initial phase, the mean SC_lin over --linear-seeds seeds) against specinv's
--linear-methods (InvertMagnitude, 100 iterations) on each clip's true
magnitude, with each method's margin over librosa in dB.

  quality_table.py --bench build/release/bench/specinv-invert-bench --corpus out/quality/corpus
"""

import argparse
import collections
import glob
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BASELINE = os.path.join(HERE, "..", "librosa_baseline.py")
PRESETS = [  # rate, preset, fmin, fmax (as the preset defines them)
    (22050, "tacotron2", 0.0, 8000.0),
    (16000, "espnet", 80.0, 7600.0),
]
MUSIC = ("piano", "violin", "trumpet")
COLUMNS = [("sc_lin_db", "SC_lin", "%7.2f"), ("sc_mel_db", "SC_mel", "%7.2f"), ("stoi", "STOI", "%6.3f"),
           ("estoi", "ESTOI", "%6.3f"), ("lsd_db", "LSD", "%6.2f"), ("ms", "ms", "%8.1f"),
           ("cpu_ms", "cpu_ms", "%8.1f"), ("ratio", "cpu/librosa", "%11.3f"),
           ("wall_ratio", "wall/librosa", "%12.3f")]


def run_bench(bench, clip, preset, extra):
    cmd = [bench, "--input", clip, "--preset", preset, "--pad-mode", "constant", "--json"] + extra
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{res.stderr}")
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


def fmt(value, spec):
    return (spec % value) if value is not None and not (isinstance(value, float) and math.isnan(value)) else \
        " " * (len(spec % 0.0) - 3) + "nan"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--methods", default="fgla,pghi_fgla,refine")
    p.add_argument("--iterations", type=int, default=32)
    p.add_argument("--ceiling-iterations", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3, help="timed runs per method and clip (the least time counts)")
    p.add_argument("--linear-methods", default="fgla,pghi_fgla,refine")
    p.add_argument("--linear-iterations", type=int, default=100)
    p.add_argument("--linear-seeds", type=int, default=3)
    p.add_argument("--no-linear", action="store_true", help="skip the linear-magnitude table")
    p.add_argument("--json", help="also write all rows to this file")
    args = p.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rate, preset, fmin, fmax in PRESETS:
            clips = sorted(glob.glob(os.path.join(args.corpus, str(rate), "*.wav")))
            if not clips:
                sys.exit(f"no clips in {args.corpus}/{rate}: run bench/quality/make_corpus.sh first")
            for clip in clips:
                name = os.path.splitext(os.path.basename(clip))[0]
                out = os.path.join(tmp, "librosa.wav")
                res = subprocess.run([sys.executable, BASELINE, "--input", clip, "--output", out, "--sample-rate",
                                      str(rate), "--fmin", str(fmin), "--fmax", str(fmax), "--iterations",
                                      str(args.iterations), "--repeat", str(args.repeat)],
                                     capture_output=True, text=True)
                if res.returncode != 0:
                    sys.exit(f"librosa baseline failed on {clip}:\n{res.stderr}")
                librosa_time = json.loads(res.stdout.strip().splitlines()[-1])
                found = run_bench(args.bench, clip, preset,
                                  ["--methods", ",".join(m for m in args.methods.split(",") if "@" not in m),
                                   "--iterations", str(args.iterations), "--threads", str(args.threads), "--repeat",
                                   str(args.repeat), "--score",
                                   f"librosa={out}"])
                for spec in (m for m in args.methods.split(",") if "@" in m):
                    method, iterations = spec.split("@")
                    found += [dict(r, method=spec) for r in run_bench(
                        args.bench, clip, preset, ["--methods", method, "--iterations", iterations, "--threads",
                                                   str(args.threads), "--repeat", str(args.repeat)])]
                found += [dict(r, method="ceiling") for r in run_bench(
                    args.bench, clip, preset, ["--domain", "linear", "--methods", "pghi_fgla", "--iterations",
                                               str(args.ceiling_iterations), "--threads", str(args.threads)])]
                for r in found:
                    if r["method"] == "librosa":
                        r["ms"], r["cpu_ms"] = librosa_time["ms"], librosa_time["cpu_ms"]
                    r["ratio"] = r["cpu_ms"] / librosa_time["cpu_ms"] if r.get("cpu_ms") is not None else None
                    r["wall_ratio"] = r["ms"] / librosa_time["ms"] if r.get("ms") is not None else None
                    r.update(rate=rate, signal=name, kind="music" if name.startswith(MUSIC) else "speech")
                    rows.append(r)
                print(f"# {rate} {name}: done", file=sys.stderr, flush=True)

    order = ["librosa"] + args.methods.split(",") + ["ceiling"]
    head = "%-6s %-22s %-12s " % ("rate", "signal", "method") + " ".join(
        "%*s" % (len(spec % 0.0), label) for _, label, spec in COLUMNS)
    print(head)
    key = lambda r: (-r["rate"], r["kind"], r["signal"], order.index(r["method"]) if r["method"] in order else 99)
    for r in sorted(rows, key=key):
        print("%-6d %-22s %-12s " % (r["rate"], r["signal"], r["method"]) +
              " ".join(fmt(r.get(k), spec) for k, _, spec in COLUMNS))
    print()
    print("means per rate, class and method (cpu/librosa, wall/librosa: means of the per-clip ratios)")
    print("%-6s %-7s %-12s " % ("rate", "class", "method") + " ".join(
        "%*s" % (len(spec % 0.0), label) for _, label, spec in COLUMNS))
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["rate"], r["kind"], r["method"])].append(r)
    for (rate, kind, method) in sorted(groups, key=lambda g: (-g[0], g[1], order.index(g[2]) if g[2] in order else 99)):
        rs = groups[(rate, kind, method)]

        def mean(k):
            vals = [r[k] for r in rs if r.get(k) is not None and not math.isnan(r[k])]
            return sum(vals) / len(vals) if vals else None

        print("%-6d %-7s %-12s " % (rate, kind, method) + " ".join(fmt(mean(k), spec) for k, _, spec in COLUMNS))
    linear = [] if args.no_linear else linear_table(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"mel": rows, "linear": linear}, f, indent=1)


def linear_table(args):
    methods = args.linear_methods.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rate, preset, _, _ in PRESETS:
            for clip in sorted(glob.glob(os.path.join(args.corpus, str(rate), "*.wav"))):
                name = os.path.splitext(os.path.basename(clip))[0]
                scores = []
                for seed in range(1, args.linear_seeds + 1):
                    out = os.path.join(tmp, f"griffinlim{seed}.wav")
                    res = subprocess.run([sys.executable, BASELINE, "--input", clip, "--output", out, "--linear",
                                          "--sample-rate", str(rate), "--iterations", str(args.linear_iterations),
                                          "--seed", str(seed), "--repeat", "1"], capture_output=True, text=True)
                    if res.returncode != 0:
                        sys.exit(f"librosa griffinlim failed on {clip}:\n{res.stderr}")
                    scores += ["--score", f"griffinlim{seed}={out}"]
                found = run_bench(args.bench, clip, preset,
                                  ["--domain", "linear", "--methods", args.linear_methods, "--iterations",
                                   str(args.linear_iterations), "--threads", str(args.threads)] + scores)
                lib = [r["sc_lin_db"] for r in found if r["method"].startswith("griffinlim")]
                row = {"rate": rate, "signal": name, "griffinlim": sum(lib) / len(lib)}
                row.update({r["method"]: r["sc_lin_db"] for r in found if r["method"] in methods})
                rows.append(row)
                print(f"# linear {rate} {name}: done", file=sys.stderr, flush=True)
    print()
    print(f"linear magnitude, {args.linear_iterations} iterations: SC_lin dB (librosa griffinlim: mean of "
          f"{args.linear_seeds} random-phase seeds); margin = librosa - method (dB, higher is better)")
    print("%-6s %-22s %10s " % ("rate", "signal", "griffinlim") + " ".join("%10s" % m for m in methods) + "  " +
          " ".join("%12s" % ("margin_" + m) for m in methods))
    for r in rows:
        print("%-6d %-22s %10.2f " % (r["rate"], r["signal"], r["griffinlim"]) +
              " ".join("%10.2f" % r[m] for m in methods) + "  " +
              " ".join("%12.2f" % (r["griffinlim"] - r[m]) for m in methods))
    return rows


if __name__ == "__main__":
    main()
