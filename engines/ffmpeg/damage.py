"""Damaged media found by decoding a whole source: where its decoders complain, and when.

Decoders conceal damage (a corrupted packet becomes a smeared picture or a click, a missing
keyframe greys out a GOP) and ffmpeg carries on: a render of a damaged source completes with the
right frame count and says nothing. Decoding every packet in process (PyAV) with libav's log
captured ties each complaint to the packet being decoded, so the damage gets time spans in the
source; demuxing that stops early (a truncated file) is damage from there to the end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from engines.errors import AssetError
from engines.redaction import redact_paths

from .stderr import DECODE_ERROR

MERGE_GAP = Fraction(1)       # complaints closer than this are one span
SPAN_MARGIN = Fraction(1, 4)  # decoder threads log a few frames after the packet that was bad


@dataclass(frozen=True)
class DamageSpan:
    """Source seconds ``[start, end)`` of one stream where decoding found damage."""
    stream: str          # "video" | "audio" | "file"
    start: Fraction
    end: Fraction
    errors: int          # complaints in the span
    example: str         # the first complaint, as libav wrote it

    def to_dict(self) -> dict[str, Any]:
        return {"stream": self.stream, "start": _text(self.start), "end": _text(self.end),
                "start_seconds": round(float(self.start), 3), "end_seconds": round(float(self.end), 3),
                "errors": self.errors, "example": self.example}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DamageSpan":
        return cls(d["stream"], Fraction(d["start"]), Fraction(d["end"]), int(d["errors"]), d["example"])


def _text(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def scan_damage(path: str | os.PathLike[str]) -> list[DamageSpan]:
    """Decode every audio and video packet of ``path``; the spans where decoding found damage."""
    import av
    import av.logging

    hits: list[tuple[str, Fraction, Fraction, str]] = []  # (stream, start, end, message)
    duration = Fraction(0)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError) as exc:
        raise AssetError(f"cannot read media file {os.path.basename(str(path))}: {exc}", stage="probe",
                         path=str(path), hint="the file is not a media file ffmpeg can open") from None
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with container, av.logging.Capture() as logs:
            claimed = Fraction(container.duration, 1_000_000) if container.duration else Fraction(0)
            streams = [s for s in (*container.streams.video[:1], *container.streams.audio[:1])]
            kinds = {s.index: s.type for s in streams}
            last_end = {s.index: Fraction(0) for s in streams}
            seen = 0
            demux = container.demux(streams)
            while True:
                try:
                    packet = next(demux)
                except StopIteration:
                    break
                except av.FFmpegError as exc:  # demuxing stopped early: a truncated or broken file
                    end = max(last_end.values(), default=Fraction(0))
                    hits.append(("file", end, end, redact_paths(f"demuxing stopped: {exc}")))
                    break
                index = packet.stream.index
                at, until = _packet_span(packet, last_end[index])
                try:
                    packet.decode()
                except av.FFmpegError as exc:
                    hits.append((kinds[index], at, until, redact_paths(str(exc))))
                if packet.pts is not None:
                    last_end[index] = max(last_end[index], until)
                duration = max(duration, until)
                for _level, name, message in logs[seen:]:
                    text = redact_paths(f"[{name}] {message.strip()}" if name else message.strip())
                    if DECODE_ERROR.search(message) or "partial file" in message:
                        stream = "file" if name and "mov" in name else kinds[index]
                        hits.append((stream, at, until, text))
                seen = len(logs)
    finally:
        av.logging.set_level(previous)
    # a truncated file still claims its full length: "file" damage runs to what it claims
    duration = max(duration, claimed, max((h[2] for h in hits), default=Fraction(0)))
    return merge_spans(hits, duration)


def _packet_span(packet: Any, fallback: Fraction) -> tuple[Fraction, Fraction]:
    if packet.pts is None or packet.time_base is None:
        return fallback, fallback
    start = Fraction(packet.pts) * packet.time_base
    return start, start + Fraction(packet.duration or 0) * packet.time_base


def merge_spans(hits: list[tuple[str, Fraction, Fraction, str]], duration: Fraction) -> list[DamageSpan]:
    """One span per stream and cluster of complaints (closer than ``MERGE_GAP``), widened by
    ``SPAN_MARGIN`` and clipped to the file; "file" damage (demuxing stopped) runs to its end."""
    spans: list[DamageSpan] = []
    for stream in ("file", "video", "audio"):
        mine = sorted((h for h in hits if h[0] == stream), key=lambda h: (h[1], h[2]))
        current: list[Any] | None = None
        for _, start, end, message in mine:
            lo, hi = max(Fraction(0), start - SPAN_MARGIN), end + SPAN_MARGIN
            if stream == "file":
                hi = max(hi, duration)
            if current is not None and lo <= current[1] + MERGE_GAP:
                current[1] = max(current[1], hi)
                current[2] += 1
            else:
                if current is not None:
                    spans.append(DamageSpan(stream, current[0], current[1], current[2], current[3]))
                current = [lo, hi, 1, message]
        if current is not None:
            spans.append(DamageSpan(stream, current[0], current[1], current[2], current[3]))
    return [s if s.end <= duration or duration == 0 else DamageSpan(s.stream, s.start, max(s.start, duration),
                                                                   s.errors, s.example) for s in spans]
