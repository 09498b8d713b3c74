# Copyright specinv authors.
"""Conversions between Python / NumPy values and specinv.v1 messages.

Mirrors the C++ command-line client: enumeration values are written as in the
API without their prefix, lower case, ``-`` or ``_`` ("sqrt-hann",
"pghi_fgla", "frames-bins"); spectrogram tensors travel as little-endian
float32 (``float32_data``) with ``shape`` and ``layout``; audio arrays as raw
PCM (``AUDIO_ENCODING_PCM_FLOAT32_LE``, or ``PCM_INT16_LE`` for int16 arrays);
audio files (bytes or a path) as ``encoded_data`` whose container the server
detects; returned audio is asked for as raw float32 PCM (lossless).
"""

from __future__ import annotations

import io
import numbers
import operator
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from specinv.errors import DataLoss, InvalidArgument
from specinv.v1 import audio_pb2, inversion_pb2, spectrogram_config_pb2 as config_pb2, tensor_pb2

AudioInput = Union[np.ndarray, Sequence[float], bytes, bytearray, memoryview, str, "os.PathLike[str]"]
"""Audio a call accepts: a NumPy array of samples ((samples,) mono or
(samples, channels) interleaved; float or int16), the bytes of an audio file
(WAV incl. mu-law/A-law, FLAC, OGG/Vorbis, OGG/Opus, MP3), or the path of one."""


# --- enumerations -------------------------------------------------------------

def _enum_prefix(descriptor: Any) -> str:
    zero = descriptor.values_by_number.get(0)
    if zero is None or not zero.name.endswith("UNSPECIFIED"):
        return ""
    return zero.name[: -len("UNSPECIFIED")]


def enum_names(enum: Any) -> List[str]:
    """Spellings of an enum's values ("hann", "sqrt-hann", ...), UNSPECIFIED left out."""
    descriptor = enum.DESCRIPTOR
    prefix = _enum_prefix(descriptor)
    return [v.name[len(prefix):].lower().replace("_", "-") for v in descriptor.values if v.number != 0]


def enum_name(enum: Any, number: int) -> str:
    """Spelling of one value ("pghi-fgla" for INVERSION_METHOD_PGHI_FGLA)."""
    descriptor = enum.DESCRIPTOR
    value = descriptor.values_by_number.get(number)
    if value is None:
        return str(number)
    return value.name[len(_enum_prefix(descriptor)):].lower().replace("_", "-")


def parse_enum(enum: Any, value: Any, field: str) -> int:
    """A value of `enum` from its spelling (case-insensitive, '-' same as '_'),
    its full name ("WINDOW_HANN") or its number."""
    descriptor = enum.DESCRIPTOR
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if int(value) in descriptor.values_by_number:
            return int(value)
    elif isinstance(value, str):
        wanted = value.strip().upper().replace("-", "_")
        prefix = _enum_prefix(descriptor)
        for name in (prefix + wanted, wanted):
            found = descriptor.values_by_name.get(name)
            if found is not None and wanted not in ("", "UNSPECIFIED"):
                return found.number
    raise InvalidArgument(f"{field} must be one of {', '.join(enum_names(enum))}, got {value!r}",
                          field=field)


# --- scalars --------------------------------------------------------------------

def as_int(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise InvalidArgument(f"{field} must be an integer, got {value!r}", field=field)
    try:
        return operator.index(value)
    except TypeError:
        if isinstance(value, numbers.Real) and float(value).is_integer():
            return int(value)
        raise InvalidArgument(f"{field} must be an integer, got {value!r}", field=field) from None


def as_float(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgument(f"{field} must be a number, got {value!r}", field=field)
    return float(value)


def as_bool(value: Any, field: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InvalidArgument(f"{field} must be True or False, got {value!r}", field=field)


def _setter(message: Any, name: str, value: Any, field: str) -> None:
    try:
        setattr(message, name, value)
    except (TypeError, ValueError) as e:
        raise InvalidArgument(f"{field}: {e}", field=field) from None


# --- SpectrogramConfig -----------------------------------------------------------

# keyword -> (proto field, kind); kinds: int, float, bool, or an enum wrapper.
CONFIG_FIELDS: Dict[str, Tuple[str, Any]] = {
    "sample_rate_hertz": ("sample_rate_hertz", float),
    "n_fft": ("n_fft", int),
    "hop_length": ("hop_length", int),
    "win_length": ("win_length", int),
    "window": ("window", config_pb2.Window),
    "center": ("center", bool),
    "pad_mode": ("pad_mode", config_pb2.PadMode),
    "framing": ("framing", config_pb2.Framing),
    "magnitude_epsilon": ("magnitude_epsilon", float),
    "power": ("power", float),
    "n_mels": ("n_mels", int),
    "fmin_hertz": ("fmin_hertz", float),
    "fmax_hertz": ("fmax_hertz", float),
    "mel_scale": ("mel_scale", config_pb2.MelScale),
    "mel_norm": ("mel_norm", config_pb2.MelNorm),
    "drop_last_frame": ("drop_last_frame", bool),
}
CONFIG_ALIASES = {"fmin": "fmin_hertz", "fmax": "fmax_hertz"}
# keyword -> ScaleConfig field.
SCALE_FIELDS: Dict[str, Tuple[str, Any]] = {
    "scale": ("kind", config_pb2.ScaleKind),
    "ref": ("ref_value", float),
    "ref_max": ("ref_max", bool),
    "amin": ("amin", float),
    "top_db": ("top_db", float),
    "no_top_db": ("no_top_db", bool),
    "clamp": ("clamp", float),
}
CONFIG_KEYWORDS = frozenset(CONFIG_FIELDS) | frozenset(CONFIG_ALIASES) | frozenset(SCALE_FIELDS)


def _convert(kind: Any, value: Any, field: str) -> Any:
    if kind is int:
        return as_int(value, field)
    if kind is float:
        return as_float(value, field)
    if kind is bool:
        return as_bool(value, field)
    return parse_enum(kind, value, field)


def spectrogram_config(preset: Optional[str], options: Mapping[str, Any]) -> config_pb2.SpectrogramConfig:
    """A SpectrogramConfig from a preset name and keyword overrides.

    Only the keywords given are set, so the preset's values hold elsewhere. A
    value of ``None`` leaves the field unset, except ``top_db=None``, which
    means no dB floor (librosa's ``top_db=None``).
    """
    config = config_pb2.SpectrogramConfig(preset=preset or "")
    scale = config_pb2.ScaleConfig()
    for key, value in options.items():
        if key == "top_db" and value is None:
            scale.no_top_db = True
            continue
        if value is None:
            continue
        if key in SCALE_FIELDS:
            name, kind = SCALE_FIELDS[key]
            _setter(scale, name, _convert(kind, value, key), key)
            continue
        name, kind = CONFIG_FIELDS[CONFIG_ALIASES.get(key, key)]
        _setter(config, name, _convert(kind, value, key), key)
    if scale.ByteSize() > 0:
        config.scale.CopyFrom(scale)
    return config


def config_to_dict(config: config_pb2.SpectrogramConfig) -> Dict[str, Any]:
    """The fields set in a SpectrogramConfig under the keyword names the calls
    accept (enums spelt as strings), so ``client.analyze(x, sr, **d)`` reuses it."""
    out: Dict[str, Any] = {}
    if config.preset:
        out["preset"] = config.preset
    for key, (name, kind) in CONFIG_FIELDS.items():
        if name == "preset":
            continue
        if kind in (int, float, bool):
            if config.HasField(name):
                out[key] = getattr(config, name)
        elif getattr(config, name) != 0:
            out[key] = enum_name(kind, getattr(config, name))
    if config.HasField("scale"):
        for key, (name, kind) in SCALE_FIELDS.items():
            if kind in (int, float, bool):
                if config.scale.HasField(name):
                    out[key] = getattr(config.scale, name)
            elif getattr(config.scale, name) != 0:
                out[key] = enum_name(kind, getattr(config.scale, name))
    return out


# --- InversionOptions ------------------------------------------------------------

INVERSION_FIELDS: Dict[str, Tuple[str, Any]] = {
    "method": ("method", inversion_pb2.InversionMethod),
    "iterations": ("iterations", int),
    "momentum": ("momentum", float),
    "phase_init": ("phase_init", inversion_pb2.PhaseInit),
    "seed": ("seed", int),
    "tolerance": ("tolerance", float),
    "time_budget_seconds": ("time_budget_seconds", float),
    "refine_iterations": ("refine_iterations", int),
    "refine_log_domain": ("refine_log_domain", bool),
    "progress_interval_iterations": ("progress_interval_iterations", int),
    "mel_inverse": ("mel_inverse", inversion_pb2.MelInverse),
    "nnls_iterations": ("nnls_iterations", int),
}
INVERSION_KEYWORDS = frozenset(INVERSION_FIELDS) | {"initial_phase"}


def inversion_options(options: Mapping[str, Any], layout: int) -> inversion_pb2.InversionOptions:
    """InversionOptions from keywords (``initial_phase``: an array in `layout`)."""
    message = inversion_pb2.InversionOptions()
    for key, value in options.items():
        if value is None:
            continue
        if key == "initial_phase":
            message.initial_phase.CopyFrom(tensor_from_array(value, "initial_phase", layout))
            if "phase_init" not in options or options["phase_init"] is None:
                message.phase_init = inversion_pb2.PHASE_INIT_GIVEN
            continue
        name, kind = INVERSION_FIELDS[key]
        _setter(message, name, _convert(kind, value, key), key)
    return message


def split_options(options: Mapping[str, Any], groups: Sequence[Iterable[str]],
                  function: str) -> List[Dict[str, Any]]:
    """Splits keyword arguments between option groups; TypeError for unknown ones."""
    out: List[Dict[str, Any]] = [{} for _ in groups]
    for key, value in options.items():
        for i, group in enumerate(groups):
            if key in group:
                out[i][key] = value
                break
        else:
            raise TypeError(f"{function}() got an unexpected keyword argument {key!r}")
    return out


# --- tensors ---------------------------------------------------------------------

def parse_layout(layout: Any) -> int:
    """A TensorLayout from "bins-frames" / "frames-bins" (or the enum)."""
    return parse_enum(tensor_pb2.TensorLayout, layout, "layout")


def as_real_matrix(array: Any, field: str) -> np.ndarray:
    """A 2-D finite-typed real array as C-ordered little-endian float32."""
    try:
        a = np.asarray(array)
    except (TypeError, ValueError) as e:
        raise InvalidArgument(f"{field}: not an array ({e})", field=field) from None
    if a.ndim != 2:
        raise InvalidArgument(f"{field} must be a 2-D array, got shape {a.shape}", field=field)
    if np.iscomplexobj(a) or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise InvalidArgument(f"{field} must be a real array, got dtype {a.dtype}", field=field)
    return np.ascontiguousarray(a, dtype="<f4")


def tensor_from_array(array: Any, field: str, layout: int,
                      complex_ok: bool = False) -> tensor_pb2.Tensor:
    """A 2-D array as a Tensor with float32_data, shape and layout. With
    `complex_ok`, a complex array becomes (bins, frames, 2) (real, imaginary)."""
    a = np.asarray(array)
    if complex_ok and np.iscomplexobj(a):
        if a.ndim != 2:
            raise InvalidArgument(f"{field} must be a 2-D array, got shape {a.shape}", field=field)
        values = np.ascontiguousarray(np.stack([a.real, a.imag], axis=-1), dtype="<f4")
    else:
        values = as_real_matrix(a, field)
    return tensor_pb2.Tensor(shape=list(values.shape), float32_data=values.tobytes(), layout=layout)


def array_from_tensor(tensor: tensor_pb2.Tensor, complex_pairs: bool = False) -> np.ndarray:
    """A returned Tensor as a NumPy array (float32; complex64 when
    `complex_pairs` and the last axis holds (real, imaginary))."""
    shape = tuple(int(d) for d in tensor.shape)
    which = tensor.WhichOneof("content")
    if which == "npy_data":
        try:
            array = np.load(io.BytesIO(tensor.npy_data), allow_pickle=False)
        except ValueError as e:
            raise DataLoss(f"returned .npy tensor: {e}") from None
        if shape and array.shape != shape:
            raise DataLoss(f"returned tensor shape {array.shape} disagrees with {shape}")
        if np.iscomplexobj(array):
            return array.astype(np.complex64)
        array = array.astype(np.float32)
    else:
        data = tensor.float32_data
        count = int(np.prod(shape)) if shape else 0
        if not shape or len(data) != 4 * count:
            raise DataLoss(f"returned tensor of shape {shape} has {len(data)} bytes, expected {4 * count}")
        array = np.frombuffer(data, dtype="<f4").reshape(shape).astype(np.float32)
    if complex_pairs and array.ndim >= 1 and array.shape[-1] == 2:
        return (array[..., 0] + 1j * array[..., 1]).astype(np.complex64)
    return array


# --- audio -----------------------------------------------------------------------

def audio_message(audio: Any, sample_rate: Optional[float], field: str = "audio") -> audio_pb2.Audio:
    """Audio as a message: arrays as raw PCM (float32, or int16 for int16
    arrays; 2-D arrays are (samples, channels)), bytes / paths as an encoded
    file."""
    if isinstance(audio, (bytes, bytearray, memoryview)):
        data = bytes(audio)
        if not data:
            raise InvalidArgument(f"{field} is empty", field=field)
        return audio_pb2.Audio(encoded_data=data)
    if isinstance(audio, (str, os.PathLike)):
        try:
            with open(audio, "rb") as f:
                data = f.read()
        except OSError as e:
            raise InvalidArgument(f"{field}: cannot read {os.fspath(audio)!r}: {e.strerror}",
                                  field=field) from None
        if not data:
            raise InvalidArgument(f"{field}: {os.fspath(audio)!r} is empty", field=field)
        return audio_pb2.Audio(encoded_data=data)
    a = np.asarray(audio)
    if a.ndim not in (1, 2):
        raise InvalidArgument(f"{field} must be 1-D (samples,) or 2-D (samples, channels), got shape {a.shape}",
                              field=field)
    channels = 1 if a.ndim == 1 else a.shape[1]
    if sample_rate is None:
        raise InvalidArgument("sample_rate is required with an array of samples", field="sample_rate")
    rate = as_float(sample_rate, "sample_rate")
    if not rate.is_integer() or rate <= 0:
        raise InvalidArgument(f"sample_rate must be a positive whole number of Hz, got {sample_rate!r}",
                              field="sample_rate")
    if a.dtype == np.int16:
        pcm = np.ascontiguousarray(a, dtype="<i2").tobytes()
        encoding = audio_pb2.AUDIO_ENCODING_PCM_INT16_LE
    elif np.issubdtype(a.dtype, np.floating):
        pcm = np.ascontiguousarray(a, dtype="<f4").tobytes()
        encoding = audio_pb2.AUDIO_ENCODING_PCM_FLOAT32_LE
    else:
        raise InvalidArgument(f"{field} samples must be float (in [-1, 1]) or int16, got dtype {a.dtype}",
                              field=field)
    return audio_pb2.Audio(pcm_data=pcm, encoding=encoding, sample_rate_hertz=int(rate),
                           channel_count=int(channels))


def audio_output(length: Optional[int], output_rate: Optional[int] = None) -> audio_pb2.AudioOutputOptions:
    """Returned audio as raw float32 PCM (lossless), optionally of an exact
    length (samples at the config's rate) and resampled by the server to
    ``output_rate`` Hz (bounds are the server's)."""
    out = audio_pb2.AudioOutputOptions(encoding=audio_pb2.AUDIO_ENCODING_PCM_FLOAT32_LE)
    if length is not None:
        _setter(out, "length_samples", as_int(length, "length"), "length")
    if output_rate is not None:
        _setter(out, "sample_rate_hertz", as_int(output_rate, "output_rate"), "output_rate")
    return out


def pcm_samples(pcm: bytes, encoding: int) -> np.ndarray:
    """Mono float32 samples of raw PCM bytes."""
    if encoding == audio_pb2.AUDIO_ENCODING_PCM_INT16_LE:
        if len(pcm) % 2:
            raise DataLoss(f"int16 PCM of {len(pcm)} bytes")
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / np.float32(32768.0)
    if encoding in (audio_pb2.AUDIO_ENCODING_PCM_FLOAT32_LE, audio_pb2.AUDIO_ENCODING_UNSPECIFIED):
        if len(pcm) % 4:
            raise DataLoss(f"float32 PCM of {len(pcm)} bytes")
        return np.frombuffer(pcm, dtype="<f4").astype(np.float32)
    raise DataLoss(f"unexpected PCM encoding {enum_name(audio_pb2.AudioEncoding, encoding)}")


def samples_from_audio(audio: audio_pb2.Audio) -> Tuple[np.ndarray, int]:
    """Samples and sample rate of returned audio (asked for as raw PCM)."""
    if audio.WhichOneof("content") == "encoded_data":
        raise DataLoss("the server returned an encoded file where raw PCM was asked for")
    return pcm_samples(audio.pcm_data, audio.encoding), int(audio.sample_rate_hertz)


def mel_normalization(mean: Any, std: Any) -> Optional[inversion_pb2.MelNormalization]:
    """Per-bin de-normalisation (x * std + mean), or None when neither is given."""
    if mean is None and std is None:
        return None
    out = inversion_pb2.MelNormalization()
    for name, values in (("mean", mean), ("std", std)):
        if values is None:
            continue
        v = np.asarray(values, dtype=np.float64)
        if v.ndim != 1:
            raise InvalidArgument(f"{name} must be 1-D (n_mels values), got shape {v.shape}", field=name)
        getattr(out, name).extend(float(x) for x in v)
    return out
