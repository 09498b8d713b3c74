#!/usr/bin/python3
# Copyright specinv authors.
#
# What the Python package and the HTTP API cost against gRPC from C++: the
# same InvertMel load (a 2 s log-mel, fgla, 32 iterations, hifigan) against
# one specinv-server, closed loop, at each concurrency, from
#   c++      specinv bench (the C++ gRPC client)
#   python   the specinv Python package (gRPC), installed into a venv as the
#            README says
#   http     POST /v1/invert-mel (.npy in, raw float32 PCM out)
#   kserve   POST /v2/models/hifigan-vocoder/infer, binary tensor data
# in alternating rounds; prints requests/s and p50/p99 of each, and the ratio
# of each to c++ (median over the rounds).
#
#   scripts/client-overhead-bench.py [--build build/release] [--concurrency 1 8] [--duration-s 10] [--rounds 3]
#
# Needs a Release build (server/specinv-server, client/specinv), Debian's
# python3-grpcio, python3-numpy, python3-venv, protoc and grpc_python_plugin.
# Measure on an otherwise idle machine: the load generators share its cores.

import argparse
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import wave

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "client", "python", "tests"))
from run_tests import install  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def speech_like_wav(seconds=2.0, rate=22050):
    """A harmonic tone with a moving pitch and vibrato, as 16-bit WAV bytes."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 140.0 + 40.0 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 12)) * 0.2
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--duration-s", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="specinv_client_bench_")
    server = None
    try:
        python, env = install(os.path.join(work, "python"), os.path.join(ROOT, "proto"),
                              shutil.which("protoc"), shutil.which("grpc_python_plugin"))
        grpc_port, http_port = free_port(), free_port()
        server = subprocess.Popen(
            [os.path.join(args.build, "server", "specinv-server"), "--host", "127.0.0.1", "--port", str(grpc_port),
             "--http-port", str(http_port), "--metrics-port", "-1", "--workers", str(args.workers)],
            stderr=subprocess.DEVNULL)
        grpc_target, http_target = f"127.0.0.1:{grpc_port}", f"127.0.0.1:{http_port}"
        client = os.path.join(args.build, "client", "specinv")
        subprocess.run([client, "--server", grpc_target, "health", "--wait-s", "30"], check=True,
                       stdout=subprocess.DEVNULL)
        mel_path = os.path.join(work, "mel.npy")
        with urllib.request.urlopen(urllib.request.Request(
                f"http://{http_target}/v1/analyze?preset=hifigan", data=speech_like_wav(), method="POST")) as r:
            open(mel_path, "wb").write(r.read())

        def run(mode, c, duration):
            if mode == "c++":
                out = subprocess.run([client, "--server", grpc_target, "--max-attempts", "1", "bench",
                                      "--rpc", "invert-mel", "--input", mel_path, "--preset", "hifigan",
                                      "--method", "fgla", "--iterations", "32", "-c", str(c),
                                      "-d", str(duration), "--json"], check=True, capture_output=True, text=True)
                r = json.loads(out.stdout)
                return {"ok_per_s": r["ok_per_s"], "p50_ms": r["latency_ok"]["p50_ms"],
                        "p99_ms": r["latency_ok"]["p99_ms"], "failed": sum(r["errors"].values())}
            target = grpc_target if mode == "python" else http_target
            out = subprocess.run([python, os.path.join(ROOT, "scripts", "client_load.py"), "--mode", mode,
                                  "--target", target, "--mel", mel_path, "-c", str(c), "-d", str(duration)],
                                 check=True, capture_output=True, text=True, env=env, cwd=work)
            return json.loads(out.stdout)

        modes = ["c++", "python", "http", "kserve"]
        for mode in modes:  # warm-up: connections, caches, allocator
            run(mode, args.workers, 2.0)
        results = {}  # (c, mode) -> [report per round]
        for c in args.concurrency:
            for k in range(args.rounds):
                order = modes if k % 2 == 0 else modes[::-1]
                for mode in order:
                    r = run(mode, c, args.duration_s)
                    print(f"c={c} round {k + 1} {mode:<7} {r['ok_per_s']:7.2f} ok/s  p50 {r['p50_ms']:7.1f} ms  "
                          f"p99 {r['p99_ms']:7.1f} ms  failed {r['failed']}", file=sys.stderr, flush=True)
                    results.setdefault((c, mode), []).append(r)
        print(f"InvertMel, 2 s log-mel, fgla 32 it, hifigan; {args.workers} workers; {args.rounds} rounds of "
              f"{args.duration_s:g} s")
        print(f"{'conc':>4} | {'client':<7} | {'ok/s':>7} {'p50 ms':>8} {'p99 ms':>8} | {'ratio to c++':>12}")
        for c in args.concurrency:
            base = results[(c, "c++")]
            for mode in modes:
                rounds = results[(c, mode)]
                ratio = statistics.median(r["ok_per_s"] / b["ok_per_s"] for r, b in zip(rounds, base))
                print(f"{c:>4} | {mode:<7} | {statistics.median(r['ok_per_s'] for r in rounds):7.2f} "
                      f"{statistics.median(r['p50_ms'] for r in rounds):8.1f} "
                      f"{statistics.median(r['p99_ms'] for r in rounds):8.1f} | {ratio:12.3f}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
