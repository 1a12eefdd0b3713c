"""Text frames framed by hand carry the length RFC 6455 (section 5.2) says, in its three forms."""

import struct

import pytest

from chatd.infrastructure.ws_writer import text_frame


def declared_length(frame: bytes) -> tuple[int, int]:
    """(payload length, header size) as a reader decodes them."""
    short = frame[1] & 0x7F
    if short == 126:
        return struct.unpack("!H", frame[2:4])[0], 4
    if short == 127:
        return struct.unpack("!Q", frame[2:10])[0], 10
    return short, 2


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_text_frames_of_every_length_class(size):
    payload = b"x" * size
    frame = text_frame(payload)
    length, header = declared_length(frame)
    assert frame[0] == 0x81 and frame[1] & 0x80 == 0, "final text frame, not masked"
    assert length == size and frame[header:] == payload
