"""Progressive previews: the same plan written as an HLS playlist whose segments appear as they
are encoded, so a player can start before the whole window is done.

The codec arguments are the plan's own; only the container changes: MPEG-TS segments of
``SEGMENT_SECONDS`` (a keyframe forced at each boundary, so every segment starts cleanly),
an ``EVENT`` playlist that grows, and ``temp_file`` so no half-written segment is ever listed.
A failed or cancelled encode removes what it wrote.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engines.errors import ValidationError
from engines.model.timebase import parse_fps
from engines.planning.output_args import container_args
from engines.planning.render_plan import RenderPlan
from engines.rendering.renderer import Renderer

SEGMENT_SECONDS = 1
PLAYLIST = "index.m3u8"
SEGMENT_PATTERN = "seg_%05d.ts"
MP4_ONLY = {"-video_track_timescale", "-movflags"}  # muxer options the HLS muxer does not take


@dataclass(frozen=True)
class HlsResult:
    playlist: str
    segments: int
    first_segment_ms: float | None  # from the start of the encode to the first listed segment
    total_ms: float

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["first_segment_ms"] = None if self.first_segment_ms is None else round(self.first_segment_ms)
        d["total_ms"] = round(self.total_ms)
        return d


def hls_output_args(plan: RenderPlan, folder: Path, segment_seconds: int = SEGMENT_SECONDS) -> list[str]:
    """The plan's stream and codec arguments with an HLS container instead of mp4."""
    fps = parse_fps(plan.fps)
    shared = container_args(fps)
    codec = plan.output_args[: len(plan.output_args) - len(shared)]
    assert plan.output_args[len(codec):] == shared, "previews have no extra output flags"
    kept: list[str] = []
    skip = False
    for arg in shared:
        if skip:
            skip = False
        elif arg in MP4_ONLY:
            skip = True
        else:
            kept.append(arg)
    return [*codec, *kept, "-force_key_frames", f"expr:gte(t,n_forced*{segment_seconds})",
            "-f", "hls", "-hls_time", str(segment_seconds), "-hls_playlist_type", "event",
            "-hls_flags", "independent_segments+temp_file",
            "-hls_segment_filename", str(folder / SEGMENT_PATTERN)]


def encode_hls(render: Renderer, plan: RenderPlan, folder: Path, *, cancel: threading.Event | None = None,
               timeout: float | None = None, stall_timeout: float | None = None,
               segment_seconds: int = SEGMENT_SECONDS) -> HlsResult:
    """Encode ``plan`` into ``folder/index.m3u8`` + segments; time the first segment's appearance."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    foreign = sorted(p.name for p in folder.iterdir() if not _ours(p.name))
    if foreign:
        raise ValidationError([f"hls: {folder.name}/ holds other files ({', '.join(foreign[:3])}); give an empty "
                               f"folder or one with a previous preview"], stage="preview")
    playlist = folder / PLAYLIST
    _remove_outputs(folder)
    hls_plan = plan.model_copy(update={"output_args": hls_output_args(plan, folder, segment_seconds)})
    first: list[float] = []
    done = threading.Event()
    started = time.monotonic()

    def watch() -> None:
        while not done.wait(0.01):
            try:
                if "#EXTINF" in playlist.read_text():
                    first.append((time.monotonic() - started) * 1000)
                    return
            except OSError:
                pass

    watcher = threading.Thread(target=watch, name="hls-watch", daemon=True)
    watcher.start()
    try:
        render.encode(hls_plan, playlist, cancel=cancel, timeout=timeout, stall_timeout=stall_timeout,
                      stage="preview")
    except BaseException:
        _remove_outputs(folder)
        raise
    finally:
        done.set()
        watcher.join()
    total = (time.monotonic() - started) * 1000
    segments = sum(1 for line in playlist.read_text().splitlines() if line and not line.startswith("#"))
    return HlsResult(str(playlist), segments, first[0] if first else total, total)


def _ours(name: str) -> bool:
    return name in (PLAYLIST, PLAYLIST + ".tmp") or re.fullmatch(r"seg_\d{5}\.ts(\.tmp)?", name) is not None


def _remove_outputs(folder: Path) -> None:
    for path in [folder / PLAYLIST, folder / (PLAYLIST + ".tmp"), *folder.glob("seg_*.ts"), *folder.glob("seg_*.ts.tmp")]:
        path.unlink(missing_ok=True)
