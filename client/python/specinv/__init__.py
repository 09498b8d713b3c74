# Copyright specinv authors.
"""Python client of the specinv service: audio -> spectrograms -> audio.

NumPy arrays in, NumPy arrays out::

    import numpy as np, specinv

    with specinv.Client("localhost:50051") as client:
        mel = client.analyze(np.sin(np.arange(22050) * 0.1), 22050)   # (80, frames) log-mel
        audio, sr = client.invert_mel(mel)                              # float32 samples, 22050

Failed calls raise :class:`specinv.Error` subclasses (InvalidArgument,
ResourceExhausted, Unavailable, DeadlineExceeded, Unauthenticated, ...) that
carry the gRPC code and the offending request field.
"""

from specinv.client import (Client, InversionResult, Preset, Progress, RenderResult, ReorderResult,
                            ServerInfo, ServerLimits, VocodeStream, VocodeSummary, VERSION)
from specinv.errors import (Aborted, AlreadyExists, Cancelled, DataLoss, DeadlineExceeded, Error,
                            FailedPrecondition, Internal, InvalidArgument, NotFound, OutOfRange,
                            PermissionDenied, ResourceExhausted, Unauthenticated, Unavailable,
                            Unimplemented, Unknown)

__version__ = VERSION

__all__ = [
    "Client", "InversionResult", "Preset", "Progress", "RenderResult", "ReorderResult", "ServerInfo",
    "ServerLimits", "VocodeStream", "VocodeSummary",
    "Error", "Aborted", "AlreadyExists", "Cancelled", "DataLoss", "DeadlineExceeded",
    "FailedPrecondition", "Internal", "InvalidArgument", "NotFound", "OutOfRange", "PermissionDenied",
    "ResourceExhausted", "Unauthenticated", "Unavailable", "Unimplemented", "Unknown",
]
