#!/usr/bin/python3
# Copyright specinv authors.
#
# Interop test from Python grpcio: starts specinv-server, generates Python
# stubs from the .proto files at test time, then checks health, GetServerInfo,
# an Analyze -> InvertMel round trip, a validation error, and graceful
# shutdown on SIGTERM (exit code 0).
#
# Run by ctest (tests/server/CMakeLists.txt) with Debian's /usr/bin/python3,
# python3-grpcio and python3-numpy.

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time


def generate_stubs(args, out_dir):
    """protoc + grpc_python_plugin for specinv/v1 and the health service."""
    protos = sorted(
        os.path.join("specinv", "v1", f)
        for f in os.listdir(os.path.join(args.proto_dir, "specinv", "v1"))
        if f.endswith(".proto"))
    common = [args.protoc, f"--plugin=protoc-gen-grpc_python={args.grpc_python_plugin}",
              f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"]
    subprocess.run(common + [f"-I{args.proto_dir}"] + protos, check=True)
    # The health proto goes under a package name of its own: a top-level
    # "grpc" package would shadow grpcio.
    health_src = os.path.join(out_dir, "_health_src", "specinv_health")
    os.makedirs(health_src)
    shutil.copy(os.path.join(args.health_proto_dir, "grpc", "health", "v1", "health.proto"), health_src)
    subprocess.run(common + [f"-I{os.path.join(out_dir, '_health_src')}",
                             os.path.join(health_src, "health.proto")], check=True)


def wait_for_start(proc, timeout_s):
    """Reads a server's JSON log until its start event; returns (port, log).

    The log (a list) keeps filling in the background so the server never
    blocks on a full pipe. Kills the server if it does not start in time.
    """
    deadline = time.time() + timeout_s
    port = None
    lines = []
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("event") == "start":
            port = int(event["port"])
            break
    if port is None:
        proc.kill()
        raise RuntimeError("server did not start:\n" + "".join(lines))
    log = []
    threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True).start()
    return port, log


def start_server(binary):
    proc = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", "0", "--metrics-port", "-1", "--http-port", "0", "--workers", "2",
         "--log-format", "json", "--shutdown-grace-s", "10"],
        stderr=subprocess.PIPE, text=True)
    port, log = wait_for_start(proc, 30)
    return proc, port, log


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def server_script_parser():
    """The flags of every script that starts a server and generates stubs."""
    parser = argparse.ArgumentParser()
    for flag in ("--server", "--protoc", "--grpc-python-plugin", "--proto-dir", "--health-proto-dir"):
        parser.add_argument(flag, required=True)
    return parser


def main():
    args = server_script_parser().parse_args()

    import grpc
    import numpy as np

    tmp = tempfile.mkdtemp(prefix="specinv_interop_")
    proc = None
    try:
        generate_stubs(args, tmp)
        sys.path.insert(0, tmp)
        from specinv.v1 import audio_pb2, spectrogram_config_pb2, spectrogram_service_pb2 as svc
        from specinv.v1 import spectrogram_service_pb2_grpc as svc_grpc, tensor_pb2, inversion_pb2
        from specinv_health import health_pb2, health_pb2_grpc

        proc, port, log = start_server(args.server)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        stub = svc_grpc.SpectrogramStub(channel)

        # Health.
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "specinv.v1.Spectrogram"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            check(reply.status == health_pb2.HealthCheckResponse.SERVING, f"health {service!r}: {reply}")

        # GetServerInfo.
        info = stub.GetServerInfo(svc.GetServerInfoRequest(), timeout=10)
        names = [p.name for p in info.presets]
        check("hifigan" in names and "librosa" in names, f"presets: {names}")
        check(info.worker_count == 2, f"worker_count {info.worker_count}")
        check(info.limits.max_iterations == 1000, f"limits {info.limits}")
        check(inversion_pb2.INVERSION_METHOD_REFINE in info.methods, f"methods {info.methods}")

        # Analyze: 1 s of a 440 Hz tone as float32 PCM, hifigan log-mel.
        sr = 22050
        t = np.arange(sr) / sr
        tone = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype("<f4")
        request = svc.AnalyzeRequest(
            audio=audio_pb2.Audio(pcm_data=tone.tobytes(), encoding=audio_pb2.AUDIO_ENCODING_PCM_FLOAT32_LE,
                                  sample_rate_hertz=sr, channel_count=1),
            config=spectrogram_config_pb2.SpectrogramConfig(preset="hifigan"),
            kind=spectrogram_config_pb2.SPECTROGRAM_KIND_LOG_MEL)
        analyzed, call = stub.Analyze.with_call(request, timeout=30, metadata=[("x-request-id", "py-interop-1")])
        trailing = dict(call.trailing_metadata())
        check(trailing.get("x-request-id") == "py-interop-1", f"request id echo: {trailing}")
        check("x-request-id" not in dict(call.initial_metadata()), "x-request-id is trailing metadata only")
        shape = list(analyzed.spectrogram.shape)
        frames = 1 + (sr + 2 * ((1024 - 256) // 2) - 1024) // 256
        check(shape == [80, frames], f"log-mel shape {shape}, expected [80, {frames}]")
        log_mel = np.frombuffer(analyzed.spectrogram.float32_data, dtype="<f4").reshape(shape)
        check(np.all(np.isfinite(log_mel)), "non-finite log-mel")
        check(analyzed.effective_config.n_mels == 80 and analyzed.effective_config.fmax_hertz == 8000.0,
              f"effective config {analyzed.effective_config}")

        # InvertMel of the server's own log-mel: the tone comes back.
        inv = stub.InvertMel(svc.InvertMelRequest(
            mel=analyzed.spectrogram,
            config=spectrogram_config_pb2.SpectrogramConfig(preset="hifigan"),
            options=inversion_pb2.InversionOptions(method=inversion_pb2.INVERSION_METHOD_FGLA, iterations=16),
            output=audio_pb2.AudioOutputOptions(encoding=audio_pb2.AUDIO_ENCODING_PCM_FLOAT32_LE)), timeout=60)
        audio = np.frombuffer(inv.audio.pcm_data, dtype="<f4")
        check(audio.size == frames * 256, f"audio length {audio.size}, expected {frames * 256}")
        check(inv.audio.sample_rate_hertz == sr, f"rate {inv.audio.sample_rate_hertz}")
        spectrum = np.abs(np.fft.rfft(audio))
        peak_hz = np.argmax(spectrum) * sr / audio.size
        check(abs(peak_hz - 440.0) < 5.0, f"peak at {peak_hz} Hz")
        check(inv.iterations_run == 16, f"iterations {inv.iterations_run}")
        check(inv.spectral_convergence_mel_db < -10.0, f"SC_mel {inv.spectral_convergence_mel_db}")

        # A bad field: INVALID_ARGUMENT naming it.
        bad = svc.AnalyzeRequest()
        bad.CopyFrom(request)
        bad.config.n_fft = 8
        try:
            stub.Analyze(bad, timeout=10)
            check(False, "n_fft=8 accepted")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, f"code {e.code()}")
            check(e.details().startswith("config.n_fft"), f"details {e.details()!r}")

        channel.close()
        # Graceful shutdown: SIGTERM -> exit 0.
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        check(code == 0, f"exit code {code}")
        text = "".join(log)
        check('"event":"rpc"' in text and '"method":"InvertMel"' in text, "no RPC log lines")
        proc = None
        print("interop OK: health, GetServerInfo, Analyze, InvertMel, INVALID_ARGUMENT, SIGTERM")
        return 0
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
