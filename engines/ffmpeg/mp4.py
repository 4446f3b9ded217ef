"""The sample count of an MP4/MOV file's first video track, read from its boxes.

Every render is checked by counting the frames of its output. Counting packets with PyAV costs
its import (~45 ms) and a pass over the file: most of a short preview's verification in a cold
process. The count is already written in the file: the ``stsz`` box of the video
track's sample table, one sample per frame. The boxes are read with ``struct`` (a few reads of a
few bytes); anything this reader does not know (a fragmented file, a damaged or foreign box
tree) answers ``None`` and the caller counts packets as before. Why not a library: the parsers
on PyPI read whole files into objects or are unmaintained, and this is forty lines of a
published, stable layout (ISO/IEC 14496-12 §8.7.3).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO, Iterator

_CONTAINERS = {b"trak", b"mdia", b"minf", b"stbl"}
_MAX_MOOV = 256 * 1024 * 1024  # a moov box larger than this is not one of ours: let PyAV count


def video_sample_count(path: str | Path) -> int | None:
    """Samples in the first video track of an MP4/MOV file, or None when it cannot tell."""
    try:
        with open(path, "rb") as f:
            moov = _top_level_moov(f)
    except OSError:
        return None
    if moov is None or any(kind == b"mvex" for kind, _ in _boxes(moov)):  # fragmented: samples are in moofs
        return None
    for kind, trak in _boxes(moov):
        if kind == b"trak":
            count = _video_track_samples(trak)
            if count is not None:
                return count
    return None


def _top_level_moov(f: BinaryIO) -> bytes | None:
    while True:
        header = f.read(8)
        if len(header) < 8:
            return None
        size, kind = struct.unpack(">I4s", header)
        body = size - 8
        if size == 1:  # 64-bit size
            large = f.read(8)
            if len(large) < 8:
                return None
            body = struct.unpack(">Q", large)[0] - 16
        elif size == 0:  # to the end of the file
            body = -1
        if body < -1:
            return None
        if kind == b"moov":
            if body < 0 or body > _MAX_MOOV:
                return None
            data = f.read(body)
            return data if len(data) == body else None
        if body < 0:
            return None
        f.seek(body, 1)


def _boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The (type, payload) boxes directly inside ``data``; stops at the first malformed one."""
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        head = 8
        if size == 1 and pos + 16 <= len(data):
            size, head = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = len(data) - pos
        if size < head or pos + size > len(data):
            return
        yield kind, data[pos + head: pos + size]
        pos += size


def _video_track_samples(trak: bytes) -> int | None:
    found: dict[bytes, bytes] = {}

    def walk(data: bytes) -> None:
        for kind, payload in _boxes(data):
            if kind in _CONTAINERS:
                walk(payload)
            elif kind in (b"hdlr", b"stsz") and kind not in found:
                found[kind] = payload

    walk(trak)
    hdlr = found.get(b"hdlr", b"")
    if len(hdlr) < 12 or hdlr[8:12] != b"vide":
        return None
    if b"stsz" in found and len(found[b"stsz"]) >= 12:
        _, sample_size, count = struct.unpack_from(">III", found[b"stsz"])
        if sample_size:
            return count
        if len(found[b"stsz"]) < 12 + 4 * count:
            return None
        return sum(1 for size in struct.unpack_from(f">{count}I", found[b"stsz"], 12) if size)
    return None  # no stsz (ffmpeg never writes the compact stz2): let PyAV count
