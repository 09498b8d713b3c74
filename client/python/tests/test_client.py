# Copyright specinv authors.
#
# specinv.Client against a real specinv-server (see conftest.py).

import io
import socket
import threading
import time
import wave

import grpc
import numpy as np
import pytest

import specinv

SR = 22050
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sine(freq, seconds=1.0, sr=SR, amplitude=0.5):
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def glide(seconds=1.0, sr=SR):
    """A gliding tone with harmonics and a decaying envelope: a spectrum that
    moves, so phase retrieval has real work to do."""
    t = np.arange(int(seconds * sr)) / sr
    f0 = 180.0 + 140.0 * t / seconds
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = 0.4 + 0.6 * np.abs(np.sin(2 * np.pi * 1.5 * t))
    return (0.25 * envelope * x).astype(np.float32)




def slaney_mel_centres(n_mels, fmin, fmax):
    """Centre frequencies of librosa's Slaney mel filters (htk=False)."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0

    def hz_to_mel(f):
        return f / f_sp if f < min_log_hz else min_log_mel + np.log(f / min_log_hz) / logstep

    def mel_to_hz(m):
        return np.where(m < min_log_mel, f_sp * m, min_log_hz * np.exp(logstep * (m - min_log_mel)))

    mels = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    return mel_to_hz(mels)[1:-1]


def hifigan_frames(num_samples, n_fft, hop):
    """Frame count of HiFi-GAN framing: reflect-pad (n_fft - hop) / 2, no centring."""
    pad = (n_fft - hop) // 2
    return 1 + (num_samples + 2 * pad - n_fft) // hop


def spectral_convergence(reference, estimate):
    return float(np.linalg.norm(reference - estimate) / np.linalg.norm(reference))


@pytest.fixture(scope="session")
def hifigan(client):
    return client.info().presets["hifigan"].config


# --- GetServerInfo ----------------------------------------------------------------

def test_info_lists_limits_presets_and_methods(client):
    info = client.info()
    assert isinstance(info, specinv.ServerInfo)
    assert info.version
    assert info.worker_count == 2
    assert info.limits.max_iterations == 1000
    assert info.limits.max_batch_size >= 1
    assert info.limits.max_n_fft >= 1024
    assert info.limits.max_message_bytes == 64 << 20
    assert info.limits.max_streams >= 1
    assert {"librosa", "hifigan", "tacotron2", "espnet", "whisper"} <= set(info.presets)
    h = info.presets["hifigan"].config
    assert (h["sample_rate_hertz"], h["n_fft"], h["hop_length"], h["n_mels"]) == (22050, 1024, 256, 80)
    assert h["scale"] == "ln" and h["framing"] == "hifigan-reflect"
    assert {"gl", "fgla", "pghi", "pghi-fgla", "refine", "joint"} <= set(info.methods)
    assert "specinv.v1.Spectrogram/InvertMelStream" in info.implemented_rpcs
    assert not info.auth_required and not info.tls_enabled


# --- Analyze ----------------------------------------------------------------------

def test_analyze_sine_has_the_expected_shape_and_peak(client, hifigan):
    freq = 1500.0
    x = sine(freq)
    mel = client.analyze(x, SR)  # hifigan log-mel
    frames = hifigan_frames(len(x), hifigan["n_fft"], hifigan["hop_length"])
    assert mel.dtype == np.float32
    assert mel.shape == (80, frames)
    centres = slaney_mel_centres(80, hifigan["fmin_hertz"], hifigan["fmax_hertz"])
    peak = int(np.argmax(mel.mean(axis=1)))
    assert centres[peak - 1] < freq < centres[peak + 1], (peak, centres[peak - 1:peak + 2])
    # ln compression: the peak is far above the floor ln(1e-5).
    assert mel.max() > np.log(1e-5) + 8

    by_frames = client.analyze(x, SR, layout="frames-bins")
    np.testing.assert_array_equal(by_frames, mel.T)


def test_analyze_kinds_and_config_overrides(client):
    x = sine(440.0, 0.5)
    magnitude = client.analyze(x, SR, kind="stft-magnitude")
    stft = client.analyze(x, SR, kind="complex-stft")
    phase = client.analyze(x, SR, kind="phase")
    assert magnitude.shape[0] == 513 and stft.shape == magnitude.shape == phase.shape
    assert stft.dtype == np.complex64
    # hifigan's magnitude is sqrt(|X|^2 + 1e-9).
    np.testing.assert_allclose(np.sqrt(np.abs(stft) ** 2 + 1e-9), magnitude, rtol=1e-3, atol=1e-4)
    peak_bin = int(np.argmax(magnitude.mean(axis=1)))
    assert abs(peak_bin * SR / 1024 - 440.0) < SR / 1024
    assert np.all(np.abs(phase) <= np.pi + 1e-6)

    mel = client.analyze(x, SR, preset="librosa", kind="mel", n_fft=512, hop_length=128, n_mels=40)
    assert mel.shape == (40, 1 + len(x) // 128)  # librosa: centred frames
    assert np.all(mel >= 0)


def test_analyze_accepts_files_int16_and_resamples(client, tmp_path):
    x = sine(1000.0)
    pcm16 = np.round(x * 32767).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm16.tobytes())
    wav = buffer.getvalue()
    path = tmp_path / "tone.wav"
    path.write_bytes(wav)

    from_array = client.analyze(pcm16, SR)
    from_bytes = client.analyze(wav)
    from_path = client.analyze(str(path))
    np.testing.assert_allclose(from_bytes, from_array, atol=1e-4)
    np.testing.assert_allclose(from_path, from_array, atol=1e-4)

    # Stereo (samples, channels) is mixed down; 44.1 kHz is resampled to the preset's 22.05 kHz.
    x44 = sine(1000.0, sr=2 * SR)
    stereo = np.stack([x44, x44], axis=1)
    resampled = client.analyze(stereo, 2 * SR)
    assert resampled.shape == from_array.shape
    assert np.argmax(resampled.mean(axis=1)) == np.argmax(from_array.mean(axis=1))


# --- errors -----------------------------------------------------------------------

def test_invalid_hop_length_names_the_field(client):
    with pytest.raises(specinv.InvalidArgument) as caught:
        client.analyze(sine(440.0, 0.2), SR, hop_length=0)
    e = caught.value
    assert e.code == grpc.StatusCode.INVALID_ARGUMENT
    assert e.field == "config.hop_length"
    assert "hop_length" in e.message
    assert e.request_id
    assert isinstance(e, specinv.Error) and isinstance(e, ValueError)


def test_batch_error_names_the_item(client):
    mel = client.analyze(sine(440.0, 0.3), SR)
    with pytest.raises(specinv.InvalidArgument) as caught:
        client.invert_mel([mel, mel[:40]], iterations=1)
    assert caught.value.field.startswith("requests[1].mel"), caught.value.field


def test_local_checks_raise_before_sending(client):
    with pytest.raises(specinv.InvalidArgument) as caught:
        client.analyze(np.zeros((2, 2, 2), np.float32), SR)
    assert caught.value.field == "audio"
    with pytest.raises(specinv.InvalidArgument) as caught:
        client.analyze(sine(440.0, 0.1), SR, window="triangle")
    assert caught.value.field == "window" and "sqrt-hann" in caught.value.message
    with pytest.raises(specinv.InvalidArgument) as caught:
        client.analyze(sine(440.0, 0.1))
    assert caught.value.field == "sample_rate"
    with pytest.raises(TypeError):
        client.analyze(sine(440.0, 0.1), SR, hop_lenght=128)


def test_unreachable_server_is_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with specinv.Client(f"127.0.0.1:{port}", timeout=10) as c:
        with pytest.raises(specinv.Unavailable) as caught:
            c.info()
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE


def test_deadline_exceeded(server):
    mel = np.full((80, 2000), -4.0, np.float32)
    with specinv.Client(server.target, timeout=0.2) as c:
        with pytest.raises(specinv.DeadlineExceeded):
            c.invert_mel(mel, iterations=1000)


def test_token_auth(token_server):
    with specinv.Client(token_server.target, timeout=30) as anonymous:
        with pytest.raises(specinv.Unauthenticated):
            anonymous.info()
    with specinv.Client(token_server.target, token="wrong", timeout=30) as wrong:
        with pytest.raises(specinv.Unauthenticated) as caught:
            wrong.info()
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
    with specinv.Client(token_server.target, token="correct-horse", timeout=30) as right:
        assert right.info().auth_required
        assert right.analyze(sine(440.0, 0.2), SR).shape[0] == 80


def test_saturated_server_is_resource_exhausted_with_a_retry_hint(busy_server):
    long_mel = np.full((80, 4000), -4.0, np.float32)
    with specinv.Client(busy_server.target, timeout=60, max_attempts=1) as c:
        holder_error = []

        def hold():
            try:
                c.invert_mel(long_mel, iterations=1000)
            except specinv.Error as e:  # cancelled below
                holder_error.append(e)

        holder = threading.Thread(target=hold)
        holder.start()
        deadline = time.time() + 30
        while c.info().busy_workers < 1:
            assert time.time() < deadline, "the long job never started"
            time.sleep(0.05)
        with pytest.raises(specinv.ResourceExhausted) as caught:
            c.invert_mel(long_mel[:, :100], iterations=1)
        assert caught.value.retry_after is not None and caught.value.retry_after > 0
        c.close()  # cancels the long job
        holder.join(timeout=60)
        assert not holder.is_alive()


# --- InvertMel ----------------------------------------------------------------------

def test_invert_mel_output_rate_resamples(client, hifigan):
    x = sine(440.0, 0.5)
    mel = client.analyze(x, SR)
    native, native_sr = client.invert_mel(mel, length=len(x), iterations=8, seed=3)
    audio, sr = client.invert_mel(mel, length=len(x), output_rate=44100, iterations=8, seed=3)
    assert native_sr == SR and sr == 44100 and audio.shape == (2 * len(x),)

    def peak_hz(a, rate):
        spectrum = np.abs(np.fft.rfft(a * np.hanning(len(a))))
        return np.argmax(spectrum) * rate / len(a)

    # The same inversion, resampled: the same pitch (2 Hz bins over 0.5 s).
    assert abs(peak_hz(audio, sr) - peak_hz(native, native_sr)) <= 2.0


def test_invert_mel_round_trip(client, hifigan):
    x = glide()
    mel = client.analyze(x, SR)
    result = client.invert_mel(mel, length=len(x))
    audio, sr = result
    assert sr == SR and audio.dtype == np.float32 and audio.shape == (len(x),)
    assert np.all(np.isfinite(audio))
    again = client.analyze(audio, sr)
    assert again.shape == mel.shape
    # Spectral convergence on the linear mel (the log-mel is ln(max(mel, 1e-5))).
    sc = spectral_convergence(np.exp(mel), np.exp(again))
    # fgla, 32 iterations, measured on this signal: 0.076 here, and the server
    # reports -22.4 dB (0.076) for its own last iteration.
    assert sc < 0.12, sc
    assert result.spectral_convergence_db < -18
    # No method named: the server picks joint for a mel (32 Griffin-Lim + 50 L-BFGS iterations).
    assert result.iterations_run == 32 + 50 and result.stop_reason == "iterations"
    assert result.effective_config["n_mels"] == 80

    # Without `length` the audio has the length the frames imply (frames * hop for hifigan).
    default_audio, _ = client.invert_mel(mel, method="pghi")
    assert len(default_audio) == mel.shape[1] * hifigan["hop_length"]


def test_invert_mel_layouts_and_domains_agree(client):
    x = glide(0.5)
    log_mel = client.analyze(x, SR)
    linear = client.analyze(x, SR, kind="mel")
    a, _ = client.invert_mel(log_mel, iterations=4)
    b, _ = client.invert_mel(log_mel.T, iterations=4, layout="frames-bins")
    c, _ = client.invert_mel(linear, iterations=4, domain="linear")
    np.testing.assert_allclose(b, a, atol=1e-5)
    # The default joint's harmonic start picks each frame's fundamental by an
    # argmax, so the log round trip's rounding can move a frame's comb
    # (0.025 measured).
    assert spectral_convergence(a, c) < 5e-2


def test_invert_mel_denormalizes(client):
    mel = client.analyze(glide(0.5), SR)
    mean = mel.mean(axis=1)
    std = mel.std(axis=1) + 0.1
    normalized = (mel - mean[:, None]) / std[:, None]
    a, _ = client.invert_mel(mel, method="fgla", iterations=4)
    b, _ = client.invert_mel(normalized, method="fgla", iterations=4, mean=mean, std=std)
    np.testing.assert_allclose(b, a, atol=1e-4)


def test_batch_returns_one_result_per_item(client):
    mels = [client.analyze(glide(s), SR) for s in (0.3, 0.5, 0.7)]
    lengths = [int(s * SR) for s in (0.3, 0.5, 0.7)]
    results = client.invert_mel(mels, iterations=8, length=lengths)
    assert isinstance(results, list) and len(results) == 3
    for (audio, sr), n, mel in zip(results, lengths, mels):
        assert sr == SR and len(audio) == n
        single, _ = client.invert_mel(mel, iterations=8, length=n)
        np.testing.assert_allclose(audio, single, atol=1e-5)
    stacked = client.invert_mel(np.stack([mels[0], mels[0]]), iterations=2)
    assert len(stacked) == 2


def test_mel_inverse_defaults_to_harmonic_for_joint_and_nnls_for_fgla(client):
    mel = client.analyze(glide(), SR)
    for method, default, other in (("joint", "harmonic", "lobes"), ("fgla", "nnls", "lobes")):
        unset = client.invert_mel(mel, method=method, iterations=4, refine_iterations=2).audio
        named = client.invert_mel(mel, method=method, iterations=4, refine_iterations=2, mel_inverse=default).audio
        np.testing.assert_array_equal(unset, named)
        changed = client.invert_mel(mel, method=method, iterations=4, refine_iterations=2, mel_inverse=other).audio
        assert not np.array_equal(unset, changed), method


def test_progress_callback_sees_increasing_fractions(client):
    mel = client.analyze(glide(), SR)
    events = []
    streamed = client.invert_mel(mel, method="fgla", iterations=24, mel_inverse="pseudo-inverse",
                                 progress=events.append)
    # One event per iteration; when the client reads slower than the job runs
    # the server keeps only the latest pending one, so some may be skipped.
    fgla = [e for e in events if e.stage == "fgla"]
    assert fgla and len(fgla) == len(events), [(e.stage, e.iteration) for e in events]
    assert all(e.total_iterations == 24 and 1 <= e.iteration <= 24 for e in fgla)
    fractions = [e.fraction for e in fgla]
    assert all(b > a for a, b in zip(fractions, fractions[1:])), fractions
    assert all(0 < f <= 1 for f in fractions)
    assert fgla[-1].spectral_convergence_db < fgla[0].spectral_convergence_db
    # The streamed job returns what the unary one does.
    unary = client.invert_mel(mel, method="fgla", iterations=24, mel_inverse="pseudo-inverse")
    np.testing.assert_array_equal(streamed.audio, unary.audio)
    assert streamed.spectral_convergence_db == unary.spectral_convergence_db
    # The last event's SC is measured inside the last iteration, the result's on the final audio.
    assert streamed.spectral_convergence_db == pytest.approx(fgla[-1].spectral_convergence_db, abs=0.5)

    sparse = []
    client.invert_mel(mel, method="fgla", iterations=24, progress_interval_iterations=8,
                      mel_inverse="pseudo-inverse", progress=sparse.append)
    iterations = [e.iteration for e in sparse]
    assert iterations and set(iterations) <= {8, 16, 24} and iterations == sorted(iterations), iterations

    # refine runs fgla then L-BFGS: iterations count on across the stages.
    staged = []
    client.invert_mel(mel, method="refine", iterations=3, refine_iterations=3, progress=staged.append)
    stages = [e.stage for e in staged]
    assert set(stages) <= {"fgla", "refine"} and stages == sorted(stages), stages
    assert all(e.total_iterations == 6 for e in staged)
    fractions = [e.fraction for e in staged]
    assert all(b > a for a, b in zip(fractions, fractions[1:])), fractions


def test_progress_callback_exception_stops_the_job(client):
    mel = client.analyze(glide(), SR)

    class Stop(Exception):
        pass

    # Progress events are advisory (the server keeps only the newest while a
    # write is in flight), so a given iteration may be skipped.
    def stop_at_third(p):
        if p.iteration >= 3:
            raise Stop()

    with pytest.raises(Stop):
        client.invert_mel(mel, iterations=1000, progress=stop_at_third)


# --- InvertSpectrogram ----------------------------------------------------------------

def test_invert_spectrogram_with_the_true_phase_reconstructs_the_audio(client):
    x = glide()
    stft = client.analyze(x, SR, preset="librosa", kind="complex-stft")
    audio, sr = client.invert_spectrogram(stft, preset="librosa", iterations=0, length=len(x))
    assert sr == SR and len(audio) == len(x)
    np.testing.assert_allclose(audio, x, atol=1e-4)

    magnitude = np.abs(stft)
    estimate = client.invert_spectrogram(magnitude, preset="librosa", method="pghi-fgla", length=len(x))
    again = np.abs(client.analyze(estimate.audio, SR, preset="librosa", kind="complex-stft"))
    # Measured: 0.004 here, -48 dB reported by the server.
    assert spectral_convergence(magnitude, again) < 0.02
    assert estimate.spectral_convergence_db < -40


# --- StreamVocode ------------------------------------------------------------------------

def test_vocode_streams_audio_while_frames_arrive(client, hifigan):
    mel = client.analyze(glide(), SR)
    frames = mel.shape[1]
    first_audio = threading.Event()

    def producer():
        for start in range(0, frames, 8):
            if start >= frames // 2 and not first_audio.is_set():
                # Hold back the second half until audio for the first half arrived:
                # the server must stream, not wait for the end of the utterance.
                assert first_audio.wait(timeout=60), "no audio before the utterance ended"
            yield mel[:, start:start + 8]

    stream = client.vocode(producer())
    chunks = []
    for chunk in stream:
        assert chunk.dtype == np.float32 and chunk.ndim == 1
        chunks.append(chunk)
        first_audio.set()
    audio = np.concatenate(chunks)
    assert len(chunks) > 1
    assert len(audio) == frames * hifigan["hop_length"]
    assert stream.sample_rate == SR
    assert stream.summary.total_frames == frames
    assert stream.summary.total_samples == len(audio)

    # The same frames in one array, cut in other chunk sizes: identical audio.
    whole = np.concatenate(list(client.vocode(mel.T, layout="frames-bins", chunk_frames=5)))
    np.testing.assert_array_equal(whole, audio)
    again = client.analyze(audio, SR)
    assert spectral_convergence(np.exp(mel), np.exp(again)) < 0.1  # measured 0.055


def test_vocode_producer_error_propagates(client):
    mel = client.analyze(sine(440.0, 0.5), SR)

    class ModelFailed(Exception):
        pass

    def producer():
        yield mel[:, :8]
        raise ModelFailed()

    with pytest.raises(ModelFailed):
        list(client.vocode(producer()))


def test_vocode_mel_projection_is_sent(client):
    mel = client.analyze(glide(), SR)
    projected = np.concatenate(list(client.vocode(mel, mel_projection=True)))
    kept = np.concatenate(list(client.vocode(mel, mel_projection=False)))
    default = np.concatenate(list(client.vocode(mel)))
    assert projected.shape == kept.shape == default.shape
    assert np.max(np.abs(projected - kept)) > 1e-3
    np.testing.assert_array_equal(default, projected)  # hifigan: on by default
    with pytest.raises(specinv.InvalidArgument) as caught:
        client.vocode(mel, mel_projection="yes")
    assert caught.value.field == "mel_projection"


def test_vocode_bad_chunk_is_invalid_argument(client):
    mel = client.analyze(sine(440.0, 0.5), SR)
    with pytest.raises(specinv.InvalidArgument) as caught:
        list(client.vocode([mel[:, :8], mel[:40, 8:16]]))
    assert caught.value.field


# --- Reorder, Transform ------------------------------------------------------------------

def test_reorder(client):
    x = glide()
    reversed_ = client.reorder(x, SR, strategy="reverse-time")
    audio, sr, order, embedding = reversed_
    n = reversed_.num_frames
    assert sr == SR and n > 10
    np.testing.assert_array_equal(order, np.arange(n)[::-1])
    assert embedding.size == 0 and len(audio) > 0

    pca = client.reorder(x, SR, strategy="pca")
    assert sorted(pca.order.tolist()) == list(range(pca.num_frames))
    assert pca.embedding.shape == (pca.num_frames,)

    custom = client.reorder(x, SR, strategy="custom", order=[3, 2, 1, 0])
    assert custom.order.tolist() == [3, 2, 1, 0]
    with pytest.raises(specinv.InvalidArgument) as caught:
        client.reorder(x, SR, strategy="custom", order=[0, 100000])
    assert caught.value.field == "custom_order[1]", caught.value.field


def test_transform_keep_is_identity_and_zero_phase_is_not(client):
    x = glide()
    kept, sr = client.transform(x, SR, preset="librosa", phase="keep", length=len(x))
    assert sr == SR and len(kept) == len(x)
    np.testing.assert_allclose(kept, x, atol=1e-4)
    zero, _ = client.transform(x, SR, preset="librosa", phase="zero", length=len(x))
    assert spectral_convergence(x, zero) > 0.5
    muted, _ = client.transform(x, SR, preset="librosa", band_mutes=[(0, 4000)], length=len(x))
    assert np.sqrt(np.mean(muted ** 2)) < 0.1 * np.sqrt(np.mean(x ** 2))


# --- Render ------------------------------------------------------------------------------

def test_render_returns_png(client):
    x = glide(0.5)
    png = client.render(x, SR)
    assert isinstance(png, bytes) and png.startswith(PNG_SIGNATURE)
    bare = client.render(x, SR, view="mel", width=200, height=100, colormap="magma", bare=True, full=True)
    assert bare.png.startswith(PNG_SIGNATURE)
    assert (bare.width, bare.height) == (200, 100)
    assert bare.value_unit == "dB"
    # The figure frames the same heatmap with axes, labels and a colour bar.
    figure = client.render(x, SR, view="mel", width=200, height=100, colormap="magma", full=True)
    assert figure.width > 200 and figure.height > 100

    stft = client.analyze(x, SR, kind="complex-stft")
    phase_png = client.render(stft, view="phase", kind="complex-stft", bare=True, full=True)
    assert phase_png.png.startswith(PNG_SIGNATURE)
    assert (phase_png.width, phase_png.height) == (stft.shape[1], stft.shape[0])
