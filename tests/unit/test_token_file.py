"""knit reads the secret keys of Hadoop's token file (the Writable form that
``Credentials.writeTokenStorageToStream`` writes); the real file a NodeManager
writes is read in tests/integration/test_services.py."""

import io

import pytest

from knit.exceptions import KnitValueError
from knit.token_file import read_vlong, secret_keys


def vlong(i: int) -> bytes:
    """Hadoop's WritableUtils.writeVLong, written from its documented format."""
    if -112 <= i <= 127:
        return bytes([i & 0xFF])
    base = -112
    if i < 0:
        i, base = ~i, -120
    size = max(1, (i.bit_length() + 7) // 8)
    return bytes([(base - size) & 0xFF]) + i.to_bytes(size, "big")


def field(data: bytes) -> bytes:
    return vlong(len(data)) + data


@pytest.mark.parametrize("value", [0, 1, -1, 127, -112, 128, -113, 300, 65536, -70000, 10**12])
def test_variable_length_integers(value):
    assert read_vlong(io.BytesIO(vlong(value))) == value


def test_the_secret_keys_after_the_tokens():
    token = b"".join(field(part) for part in (b"alias", b"identifier", b"password" * 40,
                                              b"HDFS_DELEGATION_TOKEN", b"127.0.0.1:9000"))
    credential = b"ab" * 32
    data = (b"HDTS\x00" + vlong(1) + token + vlong(2) + field(b"knit.container.credential")
            + field(credential) + field(b"other") + field(b"\x00\xff"))
    assert secret_keys(data) == {"knit.container.credential": credential, "other": b"\x00\xff"}


def test_what_is_not_a_token_file_is_refused():
    with pytest.raises(KnitValueError, match="no HDTS header"):
        secret_keys(b"PK\x03\x04")
    with pytest.raises(KnitValueError, match="version 1"):
        secret_keys(b"HDTS\x01")
    with pytest.raises(KnitValueError, match="ends early"):
        secret_keys(b"HDTS\x00" + vlong(1) + field(b"alias"))
