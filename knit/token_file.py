"""Hadoop's token storage file (``$HADOOP_TOKEN_FILE_LOCATION`` in a container): the
secret keys the ApplicationMaster put there, such as a container's own credential.

The format is Hadoop's ``Credentials`` in its Writable form: ``HDTS``, a version
byte (0), the tokens (each an alias and four length-prefixed fields), then the secret
keys (alias, length, bytes); numbers are Hadoop's variable-length integers.
"""

from __future__ import annotations

import io
from pathlib import Path

from .exceptions import KnitValueError

MAGIC = b"HDTS"


def read_vlong(stream: io.BytesIO) -> int:
    """One of Hadoop's variable-length integers (``WritableUtils.readVLong``)."""
    first = _byte(stream)
    if first >= 256 - 112 or first < 128:  # one byte, -112 to 127
        return first - 256 if first >= 128 else first
    signed = first - 256
    negative = signed < -120
    size = (-119 - signed) if negative else (-111 - signed)
    value = 0
    for _ in range(size - 1):
        value = (value << 8) | _byte(stream)
    return ~value if negative else value


def _byte(stream: io.BytesIO) -> int:
    data = stream.read(1)
    if not data:
        raise KnitValueError("the token file ends early")
    return data[0]


def _field(stream: io.BytesIO) -> bytes:
    size = read_vlong(stream)
    data = stream.read(size)
    if size < 0 or len(data) != size:
        raise KnitValueError("the token file ends early")
    return data


def secret_keys(data: bytes) -> dict[str, bytes]:
    """The secret keys of a token file's bytes, by alias.

    Raises
    ------
    KnitValueError
        Not a token file of a version this reads.
    """
    if data[:4] != MAGIC or len(data) < 5:
        raise KnitValueError("not a Hadoop token file (no HDTS header)")
    if data[4] != 0:
        raise KnitValueError(f"a Hadoop token file of version {data[4]}; knit reads version 0")
    stream = io.BytesIO(data[5:])
    for _ in range(read_vlong(stream)):  # tokens: alias, identifier, password, kind, service
        for _ in range(5):
            _field(stream)
    return {_field(stream).decode(): _field(stream) for _ in range(read_vlong(stream))}


def read_secret_keys(path: str | Path) -> dict[str, bytes]:
    """:func:`secret_keys` of a file."""
    return secret_keys(Path(path).read_bytes())
