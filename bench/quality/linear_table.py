#!/usr/bin/env python3
"""Linear-magnitude inversion against librosa griffinlim, clip by clip.

For every clip of CORPUS/22050 (preset tacotron2) and CORPUS/16000 (preset
espnet), both n_fft 1024, hop 256, centred constant padding, it scores
  - librosa 0.10.1 griffinlim on the clip's true linear magnitude,
    --iterations iterations, random initial phase, seeds 1..--seeds
    (bench/librosa_baseline.py --linear; the mean SC_lin of the seeds),
  - --method (default refine) of --bench at --iterations (InvertMagnitude),
  - optionally the same method of --before, a second build of
    specinv-invert-bench (e.g. of an earlier commit), for a before/after table,
all with the same scorer (specinv-invert-bench --score). The librosa
reconstructions are cached in --cache (reused when present: they depend only
on the clip, the seed and the iteration count).

Prints per clip: librosa's mean SC_lin (dB), the method's SC_lin before and
after, the margin over librosa after (dB; librosa minus method, higher is
better), the gain of after over before (dB), the STFT/iSTFT pairs the call
reported (iterations_run) and its CPU time. Then whether each clip meets
the goal: a margin of at least --speech-goal dB on speech and --music-goal dB
on the instruments. Times are CPU times of the call (ms, all threads: robust
on a shared machine; the JSON also holds the wall times).

"iters"/"pairs" is the iterations_run the call reports: for refine on a
magnitude the STFT/iSTFT pairs it spent, all stages and line searches
included (never more than --iterations); an older build reports its
Griffin-Lim plus L-BFGS iterations there (its line searches' extra
evaluations not counted).

  bench/quality/linear_table.py --bench build/release/bench/specinv-invert-bench \\
      --corpus out/quality/corpus [--before OTHER/specinv-invert-bench] [--json out.json]
"""

import argparse
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BASELINE = os.path.join(HERE, "..", "librosa_baseline.py")
PRESETS = [(22050, "tacotron2"), (16000, "espnet")]
MUSIC = ("piano", "violin", "trumpet")


def run_bench(bench, clip, preset, extra):
    cmd = [bench, "--input", clip, "--preset", preset, "--pad-mode", "constant", "--domain", "linear",
           "--json"] + extra
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{res.stderr}")
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


def librosa_outputs(args, clip, rate, name):
    os.makedirs(args.cache, exist_ok=True)
    paths = []
    for seed in range(1, args.seeds + 1):
        out = os.path.join(args.cache, f"{rate}_{name}_it{args.iterations}_seed{seed}.wav")
        if not os.path.exists(out):
            tmp = out + ".part.wav"
            res = subprocess.run([args.python, BASELINE, "--input", clip, "--output", tmp, "--linear",
                                  "--sample-rate", str(rate), "--iterations", str(args.iterations), "--seed",
                                  str(seed), "--repeat", "1"], capture_output=True, text=True)
            if res.returncode != 0:
                sys.exit(f"librosa griffinlim failed on {clip}:\n{res.stderr}")
            os.replace(tmp, out)
        paths.append(out)
    return paths


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", required=True)
    p.add_argument("--before", help="an earlier specinv-invert-bench to compare with")
    p.add_argument("--before-iterations", type=int, help="--iterations for --before (default: the same)")
    p.add_argument("--corpus", required=True)
    p.add_argument("--cache", default="out/quality/griffinlim")
    p.add_argument("--method", default="refine")
    p.add_argument("--iterations", type=int, default=100)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--speech-goal", type=float, default=5.0)
    p.add_argument("--music-goal", type=float, default=10.0)
    p.add_argument("--python", default="/usr/bin/python3", help="interpreter with NumPy and SciPy")
    p.add_argument("--extra", default="", help="more specinv-invert-bench flags for --bench (space separated)")
    p.add_argument("--json", help="also write the rows to this file")
    args = p.parse_args()

    common = ["--methods", args.method, "--iterations", str(args.iterations), "--threads", str(args.threads)]
    rows = []
    for rate, preset in PRESETS:
        clips = sorted(glob.glob(os.path.join(args.corpus, str(rate), "*.wav")))
        if not clips:
            sys.exit(f"no clips in {args.corpus}/{rate}: run bench/quality/make_corpus.sh first")
        for clip in clips:
            name = os.path.splitext(os.path.basename(clip))[0]
            scores = []
            for seed, path in enumerate(librosa_outputs(args, clip, rate, name), start=1):
                scores += ["--score", f"griffinlim{seed}={path}"]
            found = run_bench(args.bench, clip, preset, common + args.extra.split() + scores)
            lib = [r["sc_lin_db"] for r in found if r["method"].startswith("griffinlim")]
            after = next(r for r in found if r["method"] == args.method)
            row = {"rate": rate, "signal": name, "kind": "music" if name.startswith(MUSIC) else "speech",
                   "griffinlim": sum(lib) / len(lib), "after": after["sc_lin_db"],
                   "pairs": after["iterations"], "ms": after["ms"], "cpu_ms": after["cpu_ms"]}
            if args.before:
                before_common = common if args.before_iterations is None else \
                    ["--methods", args.method, "--iterations", str(args.before_iterations), "--threads", str(args.threads)]
                before = next(r for r in run_bench(args.before, clip, preset, before_common)
                              if r["method"] == args.method)
                row.update(before=before["sc_lin_db"], before_pairs=before["iterations"], before_ms=before["ms"],
                           before_cpu_ms=before["cpu_ms"])
            rows.append(row)
            print(f"# {rate} {name}: done", file=sys.stderr, flush=True)

    print(f"linear magnitude, {args.method} at {args.iterations} iterations against librosa griffinlim "
          f"({args.iterations} iterations, random phase, mean of {args.seeds} seeds); SC_lin in dB; "
          "margin = librosa - after")
    head = "%-6s %-20s %10s " % ("rate", "signal", "griffinlim")
    if args.before:
        head += "%8s %6s %8s " % ("before", "iters", "cpu_ms")
    head += "%8s %6s %8s %7s" % ("after", "pairs", "cpu_ms", "margin")
    if args.before:
        head += " %7s" % "gain"
    print(head + "  goal")
    failures = 0
    for r in sorted(rows, key=lambda r: (-r["rate"], r["kind"] == "music", r["signal"])):
        margin = r["griffinlim"] - r["after"]
        goal = args.music_goal if r["kind"] == "music" else args.speech_goal
        ok = margin >= goal
        failures += not ok
        line = "%-6d %-20s %10.2f " % (r["rate"], r["signal"], r["griffinlim"])
        if args.before:
            line += "%8.2f %6d %8.1f " % (r["before"], r["before_pairs"], r["before_cpu_ms"])
        line += "%8.2f %6d %8.1f %7.2f" % (r["after"], r["pairs"], r["cpu_ms"], margin)
        if args.before:
            line += " %7.2f" % (r["before"] - r["after"])
        print(line + "  %s (>= %g)" % ("ok" if ok else "SHORT", goal))
    for kind in ("speech", "music"):
        rs = [r for r in rows if r["kind"] == kind]
        if rs:
            margins = [r["griffinlim"] - r["after"] for r in rs]
            print(f"{kind}: margin min {min(margins):.2f} mean {sum(margins) / len(margins):.2f} dB over {len(rs)} clips")
    print(f"clips short of the goal: {failures} of {len(rows)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
