#!/usr/bin/python3
# Copyright specinv authors.
#
# Adversarial suite: a real specinv-server process is sent requests that fit
# every documented limit yet would cost far more than a job may (huge STFTs
# from small inputs, implied output lengths, decoded sizes declared by a
# header), long jobs whose caller gives up, stalled streams and malformed
# input. For each case it asserts a precise status within its time bound,
# that the process is alive, that its peak RSS stayed within the per-job
# budget plus the server's own baseline, and, for cancelled and expired jobs,
# that the workers are free again shortly after the caller got its status.
#
# Release builds run under an address-space cap (prlimit --as), as in a
# container; sanitizer builds cannot (ASan reserves terabytes of address
# space), so there the peak RSS is checked instead. A table of every case
# (status, latency, peak RSS, worker-free time) is printed, and written as
# JSON with --report.
#
# Run by ctest (tests/server/CMakeLists.txt) with Debian's python3-grpcio and
# python3-numpy; stubs are generated at test time as in interop_test.py.

import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_test import generate_stubs, wait_for_start  # noqa: E402

BUDGET_MB = 512          # --max-job-memory-mb of the server under test
RESULTS = []


def fail(message):
    raise AssertionError(message)


class Server:
    """A specinv-server process with its log drained in the background."""

    def __init__(self, binary, sanitized, extra, cap_gb):
        cmd = [binary, "--host", "127.0.0.1", "--port", "0", "--metrics-port", "-1", "--http-port", "0", "--workers", "2",
               "--queue-depth", "2", "--log-format", "json", "--shutdown-grace-s", "1",
               "--max-job-memory-mb", str(BUDGET_MB)] + extra
        env = dict(os.environ)
        if sanitized:
            env["ASAN_OPTIONS"] = "quarantine_size_mb=16:detect_leaks=0"
        elif cap_gb > 0:
            cmd = ["prlimit", f"--as={int(cap_gb * (1 << 30))}"] + cmd
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
        try:
            self.port, self.log = wait_for_start(self.proc, 60)
        except RuntimeError as e:
            fail(str(e))
        self.pid = self.proc.pid  # prlimit execs the server: the same pid

    def alive(self):
        return self.proc.poll() is None

    def reset_peak(self):
        with open(f"/proc/{self.pid}/clear_refs", "w") as f:
            f.write("5")

    def peak_mb(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
        return float("nan")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--server", "--protoc", "--grpc-python-plugin", "--proto-dir", "--health-proto-dir"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--sanitized", action="store_true", help="the server is an ASan/UBSan build")
    parser.add_argument("--cap-gb", type=float, default=6.0, help="address-space cap of a release server")
    parser.add_argument("--report", help="write the table as JSON here")
    args = parser.parse_args()

    import grpc
    import numpy as np

    tmp = tempfile.mkdtemp(prefix="specinv_adversarial_")
    servers = []
    try:
        generate_stubs(args, tmp)
        sys.path.insert(0, tmp)
        from specinv.v1 import audio_pb2, inversion_pb2, render_pb2, reorder_pb2
        from specinv.v1 import spectrogram_config_pb2 as cfg, spectrogram_service_pb2 as svc
        from specinv.v1 import spectrogram_service_pb2_grpc as svc_grpc, tensor_pb2, vocode_pb2

        server = Server(args.server, args.sanitized,
                        ["--max-streams", "4", "--stream-idle-timeout-s", "2"], args.cap_gb)
        servers.append(server)
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}",
                                        options=[("grpc.max_send_message_length", 128 << 20),
                                                 ("grpc.max_receive_message_length", 128 << 20)])
        grpc.channel_ready_future(channel).result(timeout=30)
        stub = svc_grpc.SpectrogramStub(channel)
        # The server's own footprint (stubs, plans, threads) before any case.
        baseline_mb = server.peak_mb()
        rss_bound_mb = baseline_mb + BUDGET_MB * (2.5 if args.sanitized else 1.5)

        def workers_free_after(t0, bound_s):
            """Seconds from t0 until no job runs or waits (polled on the gRPC thread)."""
            deadline = time.time() + bound_s
            while time.time() < deadline:
                info = stub.GetServerInfo(svc.GetServerInfoRequest(), timeout=5)
                if info.busy_workers == 0 and info.queued_jobs == 0:
                    return time.time() - t0
                time.sleep(0.005)
            return None

        def run_case(name, call, codes, field=None, max_s=1.0, cancel=False, excludes=None):
            server.reset_peak()
            t0 = time.time()
            code, details = grpc.StatusCode.OK, ""
            try:
                call()
            except grpc.RpcError as e:
                code, details = e.code(), e.details() or ""
            latency = time.time() - t0
            free_s = workers_free_after(time.time(), 5.0) if cancel else None
            peak = server.peak_mb()
            row = {"case": name, "status": code.name, "latency_ms": round(latency * 1e3, 1),
                   "peak_rss_mb": round(peak, 1),
                   "worker_free_ms": None if free_s is None else round(free_s * 1e3, 1),
                   "details": details[:200]}
            RESULTS.append(row)
            if not server.alive():
                fail(f"{name}: the server died ({row})")
            if code not in codes:
                fail(f"{name}: status {code.name}, expected one of {[c.name for c in codes]}: {details[:300]}")
            if field is not None and not details.startswith(field):
                fail(f"{name}: details should start with {field!r}: {details[:300]}")
            if excludes is not None and excludes in details:
                fail(f"{name}: details should not say {excludes!r}: {details[:300]}")
            if len(details) > 2048:
                fail(f"{name}: status message of {len(details)} characters")
            # Sanitizer builds run several times slower than release.
            bound_s = max_s * (3.0 if args.sanitized else 1.0)
            if latency > bound_s:
                fail(f"{name}: answered after {latency:.2f} s, bound {bound_s} s")
            if peak > rss_bound_mb:
                fail(f"{name}: peak RSS {peak:.0f} MB above {rss_bound_mb:.0f} MB")
            # Cancellation is polled between units of work of a few ms: a
            # release build frees the worker within 100 ms; a sanitizer build
            # stretches every unit (and its allocations) several times.
            free_bound_s = 1.0 if args.sanitized else 0.1
            if cancel and (free_s is None or free_s > free_bound_s):
                fail(f"{name}: workers still busy {free_s} s after the caller's status (bound {free_bound_s} s)")
            return row

        INVALID = [grpc.StatusCode.INVALID_ARGUMENT]
        DEADLINE = [grpc.StatusCode.DEADLINE_EXCEEDED]

        sr = 22050
        ten_s = (0.1 * np.sin(2 * np.pi * 220.0 * np.arange(10 * sr) / sr) * 32767).astype("<i2")

        def pcm16(samples, rate=sr, channels=1):
            return audio_pb2.Audio(pcm_data=samples.tobytes(), encoding=audio_pb2.AUDIO_ENCODING_PCM_INT16_LE,
                                   sample_rate_hertz=rate, channel_count=channels)

        huge_stft = cfg.SpectrogramConfig(preset="librosa", n_fft=16384, hop_length=1)

        # ---- one small request, a huge cost: refused up front ------------------------------------
        run_case("Analyze 10 s, n_fft 16384, hop 1",
                 lambda: stub.Analyze(svc.AnalyzeRequest(audio=pcm16(ten_s), config=huge_stft,
                                                         kind=cfg.SPECTROGRAM_KIND_STFT_MAGNITUDE), timeout=30),
                 INVALID, field="config.hop_length")
        run_case("Render 10 s, n_fft 16384, hop 1",
                 lambda: stub.Render(render_pb2.RenderRequest(audio=pcm16(ten_s), config=huge_stft,
                                                              view=render_pb2.RENDER_VIEW_MAGNITUDE), timeout=30),
                 INVALID, field="config.hop_length")
        run_case("Reorder 10 s, n_fft 16384, hop 1",
                 lambda: stub.Reorder(reorder_pb2.ReorderRequest(audio=pcm16(ten_s), config=huge_stft,
                                                                 strategy=reorder_pb2.REORDER_STRATEGY_REVERSE_TIME),
                                      timeout=30),
                 INVALID, field="config.hop_length")
        run_case("Transform 10 s, n_fft 16384, hop 1",
                 lambda: stub.Transform(reorder_pb2.TransformRequest(audio=pcm16(ten_s), config=huge_stft), timeout=30),
                 INVALID, field="config.hop_length")
        run_case("Analyze 10 s, n_fft 2048, hop 1 (response too large)",
                 lambda: stub.Analyze(svc.AnalyzeRequest(
                     audio=pcm16(ten_s), config=cfg.SpectrogramConfig(preset="librosa", hop_length=1),
                     kind=cfg.SPECTROGRAM_KIND_STFT_MAGNITUDE), timeout=30),
                 INVALID, field="config.hop_length")
        one_bin = np.zeros((1, 1_000_000), dtype="<f4")
        run_case("InvertMel [1, 1000000] at 384 kHz, n_fft 16384, hop 1",
                 lambda: stub.InvertMel(svc.InvertMelRequest(
                     mel=tensor_pb2.Tensor(shape=[1, 1_000_000], float32_data=one_bin.tobytes()),
                     config=cfg.SpectrogramConfig(preset="librosa", sample_rate_hertz=384000, n_fft=16384,
                                                  hop_length=1, n_mels=1),
                     input_domain=inversion_pb2.MEL_DOMAIN_LINEAR), timeout=30),
                 INVALID, field="mel")
        small_mel = np.zeros((80, 1), dtype="<f4")
        tiny_item = svc.InvertMelRequest(mel=tensor_pb2.Tensor(shape=[80, 1], float32_data=small_mel.tobytes()),
                                         config=cfg.SpectrogramConfig(preset="hifigan"),
                                         input_domain=inversion_pb2.MEL_DOMAIN_LINEAR,
                                         output=audio_pb2.AudioOutputOptions(length_samples=230_000_000))
        run_case("InvertMel, length_samples 230 M",
                 lambda: stub.InvertMel(tiny_item, timeout=30), INVALID, field="output.length_samples")
        run_case("InvertMelBatch, 64 one-frame items of 230 M samples",
                 lambda: stub.InvertMelBatch(svc.InvertMelBatchRequest(requests=[tiny_item] * 64), timeout=30),
                 INVALID, field="requests")
        long_item = svc.InvertMelRequest(
            mel=tensor_pb2.Tensor(shape=[1, 15000], float32_data=np.zeros((1, 15000), dtype="<f4").tobytes()),
            config=cfg.SpectrogramConfig(preset="librosa", n_fft=16384, hop_length=1, n_mels=1),
            input_domain=inversion_pb2.MEL_DOMAIN_LINEAR)
        run_case("InvertMelBatch, 64 items of [1, 15000] at hop 1",
                 lambda: stub.InvertMelBatch(svc.InvertMelBatchRequest(requests=[long_item] * 64), timeout=30),
                 INVALID, field="requests[")
        # Large requests are built (and serialised) before the clock starts.
        zeros = reorder_pb2.ReorderRequest(audio=pcm16(ten_s), config=cfg.SpectrogramConfig(preset="librosa"),
                                           strategy=reorder_pb2.REORDER_STRATEGY_CUSTOM,
                                           custom_order=[0] * 4_000_000).SerializeToString()
        raw_reorder = channel.unary_unary("/specinv.v1.Spectrogram/Reorder", request_serializer=lambda b: b,
                                          response_deserializer=lambda b: b)
        run_case("Reorder, custom_order of 4 M zeros", lambda: raw_reorder(zeros, timeout=30),
                 INVALID, field="custom_order")
        run_case("Reorder, custom order of 60000 frames (1393 s out)",
                 lambda: stub.Reorder(reorder_pb2.ReorderRequest(
                     audio=pcm16(ten_s), config=cfg.SpectrogramConfig(preset="librosa"),
                     strategy=reorder_pb2.REORDER_STRATEGY_CUSTOM, custom_order=[0] * 60000), timeout=30),
                 INVALID, field="custom_order")
        # A WAV header that declares 600 s of 8-channel float audio at 384 kHz: refused from the header alone.
        frames = 600 * 384000
        data_bytes = frames * 8 * 4
        header = (b"RIFF" + struct.pack("<I", (36 + data_bytes) & 0xFFFFFFFF) + b"WAVEfmt " +
                  struct.pack("<IHHIIHH", 16, 3, 8, 384000, 384000 * 32, 32, 32) + b"data" +
                  struct.pack("<I", data_bytes & 0xFFFFFFFF))
        run_case("Analyze, WAV declaring 600 s x 8 channels at 384 kHz",
                 lambda: stub.Analyze(svc.AnalyzeRequest(
                     audio=audio_pb2.Audio(encoded_data=header + bytes(4096)),
                     config=cfg.SpectrogramConfig(preset="hifigan"), kind=cfg.SPECTROGRAM_KIND_LOG_MEL), timeout=30),
                 INVALID, field="audio")
        run_case("Analyze, 1.2 KB of PCM declared at 1 Hz",
                 lambda: stub.Analyze(svc.AnalyzeRequest(
                     audio=pcm16(ten_s[:600], rate=1), config=cfg.SpectrogramConfig(preset="hifigan"),
                     kind=cfg.SPECTROGRAM_KIND_LOG_MEL), timeout=60),
                 INVALID, field="audio.sample_rate_hertz")

        # ---- precise answers ------------------------------------------------------------------------
        run_case("Analyze, config.sample_rate_hertz 0.5",
                 lambda: stub.Analyze(svc.AnalyzeRequest(
                     audio=pcm16(ten_s), config=cfg.SpectrogramConfig(preset="hifigan", sample_rate_hertz=0.5),
                     kind=cfg.SPECTROGRAM_KIND_LOG_MEL), timeout=30),
                 INVALID, excludes="audio is empty")
        run_case("Analyze, a 1 MB preset name",
                 lambda: stub.Analyze(svc.AnalyzeRequest(
                     audio=pcm16(ten_s), config=cfg.SpectrogramConfig(preset="x" * (1 << 20)),
                     kind=cfg.SPECTROGRAM_KIND_LOG_MEL), timeout=30),
                 INVALID, field="config.preset")

        # ---- long jobs whose caller gives up: the worker is freed -----------------------------------
        long_mel = np.full((80, 15000), 1e-3, dtype="<f4")
        run_case("InvertMel, nnls_iterations 100000 on [80, 15000], 1 s deadline",
                 lambda: stub.InvertMel(svc.InvertMelRequest(
                     mel=tensor_pb2.Tensor(shape=[80, 15000], float32_data=long_mel.tobytes()),
                     config=cfg.SpectrogramConfig(preset="hifigan"), input_domain=inversion_pb2.MEL_DOMAIN_LINEAR,
                     options=inversion_pb2.InversionOptions(nnls_iterations=100000)), timeout=1.0),
                 DEADLINE, max_s=2.0, cancel=True)
        # refine on a magnitude: PGHI, then ADMM, then L-BFGS within iterations + refine_iterations
        # pairs; the deadline falls in the ADMM stage.
        noise_mag = np.abs(np.random.default_rng(1).standard_normal((513, 4000))).astype("<f4")
        refine = inversion_pb2.InversionOptions(method=inversion_pb2.INVERSION_METHOD_REFINE, iterations=1000,
                                                refine_iterations=1000)
        run_case("InvertSpectrogram refine, 2000 pairs on [513, 4000], 1 s deadline",
                 lambda: stub.InvertSpectrogram(svc.InvertSpectrogramRequest(
                     magnitude=tensor_pb2.Tensor(shape=[513, 4000], float32_data=noise_mag.tobytes()),
                     config=cfg.SpectrogramConfig(preset="hifigan"), options=refine), timeout=1.0),
                 DEADLINE, max_s=2.0, cancel=True)
        run_case("InvertSpectrogram refine, length_samples 230 M",
                 lambda: stub.InvertSpectrogram(svc.InvertSpectrogramRequest(
                     magnitude=tensor_pb2.Tensor(shape=[513, 1], float32_data=noise_mag[:, :1].tobytes()),
                     config=cfg.SpectrogramConfig(preset="hifigan"), options=refine,
                     output=audio_pb2.AudioOutputOptions(length_samples=230_000_000)), timeout=30),
                 INVALID, field="output.length_samples")
        rng = np.random.default_rng(0)
        noise = (rng.standard_normal(300 * 16000) * 3000).astype("<i2")
        dense = cfg.SpectrogramConfig(preset="librosa", sample_rate_hertz=16000, n_fft=256, hop_length=32, n_mels=32)
        run_case("Reorder, nearest-neighbour walk on 150k frames, 1 s deadline",
                 lambda: stub.Reorder(reorder_pb2.ReorderRequest(
                     audio=pcm16(noise, rate=16000), config=dense,
                     strategy=reorder_pb2.REORDER_STRATEGY_NEAREST_NEIGHBOR_WALK), timeout=1.0),
                 DEADLINE, max_s=2.0, cancel=True)
        run_case("Reorder, t-SNE on 150k frames, 1 s deadline",
                 lambda: stub.Reorder(reorder_pb2.ReorderRequest(
                     audio=pcm16(noise, rate=16000), config=dense, strategy=reorder_pb2.REORDER_STRATEGY_TSNE),
                     timeout=1.0),
                 DEADLINE + INVALID, max_s=2.0, cancel=True)
        mutes = reorder_pb2.TransformRequest(
            audio=pcm16(ten_s), config=cfg.SpectrogramConfig(preset="hifigan"),
            band_mutes=[reorder_pb2.BandMute(low_hertz=100.0 + (i % 5000), high_hertz=200.0 + (i % 5000))
                        for i in range(1_000_000)]).SerializeToString()
        raw_transform = channel.unary_unary("/specinv.v1.Spectrogram/Transform", request_serializer=lambda b: b,
                                            response_deserializer=lambda b: b)
        run_case("Transform, 1 M band mutes, 1 s deadline", lambda: raw_transform(mutes, timeout=1.0),
                 DEADLINE + [grpc.StatusCode.OK], max_s=2.0, cancel=True)

        # Bytes that are not a protobuf message: INVALID_ARGUMENT saying so,
        # on unary and server-streaming methods alike.
        garbage = b"\xff\xff\xff\xff\x0f" + b"\x07" * 64
        for method in ("Analyze", "InvertMel", "Render"):
            raw = channel.unary_unary(f"/specinv.v1.Spectrogram/{method}", request_serializer=lambda b: b,
                                      response_deserializer=lambda b: b)
            run_case(f"{method}, unparsable request bytes", lambda: raw(garbage, timeout=5.0), INVALID)
            if "do not parse as protobuf" not in RESULTS[-1]["details"]:
                fail(f"{method}: unparsable bytes should be named: {RESULTS[-1]['details']}")
        raw_stream = channel.unary_stream("/specinv.v1.Spectrogram/InvertMelStream", request_serializer=lambda b: b,
                                          response_deserializer=lambda b: b)
        run_case("InvertMelStream, unparsable request bytes", lambda: list(raw_stream(garbage, timeout=5.0)), INVALID,
                 field="the request is not a valid specinv.v1.InvertMelRequest")

        def vocode_hop1():
            config = vocode_pb2.StreamVocodeConfig(
                config=cfg.SpectrogramConfig(preset="librosa", n_fft=1024, hop_length=1, n_mels=80),
                input_domain=inversion_pb2.MEL_DOMAIN_LINEAR)
            chunk = np.full((80, 20000), 1e-2, dtype="<f4")
            # Three chunks of 20000 frames at hop 1: seconds of work in a
            # release build, so the deadline always lands inside it.
            messages = [vocode_pb2.StreamVocodeRequest(config=config)] + [
                vocode_pb2.StreamVocodeRequest(mel_chunk=tensor_pb2.Tensor(
                    shape=[80, 20000], float32_data=chunk.tobytes())) for _ in range(3)]
            for _ in stub.StreamVocode(iter(messages), timeout=1.0):
                pass
        run_case("StreamVocode at hop 1, 1 s deadline", vocode_hop1, DEADLINE, max_s=2.0, cancel=True)

        # ---- streams: a cap, an idle timeout, unary calls still served ------------------------------
        stalled = []
        stall_events = []

        def open_stalled():
            gate = threading.Event()
            config = vocode_pb2.StreamVocodeConfig(config=cfg.SpectrogramConfig(preset="hifigan"))

            def requests():
                yield vocode_pb2.StreamVocodeRequest(config=config)
                gate.wait(30)

            call = stub.StreamVocode(requests(), timeout=30)
            stalled.append((call, gate))

            def drain():
                try:
                    for _ in call:
                        pass
                    stall_events.append("OK")
                except grpc.RpcError as e:
                    stall_events.append(e.code().name)
            threading.Thread(target=drain, daemon=True).start()

        for _ in range(4):
            open_stalled()
        time.sleep(0.5)
        def one_more_stream():
            config = vocode_pb2.StreamVocodeConfig(config=cfg.SpectrogramConfig(preset="hifigan"))
            for _ in stub.StreamVocode(iter([vocode_pb2.StreamVocodeRequest(config=config)]), timeout=10):
                pass
        run_case("StreamVocode beyond --max-streams 4", one_more_stream, [grpc.StatusCode.RESOURCE_EXHAUSTED])
        run_case("GetServerInfo while 4 streams are open",
                 lambda: stub.GetServerInfo(svc.GetServerInfoRequest(), timeout=5), [grpc.StatusCode.OK])
        t0 = time.time()
        while len(stall_events) < 4 and time.time() - t0 < 10:
            time.sleep(0.05)
        RESULTS.append({"case": "4 stalled streams, --stream-idle-timeout-s 2", "status": ",".join(stall_events),
                        "latency_ms": round((time.time() - t0) * 1e3 + 500, 1), "peak_rss_mb": None,
                        "worker_free_ms": None, "details": ""})
        if stall_events != ["DEADLINE_EXCEEDED"] * 4:
            fail(f"stalled streams ended with {stall_events}, expected 4 x DEADLINE_EXCEEDED")
        for _, gate in stalled:
            gate.set()

        # ---- reflection needs the token when authentication is on -----------------------------------
        token_file = os.path.join(tmp, "tokens")
        with open(token_file, "w") as f:
            f.write("s3cret\n")
        secured = Server(args.server, args.sanitized, ["--auth-token-file", token_file, "--allow-insecure-auth"],
                         args.cap_gb)
        servers.append(secured)
        sec_channel = grpc.insecure_channel(f"127.0.0.1:{secured.port}")
        grpc.channel_ready_future(sec_channel).result(timeout=30)
        reflect = sec_channel.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                            request_serializer=lambda b: b, response_deserializer=lambda b: b)
        list_services = b"\x3a\x00"  # ServerReflectionRequest{list_services: ""}
        try:
            replies = list(reflect(iter([list_services]), timeout=10))
            fail(f"reflection without a token answered {replies}")
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNAUTHENTICATED:
                fail(f"reflection without a token: {e.code()} {e.details()}")
        replies = list(reflect(iter([list_services]), timeout=10, metadata=[("authorization", "Bearer s3cret")]))
        if not replies or b"specinv.v1.Spectrogram" not in replies[0]:
            fail(f"reflection with the token: {replies}")
        RESULTS.append({"case": "reflection without / with the token", "status": "UNAUTHENTICATED / OK",
                        "latency_ms": None, "peak_rss_mb": None, "worker_free_ms": None, "details": ""})
        sec_channel.close()

        # ---- SIGTERM with a job that would run for minutes: out within grace (1 s) + 1 s ------------
        hold = threading.Thread(target=lambda: _swallow(lambda: stub.InvertMel(svc.InvertMelRequest(
            mel=tensor_pb2.Tensor(shape=[80, 15000], float32_data=long_mel.tobytes()),
            config=cfg.SpectrogramConfig(preset="hifigan"), input_domain=inversion_pb2.MEL_DOMAIN_LINEAR,
            options=inversion_pb2.InversionOptions(nnls_iterations=100000)), timeout=120)), daemon=True)
        hold.start()
        time.sleep(0.5)
        t0 = time.time()
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=1.9)
        except subprocess.TimeoutExpired:
            # About to overrun its bound: say where every thread is before
            # the watchdog ends it.
            print_thread_stacks(server.proc.pid)
        server.proc.wait(timeout=10)
        exit_s = time.time() - t0
        RESULTS.append({"case": "SIGTERM with a long job in flight, grace 1 s", "status": f"exit {server.proc.returncode}",
                        "latency_ms": round(exit_s * 1e3, 1), "peak_rss_mb": None, "worker_free_ms": None,
                        "details": ""})
        if exit_s > 2.0:
            fail(f"SIGTERM: exited after {exit_s:.2f} s, bound 2 s")

        print(f"{'case':<62} {'status':<22} {'ms':>8} {'peak MB':>8} {'free ms':>8}")
        for r in RESULTS:
            print(f"{r['case'][:62]:<62} {r['status'][:22]:<22} {str(r['latency_ms']):>8} "
                  f"{str(r['peak_rss_mb']):>8} {str(r['worker_free_ms']):>8}")
        if args.report:
            with open(args.report, "w") as f:
                json.dump({"baseline_rss_mb": baseline_mb, "budget_mb": BUDGET_MB, "cases": RESULTS}, f, indent=1)
        print(f"adversarial OK: {len(RESULTS)} cases")
        return 0
    except (AssertionError, subprocess.TimeoutExpired):
        # The cases so far and the server's last log lines explain a failure
        # (a server that outlives its SIGTERM too).
        for r in RESULTS:
            print(json.dumps(r), file=sys.stderr)
        for s in servers:
            print("".join(s.log[-40:]), file=sys.stderr)
        raise
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def print_thread_stacks(pid):
    """Every thread's stack of a live process (gdb, when installed) to stderr."""
    gdb = shutil.which("gdb")
    if gdb is None:
        print(f"process {pid} is still running; no gdb to show its threads", file=sys.stderr)
        return
    out = subprocess.run([gdb, "-p", str(pid), "-batch", "-ex", "thread apply all bt 25"],
                         capture_output=True, text=True, timeout=60)
    print(f"process {pid} is still running; its threads:\n{out.stdout}", file=sys.stderr)


def _swallow(fn):
    try:
        fn()
    except Exception:  # noqa: BLE001 - the call is expected to end with an error
        pass


if __name__ == "__main__":
    sys.exit(main())
