"""What the main story needs in more than one end-to-end test: the seed rule and a drawn signature."""

from __future__ import annotations

import base64

RULE = {
    "name": "Approve on signing",
    "trigger": "task.signed",
    "conditions": [{"field": "task.phase", "op": "eq", "value": "Waiting for approval"}],
    "actions": [{"type": "set_phase", "phase": "Approved"}],
}


def drawn_signature_png() -> str:
    """A small PNG with a stroke on it, as the portal's canvas would send."""
    import struct
    import zlib

    width, height = 60, 20
    rows = b"".join(
        b"\x00"
        + b"".join(b"\x00\x00\x00\xff" if y == 10 and 5 <= x <= 55 else b"\xff\xff\xff\x00" for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode()
