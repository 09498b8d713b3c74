#!/usr/bin/python3
# Copyright specinv authors.
#
# The HTTP API (server/http/http_api.h) against a real specinv-server
# process, from Python's standard library (urllib) and numpy: health and
# readiness, /v1/info, analyze (the same spectrogram as gRPC Analyze),
# invert-mel (a WAV whose pitch is the input's), raw PCM encodings, render,
# JSON errors naming their field, 404/413, deadlines (504), load shedding
# (429 + Retry-After, /readyz 503), bearer auth (401) and SIGTERM.
#
# Run by ctest (tests/server/CMakeLists.txt) with Debian's /usr/bin/python3.

import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_test import generate_stubs, server_script_parser, wait_for_start  # noqa: E402

import numpy as np  # noqa: E402

FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print("FAIL:", message, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, *extra):
    http_port = free_port()
    proc = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", "0", "--metrics-port", "-1", "--http-port", str(http_port),
         "--log-format", "json", "--shutdown-grace-s", "5", *extra],
        stderr=subprocess.PIPE, text=True)
    port, log = wait_for_start(proc, 60)
    return proc, port, http_port, log


def call(http_port, method, path, body=None, headers=None, timeout=60):
    """(status, headers, body bytes) of one HTTP call."""
    req = urllib.request.Request(f"http://127.0.0.1:{http_port}{path}", data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def call_waiting(http_port, method, path, body=None, attempts=50):
    """call(), waiting X-Retry-After-Ms after a 429 as a client should: the
    one-worker server of this suite is briefly busy after each stream."""
    for _ in range(attempts):
        status, headers, data = call(http_port, method, path, body)
        if status != 429:
            break
        time.sleep(float(headers.get("X-Retry-After-Ms", "10")) / 1e3)
    return status, headers, data


def chunked_call(http_port, path, body, timeout=60):
    """(status, lower-cased headers, [chunk bodies]) of a POST whose answer
    may use chunked transfer, read off the socket so the chunks are seen."""
    with socket.create_connection(("127.0.0.1", http_port), timeout=timeout) as s:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-npy\r\n"
                  b"Content-Length: %d\r\n\r\n" % (path.encode(), len(body)) + body)
        raw = b""
        while True:
            data = s.recv(65536)
            if not data:
                break
            raw += data
    head, rest = raw.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    if headers.get("transfer-encoding") != "chunked":
        return status, headers, [rest]
    chunks = []
    while True:
        size_line, rest = rest.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        chunks.append(rest[:size])
        rest = rest[size + 2:]
    return status, headers, chunks


def wav_bytes(samples, rate):
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()


def sine(freq, seconds, rate=22050):
    t = np.arange(int(seconds * rate)) / rate
    return 0.5 * np.sin(2 * np.pi * freq * t)


def peak_hz(samples, rate):
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.argmax(spectrum) * rate / len(samples)


def error_of(status, headers, body):
    check(headers.get("Content-Type", "").startswith("application/json"),
          f"error {status} is not JSON: {headers.get('Content-Type')}")
    return json.loads(body)


def main():
    args = server_script_parser().parse_args()
    import grpc

    tmp = tempfile.mkdtemp(prefix="specinv_http_")
    generate_stubs(args, tmp)
    sys.path.insert(0, tmp)
    from specinv.v1 import spectrogram_service_pb2 as svc, spectrogram_service_pb2_grpc as svc_grpc
    from specinv.v1 import spectrogram_config_pb2 as config_pb2, tensor_pb2, audio_pb2, inversion_pb2, vocode_pb2

    procs = []
    try:
        proc, grpc_port, port, log = start(args.server, "--workers", "1", "--queue-depth", "0",
                                           "--max-message-mb", "4")
        procs.append(proc)

        # Liveness, readiness, info.
        status, _, body = call(port, "GET", "/healthz")
        check(status == 200, f"/healthz: {status}")
        status, _, body = call(port, "GET", "/readyz")
        check(status == 200, f"/readyz idle: {status} {body!r}")
        status, headers, body = call(port, "GET", "/v1/info")
        info = json.loads(body)
        check(status == 200 and headers.get("Content-Type") == "application/json", f"/v1/info: {status}")
        check(info["limits"]["maxAudioDurationSeconds"] > 0 and any(p["name"] == "hifigan" for p in info["presets"]),
              f"/v1/info lacks limits or presets: {list(info)}")

        # Analyze: the same log-mel as gRPC Analyze of the same file.
        audio = wav_bytes(sine(440.0, 1.0), 22050)
        status, headers, body = call(port, "POST", "/v1/analyze?preset=hifigan", audio)
        check(status == 200 and headers.get("Content-Type") == "application/x-npy", f"analyze: {status} {body[:200]!r}")
        mel = np.load(io.BytesIO(body))
        # HiFi-GAN framing: (n_fft - hop) / 2 reflected each side, not centred.
        check(mel.shape == (80, 1 + (22050 + 2 * 384 - 1024) // 256) and mel.dtype == np.float32,
              f"analyze shape {mel.shape}")
        check(headers.get("X-Request-Id"), "analyze answered no X-Request-Id")
        stub = svc_grpc.SpectrogramStub(grpc.insecure_channel(f"127.0.0.1:{grpc_port}"))
        request = svc.AnalyzeRequest(kind=config_pb2.SPECTROGRAM_KIND_LOG_MEL,
                                     tensor_format=tensor_pb2.TENSOR_FORMAT_NPY)
        request.audio.encoded_data = audio
        request.config.preset = "hifigan"
        by_grpc = np.load(io.BytesIO(stub.Analyze(request, timeout=60).spectrogram.npy_data))
        check(np.array_equal(mel, by_grpc), "HTTP and gRPC Analyze differ")

        # Invert-mel: a WAV at the preset's rate whose pitch is the input's.
        status, headers, body = call(port, "POST", "/v1/invert-mel?preset=hifigan&method=fgla&iterations=24&seed=3",
                                     _npy(mel))
        check(status == 200 and headers.get("Content-Type") == "audio/wav", f"invert-mel: {status} {body[:200]!r}")
        with wave.open(io.BytesIO(body)) as w:
            rate, frames = w.getframerate(), w.readframes(w.getnframes())
        samples = np.frombuffer(frames, "<i2").astype(np.float64) / 32768
        check(rate == 22050 and abs(len(samples) - 22050) <= 256, f"invert-mel: {rate} Hz, {len(samples)} samples")
        check(abs(peak_hz(samples, rate) - 440.0) < 5.0, f"invert-mel pitch {peak_hz(samples, rate):.1f} Hz")
        check(headers.get("X-Iterations") == "24", f"X-Iterations {headers.get('X-Iterations')}")
        check(float(headers.get("X-Spectral-Convergence-Mel-Db", "0")) < -10.0,
              f"X-Spectral-Convergence-Mel-Db {headers.get('X-Spectral-Convergence-Mel-Db')}")

        # Raw float PCM with its rate in a header: the WAV's samples, unquantised.
        status, headers, body = call(port, "POST",
                                     "/v1/invert-mel?preset=hifigan&method=fgla&iterations=24&seed=3"
                                     "&encoding=pcm-float32-le", _npy(mel))
        check(status == 200 and headers.get("Content-Type") == "application/octet-stream"
              and headers.get("X-Sample-Rate") == "22050", f"pcm: {status} {dict(headers)}")
        pcm = np.frombuffer(body, "<f4")
        check(len(pcm) == len(samples) and np.max(np.abs(pcm - samples)) <= 1.5 / 32768,
              f"pcm float32 differs from the WAV: {len(pcm)} vs {len(samples)} samples")

        # Codec encodings: their content types, the rate actually encoded
        # (Opus rounds 22050 Hz up to 24000 Hz), and output_rate resampling.
        for encoding, content_type, rate in (("ogg-opus", "audio/ogg", "24000"),
                                             ("ogg-vorbis", "audio/ogg", "22050"),
                                             ("mp3", "audio/mpeg", "22050"),
                                             ("wav-mulaw", "audio/wav", "22050"),
                                             ("wav-alaw", "audio/wav", "22050")):
            status, headers, body = call(port, "POST",
                                         "/v1/invert-mel?preset=hifigan&method=fgla&iterations=4"
                                         f"&encoding={encoding}", _npy(mel))
            check(status == 200 and headers.get("Content-Type") == content_type
                  and headers.get("X-Sample-Rate") == rate and len(body) > 100,
                  f"{encoding}: {status} {dict(headers)} {body[:200]!r}")
        check(body[:4] == b"RIFF", "A-law answer is not a RIFF file")
        status, headers, body = call(port, "POST",
                                     "/v1/invert-mel?preset=hifigan&method=fgla&iterations=24&seed=3"
                                     "&encoding=pcm-float32-le&output_rate=44100", _npy(mel))
        check(status == 200 and headers.get("X-Sample-Rate") == "44100" and len(body) == 4 * 2 * len(samples),
              f"output_rate: {status} {dict(headers)}, {len(body)} bytes for {len(samples)} samples at 22050 Hz")
        check(abs(peak_hz(np.frombuffer(body, "<f4").astype(np.float64), 44100) - 440.0) < 5.0,
              "output_rate changed the pitch")

        # Render: a PNG.
        status, headers, body = call(port, "POST", "/v1/render?preset=hifigan&view=mel", audio)
        check(status == 200 and headers.get("Content-Type") == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n",
              f"render: {status} {body[:100]!r}")

        # Reorder and transform: audio in, audio out.
        status, headers, body = call(port, "POST", "/v1/reorder?preset=hifigan&strategy=reverse-time", audio)
        check(status == 200 and headers.get("Content-Type") == "audio/wav", f"reorder: {status} {body[:200]!r}")
        status, headers, body = call(port, "POST", "/v1/transform?preset=hifigan&phase=random&band_mutes=300-600",
                                     audio)
        check(status == 200 and headers.get("Content-Type") == "audio/wav", f"transform: {status} {body[:200]!r}")
        with wave.open(io.BytesIO(body)) as w:
            muted = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768
        check(np.sqrt(np.mean(muted ** 2)) < 0.1 * np.sqrt(np.mean(sine(440.0, 1.0) ** 2)),
              "transform band_mutes=300-600 left the 440 Hz tone loud")
        status, headers, raw = call(port, "POST", "/v1/transform?preset=hifigan&band_mutes=low-high", audio)
        check(status == 400 and error_of(status, headers, raw).get("field") == "band_mutes", f"band_mutes: {status}")

        # Vocode: raw PCM over chunked transfer, one HTTP chunk per chunk of
        # frames whose audio became final; the samples are those of
        # StreamVocode over gRPC fed the same chunks.
        long_mel = np.concatenate([mel] * 3, axis=1)
        status, headers, chunks = chunked_call(port, "/v1/vocode?preset=hifigan&chunk_frames=16",
                                               _npy(long_mel))
        check(status == 200 and headers.get("transfer-encoding") == "chunked"
              and headers.get("x-sample-rate") == "22050"
              and headers.get("x-audio-encoding") == "AUDIO_ENCODING_PCM_FLOAT32_LE", f"vocode: {status} {headers}")
        frames = long_mel.shape[1]
        # The look-ahead holds the first chunk's audio back; every later chunk
        # of 16 frames releases some.
        check(len(chunks) >= (frames + 15) // 16 - 1, f"vocode: {len(chunks)} HTTP chunks for {frames} frames")
        by_http = np.frombuffer(b"".join(chunks), "<f4")

        def vocode_messages():
            first = vocode_pb2.StreamVocodeRequest()
            first.config.config.preset = "hifigan"
            yield first
            for start_frame in range(0, frames, 16):
                part = np.ascontiguousarray(long_mel[:, start_frame:start_frame + 16])
                message = vocode_pb2.StreamVocodeRequest()
                message.mel_chunk.shape.extend(part.shape)
                message.mel_chunk.float32_data = part.astype("<f4").tobytes()
                message.end_of_utterance = start_frame + 16 >= frames
                yield message

        by_stream = np.concatenate([np.frombuffer(r.audio.pcm_data, "<f4")
                                    for r in stub.StreamVocode(vocode_messages(), timeout=60) if r.HasField("audio")])
        check(len(by_http) == len(by_stream) and np.array_equal(by_http, by_stream),
              f"vocode differs from gRPC StreamVocode: {len(by_http)} vs {len(by_stream)} samples")
        check(abs(len(by_http) - frames * 256) <= 1024, f"vocode: {len(by_http)} samples for {frames} frames")
        status, headers, chunks = chunked_call(port, "/v1/vocode?preset=hifigan&encoding=pcm-int16-le", _npy(mel))
        check(status == 200, f"vocode int16: {status} {chunks[:1]}")
        pcm16 = np.frombuffer(b"".join(chunks), "<i2") if status == 200 else np.zeros(0, np.int16)
        check(status == 200 and len(pcm16) == len(by_http) // 3
              and abs(peak_hz(pcm16.astype(np.float64), 22050) - 440.0) < 5.0,
              f"vocode int16: {status} {len(pcm16)} samples")
        # A hifigan (ln) mel declared as espnet's log10: both routes say so.
        for path in ("/v1/vocode?preset=espnet", "/v1/invert-mel?preset=espnet&method=fgla&iterations=4"):
            status, headers, _ = call_waiting(port, "POST", path, _npy(mel))
            warning = headers.get("X-Warning") or ""
            check(status == 200 and "ln-compressed" in warning and "log10" in warning,
                  f"{path}: {status}, X-Warning {warning!r}")
        status, headers, _ = call_waiting(port, "POST", "/v1/vocode?preset=hifigan", _npy(mel))
        check(status == 200 and headers.get("X-Warning") is None, f"vocode hifigan: {headers.get('X-Warning')!r}")
        # A stream far costlier than its deadline, and one whose client
        # leaves after the first bytes: both stop, and the server's only
        # worker is free again at once (the next call is served within 1 s).
        heavy = _npy(np.concatenate([mel] * 40, axis=1))
        heavy_path = "/v1/vocode?preset=hifigan&online_iterations=32&lookahead_frames=16"
        for leave_early in (False, True):
            with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
                s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Timeout: 0.5\r\n"
                          b"Content-Length: %d\r\n\r\n" % (heavy_path.encode(), len(heavy)) + heavy)
                raw = s.recv(65536)
                if not leave_early:
                    while True:
                        data = s.recv(65536)
                        if not data:
                            break
                        raw += data
            t0 = time.time()
            status, _, _ = call_waiting(port, "POST", "/v1/invert-mel?preset=hifigan&method=fgla&iterations=2",
                                        _npy(mel), attempts=200)
            freed_s = time.time() - t0
            if not leave_early:
                # Cut off: a 504 before any audio, or a chunked body without its terminating chunk.
                check(raw.startswith(b"HTTP/1.1 504") or not raw.endswith(b"\r\n0\r\n\r\n"),
                      f"heavy vocode past its deadline ended as a whole answer: {raw[:120]!r}")
            check(status == 200 and freed_s < 1.0,
                  f"after a {'left' if leave_early else 'expired'} stream: next call {status} after {freed_s:.2f} s")

        # Errors found before the first byte are JSON, with the field.
        for path, body, field in (
                ("/v1/vocode?preset=hifigan", _npy(mel[:40]), "body"),
                ("/v1/vocode?preset=hifigan&chunk_frames=0", _npy(mel), "chunk_frames"),
                ("/v1/vocode?preset=hifigan&online_iterations=99", _npy(mel), "config.online_iterations"),
                ("/v1/vocode?preset=hifigan&domain=linear", _npy(mel), "body"),
                ("/v1/vocode?preset=hifigan&config.hop_length=1024", _npy(np.zeros((80, 13000), np.float32) - 5.0),
                 "body"),
                ("/v1/vocode?preset=hifigan", b"", "body")):
            status, headers, raw = call_waiting(port, "POST", path, body)
            error = error_of(status, headers, raw)
            check(status == 400 and error["code"] == "INVALID_ARGUMENT" and error.get("field") == field,
                  f"{path}: {status} {error}, expected field {field}")

        # Errors: JSON with the code, the field and the request id.
        for path, body, field in (
                ("/v1/invert-mel?preset=hifigan&config.hop_length=0", _npy(mel), "config.hop_length"),
                ("/v1/invert-mel?preset=hifigan&method=bogus", _npy(mel), "method"),
                ("/v1/invert-mel?preset=hifigan&no_such=1", _npy(mel), "no_such"),
                ("/v1/invert-mel?preset=hifigan&iterations=many", _npy(mel), "iterations"),
                ("/v1/invert-mel?preset=hifigan&output_rate=500000", _npy(mel), "output.sample_rate_hertz"),
                ("/v1/invert-mel?preset=hifigan", b"", "body"),
                ("/v1/invert-mel?preset=hifigan", b"not a npy file", None)):
            status, headers, raw = call_waiting(port, "POST", path, body)
            error = error_of(status, headers, raw)
            check(status == 400 and error["code"] == "INVALID_ARGUMENT" and error.get("request_id"),
                  f"{path}: {status} {error}")
            if field is not None:
                check(error.get("field") == field, f"{path}: field {error.get('field')}, expected {field}")
        status, headers, raw = call(port, "GET", "/v1/nowhere")
        check(status == 404 and error_of(status, headers, raw)["code"] == "NOT_FOUND", f"404: {status}")
        # A body over --max-message-mb is refused from its Content-Length,
        # before it is read (so only the headers are sent here).
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(b"POST /v1/invert-mel HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (5 << 20))
            answer = b""
            while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < int(
                    answer.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0]):
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
            answer = answer.decode(errors="replace")
        check(answer.startswith("HTTP/1.1 413") and '"field":"body"' in answer.replace(" ", ""),
              f"5 MB body with --max-message-mb 4: {answer[:300]!r}")

        # KServe v2: metadata, health, and infer returning what gRPC returns.
        status, _, body = call(port, "GET", "/v2")
        check(status == 200 and json.loads(body)["name"] == "specinv", f"/v2: {status} {body!r}")
        for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/hifigan-vocoder/ready"):
            status, _, _ = call(port, "GET", path)
            check(status == 200, f"{path}: {status}")
        status, _, body = call(port, "GET", "/v2/models/hifigan-vocoder")
        meta = json.loads(body)
        check(status == 200 and meta["inputs"][0]["name"] == "mel" and meta["inputs"][0]["shape"] == [80, -1]
              and meta["outputs"][0]["name"] == "audio", f"model metadata: {meta}")
        status, _, body = call(port, "GET", "/v2/models/nope/ready")
        check(status == 404 and "hifigan-vocoder" in json.loads(body)["error"], f"unknown model: {status} {body!r}")

        # The frontend on the WAV's own samples gives the HTTP analyze mel exactly.
        wav_samples = (np.clip(sine(440.0, 1.0), -1, 1) * 32767).astype("<i2").astype(np.float32) / 32768
        infer = {"id": "front-1", "inputs": [{"name": "audio", "shape": [len(wav_samples)], "datatype": "FP32",
                                               "data": wav_samples.tolist()}]}
        status, _, body = call(port, "POST", "/v2/models/hifigan-frontend/infer", json.dumps(infer).encode())
        answer = json.loads(body)
        out = answer["outputs"][0]
        front = np.array(out["data"], np.float32).reshape(out["shape"])
        check(status == 200 and answer["id"] == "front-1" and out["name"] == "log_mel"
              and np.array_equal(front, mel), f"frontend infer: {status} {out.get('shape')}")

        # The vocoder gives gRPC InvertMel's samples, bit for bit.
        infer = {"inputs": [{"name": "mel", "shape": list(mel.shape), "datatype": "FP32", "data": mel.tolist()}],
                 "parameters": {"method": "fgla", "iterations": 24, "seed": 5}}
        status, _, body = call(port, "POST", "/v2/models/hifigan-vocoder/infer", json.dumps(infer).encode())
        out = json.loads(body)["outputs"][0]
        by_kserve = np.array(out["data"], np.float32)
        request = svc.InvertMelRequest()
        request.mel.shape.extend(mel.shape)
        request.mel.float32_data = mel.astype("<f4").tobytes()
        request.config.preset = "hifigan"
        request.options.method = inversion_pb2.INVERSION_METHOD_FGLA
        request.options.iterations = 24
        request.options.seed = 5
        request.output.encoding = audio_pb2.AUDIO_ENCODING_PCM_FLOAT32_LE
        by_grpc = np.frombuffer(stub.InvertMel(request, timeout=60).audio.pcm_data, "<f4")
        check(status == 200 and out["shape"] == [len(by_grpc)] and np.array_equal(by_kserve, by_grpc),
              f"vocoder infer differs from gRPC InvertMel: {status} {out.get('shape')} vs {len(by_grpc)}")
        # The binary tensor data extension (tritonclient's default): the JSON
        # header's length in Inference-Header-Content-Length, the FP32
        # values after it, in and out.
        header = json.dumps({"inputs": [{"name": "mel", "shape": list(mel.shape), "datatype": "FP32",
                                         "parameters": {"binary_data_size": mel.size * 4}}],
                             "outputs": [{"name": "audio", "parameters": {"binary_data": True}}],
                             "parameters": {"method": "fgla", "iterations": 24, "seed": 5}}).encode()
        status, headers, body = call(port, "POST", "/v2/models/hifigan-vocoder/infer",
                                     header + mel.astype("<f4").tobytes(),
                                     {"Inference-Header-Content-Length": str(len(header)),
                                      "Content-Type": "application/octet-stream"})
        json_length = int(headers.get("Inference-Header-Content-Length", "-1"))
        check(status == 200 and 0 < json_length <= len(body), f"binary infer: {status} {body[:200]!r}")
        answer = json.loads(body[:json_length])
        by_binary = np.frombuffer(body[json_length:], "<f4")
        check(answer["outputs"][0]["parameters"]["binary_data_size"] == len(by_grpc) * 4
              and np.array_equal(by_binary, by_grpc), f"binary infer differs from gRPC InvertMel: {answer}")
        status, _, body = call(port, "GET", "/v2")
        check("binary_tensor_data" in json.loads(body)["extensions"], f"/v2 extensions: {body!r}")
        bad = {"inputs": [{"name": "mel", "shape": [80, 3], "datatype": "FP32", "data": [1.0, 2.0]}]}
        status, _, body = call(port, "POST", "/v2/models/hifigan-vocoder/infer", json.dumps(bad).encode())
        check(status == 400 and "inputs[0].data" in json.loads(body)["error"], f"bad infer: {status} {body!r}")

        # A deadline stops the job: 504 soon after it passes.
        long_audio = wav_bytes(np.random.default_rng(1).uniform(-0.5, 0.5, 22050 * 60), 22050)
        status, _, body = call(port, "POST", "/v1/analyze?preset=hifigan", long_audio)
        long_mel = _npy(np.load(io.BytesIO(body)))
        start_t = time.time()
        status, headers, raw = call(port, "POST", "/v1/invert-mel?preset=hifigan&method=refine&iterations=1000",
                                    long_mel, headers={"X-Request-Timeout": "0.5"})
        took = time.time() - start_t
        check(status == 504 and error_of(status, headers, raw)["code"] == "DEADLINE_EXCEEDED",
              f"deadline: {status} {raw[:200]!r}")
        check(took < 3.0, f"deadline answered after {took:.2f} s")

        # Saturation: one worker, no queue. A second call is shed (429 with
        # Retry-After) and /readyz says not ready while the first runs.
        first = {}
        worker = threading.Thread(target=lambda: first.update(r=call(
            port, "POST", "/v1/invert-mel?preset=hifigan&method=refine&iterations=1000", long_mel,
            headers={"X-Request-Timeout": "3"})))
        worker.start()
        time.sleep(0.5)
        status, headers, raw = call(port, "POST", "/v1/invert-mel?preset=hifigan", _npy(mel))
        check(status == 429 and error_of(status, headers, raw)["code"] == "RESOURCE_EXHAUSTED"
              and int(headers.get("Retry-After", "0")) >= 1 and int(headers.get("X-Retry-After-Ms", "0")) >= 10,
              f"saturated: {status} {dict(headers)}")
        status, _, body = call(port, "GET", "/readyz")
        check(status == 503, f"/readyz while saturated: {status}")
        status, _, _ = call(port, "GET", "/healthz")
        check(status == 200, f"/healthz while saturated: {status}")
        worker.join()
        check(first["r"][0] == 504, f"the long call: {first['r'][0]}")
        status, _, _ = call(port, "GET", "/readyz")
        check(status == 200, f"/readyz after the long call: {status}")

        # SIGTERM: exit 0.
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        time.sleep(0.2)  # the log reader drains the pipe
        check(proc.returncode == 0,
              f"SIGTERM exit code {proc.returncode}; the log ends:\n" + "".join(log[-60:]))

        # Bearer auth: every route but the probes needs the token.
        token_file = os.path.join(tmp, "tokens")
        with open(token_file, "w") as f:
            f.write("s3cret\n")
        proc, _, port, log = start(args.server, "--auth-token-file", token_file, "--allow-insecure-auth")
        procs.append(proc)
        status, headers, raw = call(port, "GET", "/v1/info")
        check(status == 401 and headers.get("WWW-Authenticate") == "Bearer"
              and error_of(status, headers, raw)["code"] == "UNAUTHENTICATED", f"no token: {status}")
        status, headers, raw = call(port, "POST", "/v1/invert-mel?preset=hifigan", _npy(mel),
                                    headers={"Authorization": "Bearer wrong"})
        check(status == 401, f"wrong token: {status}")
        status, _, _ = call(port, "GET", "/v1/info", headers={"Authorization": "Bearer s3cret"})
        check(status == 200, f"good token: {status}")
        for probe in ("/healthz", "/readyz"):
            status, _, _ = call(port, "GET", probe)
            check(status == 200, f"{probe} without token: {status}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("http api: all checks passed")
    return 0


def _npy(array):
    out = io.BytesIO()
    np.save(out, np.asarray(array, dtype=np.float32))
    return out.getvalue()


if __name__ == "__main__":
    sys.exit(main())
