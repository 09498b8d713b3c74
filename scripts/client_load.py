#!/usr/bin/python3
# Copyright specinv authors.
#
# Closed-loop InvertMel load from Python, for scripts/client-overhead-bench.py:
# CONCURRENCY threads each send their next call as soon as the previous one
# answered, for DURATION seconds, through one of
#   python   the specinv package (gRPC):   Client.invert_mel(mel, preset, method=..., iterations=...)
#   http     POST /v1/invert-mel with the .npy body, raw float32 PCM back
#   kserve   POST /v2/models/<preset>-vocoder/infer, binary tensor data in and out
# (a call refused for load (429) waits the server's X-Retry-After-Ms before the
# thread's next call, as the gRPC clients wait their retry hint) and prints one JSON object: calls ok, failed, ok per second, p50/p99 ms.
#
#   client_load.py --mode http --target 127.0.0.1:8080 --mel mel.npy -c 8 -d 10
#
# `python` mode needs the specinv package importable (a venv where it is
# installed); the other modes only the standard library and numpy.

import argparse
import http.client
import io
import json
import threading
import time

import numpy as np


def make_call(args, mel):
    """A function doing one call on this thread's connection: True when OK."""
    if args.mode == "python":
        import specinv
        client = specinv.Client(args.target)

        def call():
            client.invert_mel(mel, args.preset, method=args.method, iterations=args.iterations)
            return True
        return call
    host, port = args.target.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    if args.mode == "http":
        buf = io.BytesIO()
        np.save(buf, mel)
        body = buf.getvalue()
        path = (f"/v1/invert-mel?preset={args.preset}&method={args.method}&iterations={args.iterations}"
                "&encoding=pcm-float32-le")
        headers = {"Content-Type": "application/x-npy"}
    else:
        header = json.dumps({"inputs": [{"name": "mel", "shape": list(mel.shape), "datatype": "FP32",
                                         "parameters": {"binary_data_size": mel.size * 4}}],
                             "outputs": [{"name": "audio", "parameters": {"binary_data": True}}],
                             "parameters": {"method": args.method, "iterations": args.iterations}}).encode()
        body = header + mel.astype("<f4").tobytes()
        path = f"/v2/models/{args.preset}-vocoder/infer"
        headers = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(header))}

    def call():
        conn.request("POST", path, body, headers)
        r = conn.getresponse()
        r.read()
        if r.status == 429:  # wait the server's hint before the next call, as the gRPC clients do
            time.sleep(float(r.getheader("X-Retry-After-Ms", "0")) / 1e3)
        return r.status == 200
    return call


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("python", "http", "kserve"), required=True)
    parser.add_argument("--target", required=True, help="host:port (gRPC for python, HTTP otherwise)")
    parser.add_argument("--mel", required=True, help=".npy mel (n_mels, frames)")
    parser.add_argument("--preset", default="hifigan")
    parser.add_argument("--method", default="fgla")
    parser.add_argument("--iterations", type=int, default=32)
    parser.add_argument("-c", "--concurrency", type=int, default=1)
    parser.add_argument("-d", "--duration-s", type=float, default=10.0)
    args = parser.parse_args()
    mel = np.load(args.mel).astype(np.float32)

    latencies, failed = [], [0]
    lock = threading.Lock()
    start = time.monotonic()
    end = start + args.duration_s

    def worker():
        call = make_call(args, mel)
        mine, bad = [], 0
        while time.monotonic() < end:
            t0 = time.monotonic()
            try:
                ok = call()
            except Exception:  # noqa: BLE001 - counted, the load goes on
                ok = False
            if ok:
                mine.append(time.monotonic() - t0)
            else:
                bad += 1
        with lock:
            latencies.extend(mine)
            failed[0] += bad

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    ms = np.sort(np.array(latencies) * 1e3) if latencies else np.array([float("nan")])
    print(json.dumps({"mode": args.mode, "concurrency": args.concurrency, "ok": len(latencies), "failed": failed[0],
                      "ok_per_s": len(latencies) / elapsed, "p50_ms": float(np.percentile(ms, 50)),
                      "p99_ms": float(np.percentile(ms, 99))}))


if __name__ == "__main__":
    main()
