# Copyright specinv authors.
"""Exceptions raised by :class:`specinv.Client`.

Every failed call raises a subclass of :class:`Error` chosen by the gRPC status
code (``INVALID_ARGUMENT`` -> :class:`InvalidArgument`, ...). The exception
carries what the server attached to the status:

* ``field``: the request field the error is about, e.g. ``"config.hop_length"``
  or ``"requests[2].mel"`` (from the ``google.rpc.BadRequest`` detail the server
  puts in the ``grpc-status-details-bin`` trailer);
* ``retry_after``: seconds to wait before retrying an overloaded server (from
  the ``google.rpc.RetryInfo`` detail, else the ``grpc-retry-pushback-ms``
  trailer);
* ``request_id``: the server's ``x-request-id`` trailer, to find the call in its
  logs.

Arguments rejected by the client before anything is sent raise
:class:`InvalidArgument` too, with ``field`` naming the keyword argument.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple, Type

import grpc

__all__ = [
    "Error", "Cancelled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
    "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
    "FieldViolation",
]

FieldViolation = Tuple[str, str]
"""(field path, description) of one offending request field."""


class Error(Exception):
    """A failed specinv call.

    Attributes:
        code: the gRPC status code.
        message: the server's message (or the client's, for local checks).
        field: path of the offending request field, or ``None``.
        violations: every (field, description) pair the server attached.
        retry_after: seconds the server asks the client to wait, or ``None``.
        request_id: the server's ``x-request-id`` for this call, or ``None``.
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, *, code: Optional[grpc.StatusCode] = None,
                 field: Optional[str] = None, violations: Sequence[FieldViolation] = (),
                 retry_after: Optional[float] = None, request_id: Optional[str] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.violations: List[FieldViolation] = list(violations)
        if field is None and self.violations:
            field = self.violations[0][0]
        self.field = field
        self.retry_after = retry_after
        self.request_id = request_id

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}" if self.message else self.code.name

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.message!r}, field={self.field!r}, "
                f"retry_after={self.retry_after!r}, request_id={self.request_id!r})")


class Cancelled(Error):
    """The call was cancelled (``CANCELLED``)."""
    code = grpc.StatusCode.CANCELLED


class Unknown(Error):
    """``UNKNOWN``."""
    code = grpc.StatusCode.UNKNOWN


class InvalidArgument(Error, ValueError):
    """The request is invalid (``INVALID_ARGUMENT``); ``field`` names the field."""
    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(Error):
    """The call ran past its deadline, or a stream idled too long (``DEADLINE_EXCEEDED``)."""
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(Error):
    """``NOT_FOUND``."""
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(Error):
    """``ALREADY_EXISTS``."""
    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(Error):
    """``PERMISSION_DENIED``."""
    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(Error):
    """The server is saturated or a limit was exceeded (``RESOURCE_EXHAUSTED``).

    ``retry_after`` is set when the server's queue was full.
    """
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(Error):
    """``FAILED_PRECONDITION``."""
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(Error):
    """``ABORTED``."""
    code = grpc.StatusCode.ABORTED


class OutOfRange(Error):
    """``OUT_OF_RANGE``."""
    code = grpc.StatusCode.OUT_OF_RANGE


class Unimplemented(Error):
    """The server does not provide this RPC (``UNIMPLEMENTED``)."""
    code = grpc.StatusCode.UNIMPLEMENTED


class Internal(Error):
    """``INTERNAL``."""
    code = grpc.StatusCode.INTERNAL


class Unavailable(Error):
    """The server cannot be reached or is shutting down (``UNAVAILABLE``)."""
    code = grpc.StatusCode.UNAVAILABLE


class DataLoss(Error):
    """A response could not be decoded (``DATA_LOSS``)."""
    code = grpc.StatusCode.DATA_LOSS


class Unauthenticated(Error):
    """No valid bearer token (``UNAUTHENTICATED``)."""
    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE: Dict[grpc.StatusCode, Type[Error]] = {
    cls.code: cls for cls in (Cancelled, Unknown, InvalidArgument, DeadlineExceeded, NotFound,
                              AlreadyExists, PermissionDenied, ResourceExhausted,
                              FailedPrecondition, Aborted, OutOfRange, Unimplemented, Internal,
                              Unavailable, DataLoss, Unauthenticated)
}


def error_class(code: grpc.StatusCode) -> Type[Error]:
    """The :class:`Error` subclass of a gRPC status code."""
    return _BY_CODE.get(code, Error)


# --- google.rpc.Status in the grpc-status-details-bin trailer ----------------
#
# Decoded with a few lines of protobuf wire format rather than generated
# google.rpc modules, so the package defines no google.* modules of its own
# (which would clash with googleapis-common-protos when both are installed).

_STATUS_DETAILS_KEY = "grpc-status-details-bin"
_PUSHBACK_KEY = "grpc-retry-pushback-ms"
_REQUEST_ID_KEY = "x-request-id"
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


def _varint(data: bytes, pos: int) -> Tuple[int, int]:
    value = 0
    shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> List[Tuple[int, object]]:
    """(field number, int or bytes) of every field of a serialized message."""
    out: List[Tuple[int, object]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire_type == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated field")
            out.append((number, data[pos:pos + length]))
            pos += length
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire_type}")
    return out


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def parse_status_details(blob: bytes) -> Tuple[List[FieldViolation], Optional[float]]:
    """Field violations and retry delay (s) of a serialized google.rpc.Status."""
    violations: List[FieldViolation] = []
    retry_after: Optional[float] = None
    try:
        for number, value in _fields(blob):
            if number != 3 or not isinstance(value, bytes):  # Status.details (Any)
                continue
            any_fields = _fields(value)
            type_url = next((_text(v) for n, v in any_fields if n == 1), "")
            payload = next((v for n, v in any_fields if n == 2 and isinstance(v, bytes)), b"")
            if type_url == _BAD_REQUEST:
                for n, violation in _fields(payload):
                    if n != 1 or not isinstance(violation, bytes):
                        continue
                    parts = dict(_fields(violation))
                    violations.append((_text(parts.get(1, b"")), _text(parts.get(2, b""))))
            elif type_url == _RETRY_INFO:
                for n, duration in _fields(payload):
                    if n == 1 and isinstance(duration, bytes):
                        parts = dict(_fields(duration))
                        seconds = int(parts.get(1, 0))  # type: ignore[arg-type]
                        nanos = int(parts.get(2, 0))  # type: ignore[arg-type]
                        retry_after = seconds + nanos / 1e9
    except ValueError:
        pass  # a malformed detail leaves the error without it
    return violations, retry_after


def from_rpc_error(error: grpc.RpcError) -> Error:
    """The :class:`Error` for a failed gRPC call (``grpc.RpcError`` that is a ``grpc.Call``)."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = (error.details() if hasattr(error, "details") else str(error)) or ""
    trailers = {}
    if hasattr(error, "trailing_metadata"):
        for key, value in error.trailing_metadata() or ():
            trailers.setdefault(key, value)
    violations: List[FieldViolation] = []
    retry_after: Optional[float] = None
    details = trailers.get(_STATUS_DETAILS_KEY)
    if isinstance(details, bytes):
        violations, retry_after = parse_status_details(details)
    if retry_after is None and _PUSHBACK_KEY in trailers:
        try:
            ms = int(trailers[_PUSHBACK_KEY])
            if ms >= 0:
                retry_after = ms / 1000.0
        except (TypeError, ValueError):
            pass
    request_id = trailers.get(_REQUEST_ID_KEY)
    if isinstance(request_id, bytes):
        request_id = request_id.decode("utf-8", "replace")
    return error_class(code)(message, code=code, violations=violations, retry_after=retry_after,
                             request_id=request_id)
