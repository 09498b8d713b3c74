# Copyright specinv authors.
"""The specinv client: NumPy arrays in, NumPy arrays out."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Union)

import grpc
import numpy as np

from specinv import _codec as codec
from specinv.errors import DataLoss, InvalidArgument, from_rpc_error
from specinv.v1 import audio_pb2, inversion_pb2, render_pb2, reorder_pb2
from specinv.v1 import spectrogram_config_pb2 as config_pb2
from specinv.v1 import spectrogram_service_pb2 as service_pb2
from specinv.v1 import spectrogram_service_pb2_grpc as service_grpc
from specinv.v1 import tensor_pb2, vocode_pb2

__all__ = ["Client", "InversionResult", "Progress", "ReorderResult", "RenderResult", "ServerInfo",
           "ServerLimits", "Preset", "VocodeStream", "VocodeSummary"]

VERSION = "0.1.0"
_SERVICE = "specinv.v1.Spectrogram"


# --- results ---------------------------------------------------------------------

class InversionResult(Tuple[np.ndarray, int]):
    """``(audio, sample_rate)`` of an inversion, with the server's report as
    attributes.

    Unpacks as a pair: ``audio, sr = client.invert_mel(mel)``.

    Attributes:
        audio: mono float32 samples.
        sample_rate: in Hz.
        spectral_convergence_db: spectral convergence achieved on the input
            (on the linear mel for mel inputs), dB; lower is better.
        iterations_run: iterations the algorithm ran.
        stop_reason: "iterations", "tolerance" or "time_budget".
        elapsed_milliseconds: processing time on a server worker.
        queue_milliseconds: time the job waited for a worker.
        effective_config: the configuration the server used, as keywords.
        warnings: the server's non-fatal input diagnostics (e.g. the mel
            looks like another domain than the one declared); empty when
            all looked right.
    """

    audio: np.ndarray
    sample_rate: int
    spectral_convergence_db: float
    iterations_run: int
    stop_reason: str
    elapsed_milliseconds: float
    queue_milliseconds: float
    effective_config: Dict[str, Any]
    warnings: List[str]

    def __new__(cls, audio: np.ndarray, sample_rate: int, **report: Any) -> "InversionResult":
        self = super().__new__(cls, (audio, sample_rate))  # type: ignore[arg-type]
        self.__dict__.update(report, audio=audio, sample_rate=sample_rate)
        return self

    def __getnewargs_ex__(self) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
        report = {k: v for k, v in self.__dict__.items() if k not in ("audio", "sample_rate")}
        return (self[0], self[1]), report


@dataclass(frozen=True)
class Progress:
    """One progress event of a running inversion.

    Events come once per iteration (or every ``progress_interval_iterations``)
    with increasing ``iteration``; when the client reads slower than the job
    runs, the server sends only the latest pending event, so some (the last
    included) may be skipped.

    Attributes:
        stage: "gl", "fgla", "refine", ... (a multi-stage method such as
            "refine" counts its iterations on across its stages).
        iteration: iterations completed (1-based).
        total_iterations: iterations planned in all.
        spectral_convergence_db: current spectral convergence, dB.
        elapsed_milliseconds: since the job started on a worker.
    """

    stage: str
    iteration: int
    total_iterations: int
    spectral_convergence_db: float
    elapsed_milliseconds: float

    @property
    def fraction(self) -> float:
        """Fraction of the job's iterations done, in [0, 1]."""
        if self.total_iterations <= 0:
            return 0.0
        return min(1.0, self.iteration / self.total_iterations)


ProgressCallback = Callable[[Progress], Any]


class ReorderResult(Tuple[np.ndarray, int, np.ndarray, np.ndarray]):
    """``(audio, sample_rate, order, embedding)`` of :meth:`Client.reorder`.

    Attributes:
        audio: the resynthesised mono float32 samples.
        sample_rate: in Hz.
        order: ``order[i]`` is the original frame placed at position ``i``.
        embedding: the 1-D embedding of every original frame (PCA, t-SNE,
            sort key); empty for strategies without one.
        num_frames: frames in the analysed STFT.
        effective_config: the configuration the server used, as keywords.
    """

    audio: np.ndarray
    sample_rate: int
    order: np.ndarray
    embedding: np.ndarray
    num_frames: int
    effective_config: Dict[str, Any]

    def __new__(cls, audio: np.ndarray, sample_rate: int, order: np.ndarray, embedding: np.ndarray,
                **report: Any) -> "ReorderResult":
        self = super().__new__(cls, (audio, sample_rate, order, embedding))  # type: ignore[arg-type]
        self.__dict__.update(report, audio=audio, sample_rate=sample_rate, order=order,
                             embedding=embedding)
        return self


@dataclass(frozen=True)
class RenderResult:
    """Everything :meth:`Client.render` can return (``full=True``)."""

    png: bytes
    width: int
    height: int
    value_min: float
    value_max: float
    value_unit: str
    effective_config: Dict[str, Any]


@dataclass(frozen=True)
class Preset:
    """A named server preset: ``config`` holds every field as keywords."""

    name: str
    description: str
    config: Dict[str, Any]


@dataclass(frozen=True)
class ServerLimits:
    """The limits a server enforces (see ``ServerLimits`` in the API)."""

    max_message_bytes: int
    max_audio_duration_seconds: float
    max_iterations: int
    max_n_fft: int
    max_batch_size: int
    max_image_side_pixels: int
    max_job_memory_bytes: int
    max_streams: int
    stream_idle_timeout_seconds: float


@dataclass(frozen=True)
class ServerInfo:
    """What :meth:`Client.info` returns (GetServerInfo)."""

    version: str
    presets: Dict[str, Preset]
    methods: List[str]
    limits: ServerLimits
    worker_count: int
    queue_capacity: int
    implemented_rpcs: List[str]
    uptime_seconds: float
    tls_enabled: bool
    auth_required: bool
    busy_workers: int
    queued_jobs: int


@dataclass(frozen=True)
class VocodeSummary:
    """The last message of a StreamVocode call."""

    total_samples: int
    total_frames: int
    processing_milliseconds: float
    real_time_factor: float
    effective_config: Dict[str, Any] = field(default_factory=dict)


# --- streaming vocoder -----------------------------------------------------------------

class VocodeStream(Iterator[np.ndarray]):
    """Iterator over the audio chunks of one StreamVocode call.

    Yields mono float32 arrays as the server makes them final, in order and
    contiguous. After the last one, ``summary`` holds the server's summary;
    ``sample_rate`` is known from the first chunk on. ``cancel()`` ends the
    call early. Errors raise :class:`specinv.Error`; an exception raised by
    the iterable of mel chunks is re-raised here.
    """

    def __init__(self, stub: service_grpc.SpectrogramStub, first: service_pb2.StreamVocodeRequest,
                 chunks: Iterable[Any], layout: int, timeout: Optional[float],
                 metadata: Sequence[Tuple[str, str]]) -> None:
        self.sample_rate: Optional[int] = None
        self.summary: Optional[VocodeSummary] = None
        self.frames_sent = 0
        self._next_sample = 0
        self._request_error: Optional[BaseException] = None
        self._done = False
        self._lock = threading.Lock()
        self._call = stub.StreamVocode(self._requests(first, chunks, layout), timeout=timeout,
                                       metadata=metadata)

    def _requests(self, first: service_pb2.StreamVocodeRequest, chunks: Iterable[Any],
                  layout: int) -> Iterator[service_pb2.StreamVocodeRequest]:
        yield first
        try:
            for i, chunk in enumerate(chunks):
                mel = codec.as_real_matrix(chunk, f"chunks[{i}]")
                if layout == tensor_pb2.TENSOR_LAYOUT_FRAMES_BINS:
                    mel = np.ascontiguousarray(mel.T)
                if mel.shape[1] < 1:
                    continue
                # Chunks always travel (bins, frames), whatever the caller's layout.
                tensor = tensor_pb2.Tensor(shape=list(mel.shape), float32_data=mel.tobytes(),
                                           layout=tensor_pb2.TENSOR_LAYOUT_BINS_FRAMES)
                self.frames_sent += mel.shape[1]
                yield vocode_pb2.StreamVocodeRequest(mel_chunk=tensor)
        except BaseException as e:  # handed to the reading side
            with self._lock:
                self._request_error = e
        # Returning half-closes the stream: the server flushes and summarises.

    def _check_request_error(self) -> None:
        with self._lock:
            error = self._request_error
        if error is not None:
            self._call.cancel()
            self._done = True
            raise error

    def __iter__(self) -> "VocodeStream":
        return self

    def __next__(self) -> np.ndarray:
        while not self._done:
            self._check_request_error()
            try:
                response = next(self._call)
            except StopIteration:
                self._done = True
                self._check_request_error()
                if self.summary is None:
                    raise DataLoss("the stream ended without a summary") from None
                raise
            except grpc.RpcError as e:
                self._done = True
                self._check_request_error()
                raise from_rpc_error(e) from None
            which = response.WhichOneof("message")
            if which == "audio":
                chunk = response.audio
                samples = codec.pcm_samples(chunk.pcm_data, chunk.encoding)
                self.sample_rate = int(chunk.sample_rate_hertz)
                if chunk.first_sample < self._next_sample:
                    self.cancel()
                    raise DataLoss(f"audio chunk at sample {chunk.first_sample} overlaps audio already "
                                   f"returned (up to {self._next_sample})")
                if chunk.first_sample > self._next_sample:
                    gap = np.zeros(chunk.first_sample - self._next_sample, dtype=np.float32)
                    samples = np.concatenate([gap, samples])
                self._next_sample += len(samples)
                if len(samples):
                    return samples
            elif which == "summary":
                s = response.summary
                self.summary = VocodeSummary(
                    total_samples=s.total_samples, total_frames=s.total_frames,
                    processing_milliseconds=s.processing_milliseconds,
                    real_time_factor=s.real_time_factor,
                    effective_config=codec.config_to_dict(s.effective_config))
        raise StopIteration

    def cancel(self) -> None:
        """Cancels the call; iteration ends."""
        self._done = True
        self._call.cancel()


# --- the client ----------------------------------------------------------------------

def _service_config(max_attempts: int, initial_backoff: float) -> str:
    method_config: Dict[str, Any] = {"name": [{"service": _SERVICE}, {"service": "grpc.health.v1.Health"}]}
    if max_attempts > 1:
        method_config["retryPolicy"] = {
            "maxAttempts": max_attempts,
            "initialBackoff": f"{initial_backoff:.3f}s",
            "maxBackoff": f"{max(initial_backoff, 2.0):.3f}s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE", "RESOURCE_EXHAUSTED", "CANCELLED"],
        }
    return json.dumps({"methodConfig": [method_config]})


class Client:
    """A connection to a specinv server.

    Args:
        target: ``host:port`` or a gRPC target (``dns:///name:port``,
            ``unix:path``).
        token: bearer token, sent as ``authorization: Bearer <token>`` on every
            call (servers started with ``--auth-token-file``).
        tls_ca: path of a PEM file of root certificates; enables TLS.
        timeout: deadline of each call in seconds (``None``: no deadline). For
            :meth:`vocode` it bounds the whole stream.
        tls_cert, tls_key: PEM client certificate and key (mutual TLS).
        tls_server_name: name to check the server certificate against.
        max_message_bytes: largest message sent or received (the server's
            default limit is 64 MiB).
        max_attempts: attempts per call, [1, 5]; calls failing with
            UNAVAILABLE or RESOURCE_EXHAUSTED before any response arrived are
            retried by gRPC with exponential backoff from ``initial_backoff``
            seconds, waiting at least the server's retry pushback. 1 turns
            retries off.

    The client is thread-safe; use it as a context manager or call
    :meth:`close`. Failed calls raise :class:`specinv.Error` subclasses.
    """

    def __init__(self, target: str = "localhost:50051", token: Optional[str] = None,
                 tls_ca: Optional[str] = None, timeout: Optional[float] = None, *,
                 tls_cert: Optional[str] = None, tls_key: Optional[str] = None,
                 tls_server_name: Optional[str] = None, max_message_bytes: int = 64 << 20,
                 max_attempts: int = 4, initial_backoff: float = 0.1) -> None:
        if not target:
            raise InvalidArgument("target must not be empty", field="target")
        if timeout is not None and not timeout > 0:
            raise InvalidArgument(f"timeout must be > 0 seconds, got {timeout!r}", field="timeout")
        if not 1 <= max_attempts <= 5:
            raise InvalidArgument(f"max_attempts must be in [1, 5], got {max_attempts}", field="max_attempts")
        if (tls_cert is None) != (tls_key is None):
            raise InvalidArgument("tls_cert and tls_key go together", field="tls_cert")
        if tls_cert is not None and tls_ca is None:
            raise InvalidArgument("tls_cert needs tls_ca (mutual TLS runs over TLS)", field="tls_cert")
        if token is not None:
            token = token.strip()
            if not token:
                raise InvalidArgument("token must not be empty", field="token")
        self.target = target
        self.timeout = timeout
        self._metadata: Tuple[Tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ())
        options: List[Tuple[str, Any]] = [
            ("grpc.max_send_message_length", int(max_message_bytes)),
            ("grpc.max_receive_message_length", int(max_message_bytes)),
            ("grpc.primary_user_agent", f"specinv-python/{VERSION}"),
            ("grpc.service_config", _service_config(max_attempts, initial_backoff)),
            ("grpc.enable_retries", 1 if max_attempts > 1 else 0),
            ("grpc.per_rpc_retry_buffer_size", int(max_message_bytes)),
        ]
        if tls_ca is not None:
            def read(path: str) -> bytes:
                with open(path, "rb") as f:
                    return f.read()
            credentials = grpc.ssl_channel_credentials(
                root_certificates=read(tls_ca),
                private_key=read(tls_key) if tls_key else None,
                certificate_chain=read(tls_cert) if tls_cert else None)
            if tls_server_name:
                options.append(("grpc.ssl_target_name_override", tls_server_name))
            self._channel = grpc.secure_channel(target, credentials, options)
        else:
            self._channel = grpc.insecure_channel(target, options)
        self._stub = service_grpc.SpectrogramStub(self._channel)

    # -- plumbing --

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"specinv.Client({self.target!r})"

    def _unary(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self.timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None

    def _streamed_inversion(self, method: Any, request: Any, progress: ProgressCallback) -> Any:
        """Runs a server-streaming inversion, calling `progress` per event."""
        call = method(request, timeout=self.timeout, metadata=self._metadata)
        result = None
        try:
            for event in call:
                which = event.WhichOneof("event")
                if which == "progress":
                    p = event.progress
                    progress(Progress(stage=p.stage, iteration=p.iteration,
                                      total_iterations=p.total_iterations,
                                      spectral_convergence_db=p.spectral_convergence_db,
                                      elapsed_milliseconds=p.elapsed_milliseconds))
                elif which == "result":
                    result = event.result
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        except BaseException:
            call.cancel()  # the callback raised: stop the job on the server
            raise
        if result is None:
            raise DataLoss("the stream ended without a result")
        return result

    @staticmethod
    def _inversion_result(response: Any, sc_field: str) -> InversionResult:
        audio, rate = codec.samples_from_audio(response.audio)
        return InversionResult(audio, rate,
                               spectral_convergence_db=getattr(response, sc_field),
                               iterations_run=response.iterations_run,
                               stop_reason=response.stop_reason,
                               elapsed_milliseconds=response.elapsed_milliseconds,
                               queue_milliseconds=response.queue_milliseconds,
                               effective_config=codec.config_to_dict(response.effective_config),
                               warnings=list(getattr(response, "warnings", ())))

    # -- analysis --

    def analyze(self, audio: codec.AudioInput, sample_rate: Optional[float] = None,
                preset: Optional[str] = "hifigan", kind: str = "log-mel", *,
                layout: str = "bins-frames", **config: Any) -> np.ndarray:
        """Computes a spectrogram of audio (Analyze).

        Args:
            audio: samples ((samples,) mono or (samples, channels), float in
                [-1, 1] or int16) with ``sample_rate``; or the bytes or path of
                an audio file (WAV, FLAC, OGG/Vorbis, OGG/Opus, MP3; its own rate is used).
                Multi-channel audio is mixed to mono; audio at another rate than
                the config's is resampled.
            sample_rate: rate of `audio` samples in Hz (arrays only).
            preset: "hifigan", "librosa", "tacotron2", "espnet", "whisper",
                "whisper-128" (see :meth:`info`); ``None`` or "" means librosa.
            kind: "log-mel" (compressed with the preset's scale, what a model
                consumes), "mel", "stft-magnitude", "phase" or "complex-stft".
            layout: "bins-frames" (librosa's) or "frames-bins".
            **config: overrides of the preset's SpectrogramConfig: n_fft,
                hop_length, win_length, window, center, pad_mode, framing,
                magnitude_epsilon, power, n_mels, fmin_hertz (fmin),
                fmax_hertz (fmax), mel_scale, mel_norm, drop_last_frame,
                sample_rate_hertz; and the compression: scale ("ln", "log10",
                "power-db", ...), ref, ref_max, amin, top_db (None: no floor),
                clamp.

        Returns:
            float32 array of shape (bins, frames) (or (frames, bins)); for
            "complex-stft" a complex64 array of the same shape.
        """
        (config,) = codec.split_options(config, [codec.CONFIG_KEYWORDS], "analyze")
        spectrogram_kind = codec.parse_enum(config_pb2.SpectrogramKind, kind, "kind")
        request = service_pb2.AnalyzeRequest(
            audio=codec.audio_message(audio, sample_rate),
            config=codec.spectrogram_config(preset, config),
            kind=spectrogram_kind,
            tensor_format=tensor_pb2.TENSOR_FORMAT_FLOAT32,
            layout=codec.parse_layout(layout))
        response = self._unary(self._stub.Analyze, request)
        return codec.array_from_tensor(
            response.spectrogram, complex_pairs=spectrogram_kind == config_pb2.SPECTROGRAM_KIND_COMPLEX_STFT)

    # -- inversion --

    def _invert_mel_request(self, mel: Any, preset: Optional[str], layout: int, domain: Optional[str],
                            normalization: Optional[inversion_pb2.MelNormalization],
                            config: Mapping[str, Any], options: Mapping[str, Any],
                            length: Optional[int], field: str,
                            output_rate: Optional[int] = None) -> service_pb2.InvertMelRequest:
        request = service_pb2.InvertMelRequest(
            mel=codec.tensor_from_array(mel, field, layout),
            config=codec.spectrogram_config(preset, config),
            options=codec.inversion_options(options, layout),
            output=codec.audio_output(length, output_rate))
        if domain is not None:
            request.input_domain = codec.parse_enum(inversion_pb2.MelDomain, domain, "domain")
        if normalization is not None:
            request.normalization.CopyFrom(normalization)
        return request

    def invert_mel(self, mel: Union[np.ndarray, Sequence[np.ndarray]], preset: Optional[str] = "hifigan",
                   method: Optional[str] = None, *, layout: str = "bins-frames",
                   domain: Optional[str] = None, mean: Any = None, std: Any = None,
                   length: Union[None, int, Sequence[Optional[int]]] = None,
                   output_rate: Optional[int] = None,
                   progress: Optional[ProgressCallback] = None,
                   **options: Any) -> Union[InversionResult, List[InversionResult]]:
        """Inverts a mel spectrogram to audio (InvertMel).

        Args:
            mel: (n_mels, frames) array in the preset's domain, as a model
                emits it (e.g. ln-compressed for hifigan). A list of such
                arrays, or a 3-D array (batch, n_mels, frames), is inverted as
                one InvertMelBatch call in parallel on the server.
            preset: the front end the mel was made with.
            method: "gl", "fgla", "pghi", "pghi-fgla", "refine" or "joint";
                None (default) lets the server pick the best method within
                its default time budget (joint at the default iterations).
            layout: "bins-frames", or "frames-bins" for (frames, n_mels).
            domain: "scaled" (default: compressed with the config's scale) or
                "linear" (plain mel, W |X|^power).
            mean, std: per-bin de-normalisation (x * std + mean) of a model's
                normalised features, n_mels values each.
            length: exact number of output samples (per item for a batch).
            output_rate: sample rate of the returned audio in Hz; the server
                resamples (libsoxr) from the config's rate. Default: the
                config's rate.
            progress: called with a :class:`Progress` per server progress
                event (uses InvertMelStream; not with a batch). Exceptions it
                raises cancel the job and propagate.
            **options: inversion options (iterations, momentum, phase_init,
                seed, tolerance, time_budget_seconds, refine_iterations,
                refine_log_domain, progress_interval_iterations, mel_inverse,
                nnls_iterations) and SpectrogramConfig overrides (see
                :meth:`analyze`).

        Returns:
            ``(audio, sample_rate)`` (an :class:`InversionResult`, which also
            carries the spectral convergence), or a list of them for a batch.
        """
        config, inv = codec.split_options(options, [codec.CONFIG_KEYWORDS, codec.INVERSION_KEYWORDS],
                                          "invert_mel")
        if method is not None:
            inv["method"] = method
        tensor_layout = codec.parse_layout(layout)
        normalization = codec.mel_normalization(mean, std)
        batch = isinstance(mel, (list, tuple)) or (isinstance(mel, np.ndarray) and mel.ndim == 3)
        if not batch:
            if length is not None and not isinstance(length, (int, np.integer)):
                raise InvalidArgument("length must be an integer for a single mel", field="length")
            request = self._invert_mel_request(mel, preset, tensor_layout, domain, normalization, config,
                                               inv, length, "mel", output_rate)  # type: ignore[arg-type]
            if progress is None:
                response = self._unary(self._stub.InvertMel, request)
            else:
                response = self._streamed_inversion(self._stub.InvertMelStream, request, progress)
            return self._inversion_result(response, "spectral_convergence_mel_db")

        if progress is not None:
            raise InvalidArgument("progress is not available for a batch", field="progress")
        items = list(mel)
        if not items:
            raise InvalidArgument("the batch is empty", field="mel")
        if length is None or isinstance(length, (int, np.integer)):
            lengths: List[Optional[int]] = [length] * len(items)  # type: ignore[list-item]
        else:
            lengths = list(length)
            if len(lengths) != len(items):
                raise InvalidArgument(f"length has {len(lengths)} values for {len(items)} mels", field="length")
        batch_request = service_pb2.InvertMelBatchRequest(requests=[
            self._invert_mel_request(item, preset, tensor_layout, domain, normalization, config, inv, n,
                                     f"mel[{i}]", output_rate)
            for i, (item, n) in enumerate(zip(items, lengths))])
        response = self._unary(self._stub.InvertMelBatch, batch_request)
        if len(response.responses) != len(items):
            raise DataLoss(f"{len(response.responses)} results for {len(items)} requests")
        return [self._inversion_result(r, "spectral_convergence_mel_db") for r in response.responses]

    def invert_spectrogram(self, magnitude: np.ndarray, phase: Optional[np.ndarray] = None,
                           preset: Optional[str] = "hifigan", method: Optional[str] = None, *,
                           layout: str = "bins-frames", length: Optional[int] = None,
                           output_rate: Optional[int] = None,
                           progress: Optional[ProgressCallback] = None,
                           **options: Any) -> InversionResult:
        """Inverts a linear STFT magnitude (optionally with a phase) to audio
        (InvertSpectrogram).

        Args:
            magnitude: |X|, (n_fft / 2 + 1, frames), non-negative. A complex
                array is taken as the STFT itself: its magnitude, and its
                angle as the phase.
            phase: initial phase in radians, the magnitude's shape; with
                ``iterations=0`` the result is the inverse STFT of
                magnitude * exp(i phase).
            preset, method, layout, length, output_rate, progress, **options: as for
                :meth:`invert_mel` ("refine" and "joint" are not available here).

        Returns:
            ``(audio, sample_rate)`` as an :class:`InversionResult`.
        """
        config, inv = codec.split_options(options, [codec.CONFIG_KEYWORDS, codec.INVERSION_KEYWORDS],
                                          "invert_spectrogram")
        if method is not None:
            inv["method"] = method
        tensor_layout = codec.parse_layout(layout)
        m = np.asarray(magnitude)
        if np.iscomplexobj(m):
            if phase is not None:
                raise InvalidArgument("phase goes with a real magnitude, not a complex STFT", field="phase")
            phase = np.angle(m)
            m = np.abs(m)
        request = service_pb2.InvertSpectrogramRequest(
            magnitude=codec.tensor_from_array(m, "magnitude", tensor_layout),
            config=codec.spectrogram_config(preset, config),
            options=codec.inversion_options(inv, tensor_layout),
            output=codec.audio_output(length, output_rate))
        if phase is not None:
            request.phase.CopyFrom(codec.tensor_from_array(phase, "phase", tensor_layout))
        if progress is None:
            response = self._unary(self._stub.InvertSpectrogram, request)
        else:
            response = self._streamed_inversion(self._stub.InvertSpectrogramStream, request, progress)
        return self._inversion_result(response, "spectral_convergence_db")

    def vocode(self, chunks: Union[np.ndarray, Iterable[np.ndarray]], preset: Optional[str] = "hifigan", *,
               layout: str = "bins-frames", domain: Optional[str] = None, mean: Any = None,
               std: Any = None, algorithm: Optional[str] = None,
               online_iterations: Optional[int] = None, lookahead_frames: Optional[int] = None,
               mel_projection: Optional[bool] = None, chunk_frames: int = 8, **config: Any) -> VocodeStream:
        """Streams mel frames through the server's vocoder (StreamVocode).

        The configuration goes first, then each mel chunk as it comes from
        `chunks`; audio is yielded as soon as the server makes it final, so a
        TTS model's frames can be played while it still produces them.

        Args:
            chunks: an iterable of (n_mels, frames) arrays (any number of
                frames each), e.g. a generator fed by a model; or one 2-D
                array, sent in chunks of `chunk_frames`.
            preset: the front end of the mel frames.
            layout: "bins-frames", or "frames-bins" for (frames, n_mels) chunks.
            domain, mean, std: as for :meth:`invert_mel`.
            algorithm: "rtpghi-lookahead" (default) or "rtpghi-causal".
            online_iterations: online Griffin-Lim iterations per frame, [0, 32]
                (default: chosen by the server from the window overlap).
            lookahead_frames: look-ahead of the online iterations, [0, 16].
            mel_projection: re-estimate each frame's magnitude from its mel in
                the online iterations (default: chosen by the server, on at
                75 % overlap or more).
            chunk_frames: frames per message when `chunks` is one array.
            **config: SpectrogramConfig overrides (see :meth:`analyze`).

        Returns:
            A :class:`VocodeStream`: iterate it for float32 audio chunks; its
            ``sample_rate`` and, at the end, ``summary`` are attributes.
        """
        (config,) = codec.split_options(config, [codec.CONFIG_KEYWORDS], "vocode")
        tensor_layout = codec.parse_layout(layout)
        c = vocode_pb2.StreamVocodeConfig(
            config=codec.spectrogram_config(preset, config),
            layout=tensor_pb2.TENSOR_LAYOUT_BINS_FRAMES,
            encoding=audio_pb2.AUDIO_ENCODING_PCM_FLOAT32_LE)
        if domain is not None:
            c.input_domain = codec.parse_enum(inversion_pb2.MelDomain, domain, "domain")
        normalization = codec.mel_normalization(mean, std)
        if normalization is not None:
            c.normalization.CopyFrom(normalization)
        if algorithm is not None:
            c.algorithm = codec.parse_enum(vocode_pb2.VocodeAlgorithm, algorithm, "algorithm")
        if online_iterations is not None:
            c.online_iterations = codec.as_int(online_iterations, "online_iterations")
        if lookahead_frames is not None:
            c.lookahead_frames = codec.as_int(lookahead_frames, "lookahead_frames")
        if mel_projection is not None:
            if not isinstance(mel_projection, (bool, np.bool_)):
                raise InvalidArgument(f"mel_projection must be a bool, got {mel_projection!r}",
                                      field="mel_projection")
            c.mel_projection = bool(mel_projection)
        if isinstance(chunks, np.ndarray):
            whole = codec.as_real_matrix(chunks, "chunks")
            step = codec.as_int(chunk_frames, "chunk_frames")
            if step < 1:
                raise InvalidArgument(f"chunk_frames must be >= 1, got {step}", field="chunk_frames")
            axis = 0 if tensor_layout == tensor_pb2.TENSOR_LAYOUT_FRAMES_BINS else 1
            frames = whole.shape[axis]
            chunks = [whole[:, i:i + step] if axis == 1 else whole[i:i + step] for i in range(0, frames, step)]
        return VocodeStream(self._stub, vocode_pb2.StreamVocodeRequest(config=c), chunks, tensor_layout,
                            self.timeout, self._metadata)

    # -- creative resynthesis --

    def reorder(self, audio: codec.AudioInput, sample_rate: Optional[float] = None,
                strategy: str = "pca", preset: Optional[str] = "hifigan", *,
                volume_normalize: bool = False, frequency_weighting: bool = False,
                perplexity: Optional[float] = None, learning_rate: Optional[float] = None,
                tsne_iterations: Optional[int] = None, tsne_seed: int = 0,
                tsne_algorithm: Optional[str] = None, theta: Optional[float] = None,
                seed: int = 0, sort_key: Optional[str] = None, descending: bool = False,
                start_frame: int = 0, order: Optional[Sequence[int]] = None,
                length: Optional[int] = None, output_rate: Optional[int] = None,
                **config: Any) -> ReorderResult:
        """Rearranges the STFT frames of audio and resynthesises it (Reorder).

        Args:
            audio, sample_rate: as for :meth:`analyze`.
            strategy: "pca", "tsne", "reverse-time", "reverse-frequency",
                "shuffle" (with `seed`), "sort-by" (with `sort_key`: "rms",
                "spectral-centroid", "spectral-flatness"),
                "nearest-neighbor-walk" (from `start_frame`) or "custom" (the
                frame indices in `order`).
            volume_normalize, frequency_weighting: frame-feature options of
                the similarity strategies.
            perplexity, learning_rate, tsne_iterations, tsne_seed,
                tsne_algorithm ("exact", "barnes-hut"), theta: t-SNE options.
            descending: sort descending (sort-by, pca, tsne).
            length: exact number of output samples.
            output_rate: sample rate of the returned audio in Hz (resampled
                by the server); default: the config's rate.
            **config: SpectrogramConfig overrides (see :meth:`analyze`).

        Returns:
            ``(audio, sample_rate, order, embedding)`` as a :class:`ReorderResult`.
        """
        (config,) = codec.split_options(config, [codec.CONFIG_KEYWORDS], "reorder")
        tsne = reorder_pb2.TsneOptions(seed=codec.as_int(tsne_seed, "tsne_seed"))
        if perplexity is not None:
            tsne.perplexity = codec.as_float(perplexity, "perplexity")
        if learning_rate is not None:
            tsne.learning_rate = codec.as_float(learning_rate, "learning_rate")
        if tsne_iterations is not None:
            tsne.iterations = codec.as_int(tsne_iterations, "tsne_iterations")
        if tsne_algorithm is not None:
            tsne.algorithm = codec.parse_enum(reorder_pb2.TsneAlgorithm, tsne_algorithm, "tsne_algorithm")
        if theta is not None:
            tsne.theta = codec.as_float(theta, "theta")
        request = reorder_pb2.ReorderRequest(
            audio=codec.audio_message(audio, sample_rate),
            config=codec.spectrogram_config(preset, config),
            strategy=codec.parse_enum(reorder_pb2.ReorderStrategy, strategy, "strategy"),
            features=reorder_pb2.FrameFeatureOptions(
                volume_normalize=codec.as_bool(volume_normalize, "volume_normalize"),
                frequency_weighting=codec.as_bool(frequency_weighting, "frequency_weighting")),
            tsne=tsne,
            seed=codec.as_int(seed, "seed"),
            descending=codec.as_bool(descending, "descending"),
            start_frame=codec.as_int(start_frame, "start_frame"),
            output=codec.audio_output(length, output_rate))
        if sort_key is not None:
            request.sort_key = codec.parse_enum(reorder_pb2.SortKey, sort_key, "sort_key")
        if order is not None:
            request.custom_order.extend(codec.as_int(i, f"order[{n}]") for n, i in enumerate(order))
        response = self._unary(self._stub.Reorder, request)
        samples, rate = codec.samples_from_audio(response.audio)
        return ReorderResult(samples, rate, np.asarray(response.order, dtype=np.int64),
                             np.asarray(response.embedding, dtype=np.float32),
                             num_frames=response.num_frames,
                             effective_config=codec.config_to_dict(response.effective_config))

    def transform(self, audio: codec.AudioInput, sample_rate: Optional[float] = None,
                  preset: Optional[str] = "hifigan", *, phase: Optional[str] = None,
                  phase_seed: int = 0, checkerboard: bool = False,
                  band_mutes: Sequence[Tuple[float, float]] = (),
                  time_gate: Optional[Tuple[float, float]] = None, mel_shift: int = 0,
                  mel_reverse_time: bool = False, mel_flip_frequency: bool = False,
                  length: Optional[int] = None, output_rate: Optional[int] = None,
                  **options: Any) -> InversionResult:
        """Phase and bin transforms of the STFT of audio, then inversion (Transform).

        Applied in this order: the phase operation, the masks (checkerboard,
        band mutes, time gate), then the optional mel warp.

        Args:
            audio, sample_rate: as for :meth:`analyze`.
            phase: "keep" (default), "zero", "conjugate", "random" (from
                `phase_seed`) or "resynthesize" (discard the phase, invert the
                magnitude).
            checkerboard: mute even bins on even frames and odd bins on odd ones.
            band_mutes: (low_hz, high_hz) bands to mute.
            time_gate: (period_seconds, open_fraction) periodic muting of frames.
            mel_shift, mel_reverse_time, mel_flip_frequency: a mel-domain warp
                (shift by bins, reverse time, flip the mel axis), inverted with
                the inversion options.
            length: exact number of output samples.
            output_rate: sample rate of the returned audio in Hz (resampled
                by the server); default: the config's rate.
            **options: inversion options (method, iterations, ...) and
                SpectrogramConfig overrides (see :meth:`invert_mel`).

        Returns:
            ``(audio, sample_rate)`` as an :class:`InversionResult` (without a
            spectral convergence: NaN).
        """
        config, inv = codec.split_options(options, [codec.CONFIG_KEYWORDS, codec.INVERSION_KEYWORDS],
                                          "transform")
        request = reorder_pb2.TransformRequest(
            audio=codec.audio_message(audio, sample_rate),
            config=codec.spectrogram_config(preset, config),
            seed=codec.as_int(phase_seed, "phase_seed"),
            checkerboard=codec.as_bool(checkerboard, "checkerboard"),
            inversion=codec.inversion_options(inv, tensor_pb2.TENSOR_LAYOUT_BINS_FRAMES),
            output=codec.audio_output(length, output_rate))
        if phase is not None:
            request.phase = codec.parse_enum(reorder_pb2.PhaseOperation, phase, "phase")
        for i, band in enumerate(band_mutes):
            try:
                low, high = band
            except (TypeError, ValueError):
                raise InvalidArgument(f"band_mutes[{i}] must be (low_hz, high_hz), got {band!r}",
                                      field=f"band_mutes[{i}]") from None
            request.band_mutes.add(low_hertz=codec.as_float(low, f"band_mutes[{i}]"),
                                   high_hertz=codec.as_float(high, f"band_mutes[{i}]"))
        if time_gate is not None:
            try:
                period, open_fraction = time_gate
            except (TypeError, ValueError):
                raise InvalidArgument(f"time_gate must be (period_seconds, open_fraction), got {time_gate!r}",
                                      field="time_gate") from None
            request.time_gate.period_seconds = codec.as_float(period, "time_gate")
            request.time_gate.open_fraction = codec.as_float(open_fraction, "time_gate")
        shift = codec.as_int(mel_shift, "mel_shift")
        if shift or mel_reverse_time or mel_flip_frequency:
            request.mel_warp.shift_bins = shift
            request.mel_warp.reverse_time = codec.as_bool(mel_reverse_time, "mel_reverse_time")
            request.mel_warp.flip_frequency = codec.as_bool(mel_flip_frequency, "mel_flip_frequency")
        response = self._unary(self._stub.Transform, request)
        samples, rate = codec.samples_from_audio(response.audio)
        return InversionResult(samples, rate, spectral_convergence_db=float("nan"), iterations_run=0,
                               stop_reason="", elapsed_milliseconds=response.elapsed_milliseconds,
                               queue_milliseconds=0.0,
                               effective_config=codec.config_to_dict(response.effective_config),
                               warnings=[])

    # -- images --

    def render(self, source: Union[codec.AudioInput, np.ndarray], sample_rate: Optional[float] = None,
               view: str = "magnitude", preset: Optional[str] = "hifigan", *,
               kind: Optional[str] = None, layout: str = "bins-frames",
               colormap: Optional[str] = None, range_db: Optional[float] = None,
               width: int = 0, height: int = 0, interpolation: Optional[str] = None,
               view_fmin: Optional[float] = None, view_fmax: Optional[float] = None,
               color_bar: bool = False, weight_by_magnitude: bool = False, bare: bool = False,
               full: bool = False, **config: Any) -> Union[bytes, RenderResult]:
        """Renders a spectrogram or phase image as PNG (Render).

        Args:
            source: audio (as for :meth:`analyze`), or, with `kind`, a
                spectrogram array (a complex array for kind "complex-stft").
            sample_rate: rate of audio samples.
            view: "magnitude", "mel", "phase", "phase-deinterleaved",
                "phase-fft2", "instantaneous-frequency" or "group-delay".
            kind: the spectrogram kind of an array `source`: "stft-magnitude",
                "mel", "log-mel", "phase", "complex-stft".
            layout: axis order of an array `source`.
            colormap: "viridis", "magma", "inferno", "gray", "hue", "red-blue".
            range_db: dynamic range of dB views (default 80).
            width, height: pixels of the heatmap (0: one column per frame /
                row per bin); the figure around it adds axes, labels and a
                colour bar.
            interpolation: "nearest" or "bilinear".
            view_fmin, view_fmax: frequency range shown, Hz.
            color_bar: append a colour bar.
            weight_by_magnitude: phase views: darken quiet bins.
            bare: the heatmap alone, without the figure (for machine use).
            full: return a :class:`RenderResult` instead of the PNG bytes.
            **config: SpectrogramConfig overrides (see :meth:`analyze`).

        Returns:
            The PNG file's bytes (or a :class:`RenderResult` with ``full``).
        """
        (config,) = codec.split_options(config, [codec.CONFIG_KEYWORDS], "render")
        request = render_pb2.RenderRequest(
            config=codec.spectrogram_config(preset, config),
            view=codec.parse_enum(render_pb2.RenderView, view, "view"),
            width_pixels=codec.as_int(width, "width"),
            height_pixels=codec.as_int(height, "height"),
            color_bar=codec.as_bool(color_bar, "color_bar"),
            weight_by_magnitude=codec.as_bool(weight_by_magnitude, "weight_by_magnitude"),
            bare=codec.as_bool(bare, "bare"))
        if kind is not None:
            request.spectrogram_kind = codec.parse_enum(config_pb2.SpectrogramKind, kind, "kind")
            request.spectrogram.CopyFrom(codec.tensor_from_array(
                source, "spectrogram", codec.parse_layout(layout), complex_ok=True))
        else:
            request.audio.CopyFrom(codec.audio_message(source, sample_rate))
        if colormap is not None:
            request.colormap = codec.parse_enum(render_pb2.Colormap, colormap, "colormap")
        if range_db is not None:
            request.top_db = codec.as_float(range_db, "range_db")
        if interpolation is not None:
            request.interpolation = codec.parse_enum(render_pb2.Interpolation, interpolation, "interpolation")
        if view_fmin is not None:
            request.fmin_hertz = codec.as_float(view_fmin, "view_fmin")
        if view_fmax is not None:
            request.fmax_hertz = codec.as_float(view_fmax, "view_fmax")
        response = self._unary(self._stub.Render, request)
        if not full:
            return bytes(response.png_data)
        return RenderResult(png=bytes(response.png_data), width=response.width_pixels,
                            height=response.height_pixels, value_min=response.value_min,
                            value_max=response.value_max, value_unit=response.value_unit,
                            effective_config=codec.config_to_dict(response.effective_config))

    # -- server --

    def info(self) -> ServerInfo:
        """Version, presets, inversion methods, limits and load of the server
        (GetServerInfo)."""
        r = self._unary(self._stub.GetServerInfo, service_pb2.GetServerInfoRequest())
        limits = r.limits
        return ServerInfo(
            version=r.version,
            presets={p.name: Preset(p.name, p.description, codec.config_to_dict(p.config)) for p in r.presets},
            methods=[codec.enum_name(inversion_pb2.InversionMethod, m) for m in r.methods],
            limits=ServerLimits(
                max_message_bytes=limits.max_message_bytes,
                max_audio_duration_seconds=limits.max_audio_duration_seconds,
                max_iterations=limits.max_iterations, max_n_fft=limits.max_n_fft,
                max_batch_size=limits.max_batch_size,
                max_image_side_pixels=limits.max_image_side_pixels,
                max_job_memory_bytes=limits.max_job_memory_bytes, max_streams=limits.max_streams,
                stream_idle_timeout_seconds=limits.stream_idle_timeout_seconds),
            worker_count=r.worker_count, queue_capacity=r.queue_capacity,
            implemented_rpcs=list(r.implemented_rpcs), uptime_seconds=r.uptime_seconds,
            tls_enabled=r.tls_enabled, auth_required=r.auth_required,
            busy_workers=r.busy_workers, queued_jobs=r.queued_jobs)
