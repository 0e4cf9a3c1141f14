"""Uploaded files judged by their content (shared by every app that accepts photos or scans)."""

from __future__ import annotations

# What a photo may be: the first bytes of each accepted format.
_IMAGE_MAGIC: list[tuple[bytes, int, str]] = [
    (b"\xff\xd8\xff", 0, ".jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, ".png"),
    (b"WEBP", 8, ".webp"),
    (b"ftypheic", 4, ".heic"),
    (b"ftypheix", 4, ".heic"),
    (b"ftypmif1", 4, ".heic"),
]


def image_extension(head: bytes) -> str | None:
    """The file extension of an accepted photo format, judged by content (not by the name)."""
    for magic, offset, ext in _IMAGE_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            if ext == ".webp" and head[:4] != b"RIFF":
                continue
            return ext
    return None
