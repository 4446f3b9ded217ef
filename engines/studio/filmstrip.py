"""Filmstrips: one thumbnail sprite per video asset and the WebVTT cues that point into it.

``plan_filmstrip`` is pure: the ffmpeg arguments (``fps`` picks one picture per interval,
``scale`` makes it a thumbnail, ``tile`` lays them out in one JPEG) and the layout the cues are
written from. ``ensure_filmstrip`` makes both objects once per asset (``artifacts.ensure``).
Cues follow the common ``sprite.jpg#xywh=x,y,w,h`` convention with the sprite named relatively,
so a player resolves it against the cue file's own URL and no server path is ever written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from engines.errors import NotFound
from engines.ffmpeg.probe import MediaInfo, probe
from engines.ffmpeg.profiles import nearest_even
from engines.ffmpeg.runner import FFmpegRunner
from engines.media_v2.library import MediaLibrary
from engines.media_v2.models import Artifact, Asset
from engines.model.timebase import fraction_text
from engines.planning.reading import NO_ROTATION, upright_filters

from . import artifacts

FORMAT = 1          # bump when the layout or encoding changes: older sprites are made again
THUMB_HEIGHT = 54   # pixels: a timeline row's height
MAX_TILES = 100     # one sprite, a few tens of KB, whatever the source's length
COLUMNS = 10
SPRITE, CUES = "filmstrip.jpg", "filmstrip.vtt"


@dataclass(frozen=True)
class FilmstripPlan:
    args: list[str]       # ffmpeg arguments before the output path
    interval: Fraction    # seconds of source between thumbnails
    count: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int
    duration: Fraction

    def cues(self, sprite: str = SPRITE) -> str:
        """WebVTT: thumbnail ``i`` covers ``[i * interval, (i + 1) * interval)`` of the source."""
        lines = ["WEBVTT", ""]
        for i in range(self.count):
            start, end = i * self.interval, min((i + 1) * self.interval, self.duration)
            x, y = (i % self.columns) * self.tile_width, (i // self.columns) * self.tile_height
            lines += [f"{vtt_time(start)} --> {vtt_time(end)}",
                      f"{sprite}#xywh={x},{y},{self.tile_width},{self.tile_height}", ""]
        return "\n".join(lines)

    def meta(self) -> dict[str, Any]:
        return {"interval": fraction_text(self.interval), "count": self.count, "columns": self.columns,
                "rows": self.rows, "tile_width": self.tile_width, "tile_height": self.tile_height,
                "duration": fraction_text(self.duration)}


def plan_filmstrip(info: MediaInfo) -> FilmstripPlan:
    v = info.video
    if v is None or info.kind != "video" or not info.duration:
        raise NotFound(f"{Path(info.path).name} is not a video: it has no filmstrip", stage="studio")
    duration = Fraction(info.duration)
    interval = Fraction(max(1, math.ceil(duration / MAX_TILES)))  # whole seconds: cues stay readable
    count = max(1, math.ceil(duration / interval))
    columns = min(COLUMNS, count)
    rows = math.ceil(count / columns)
    dw, dh = v.display_size
    width = nearest_even(Fraction(THUMB_HEIGHT * dw, dh))
    vf = [*upright_filters(v), f"fps={fraction_text(1 / interval)}", f"scale={width}:{THUMB_HEIGHT}", "setsar=1",
          f"tile={columns}x{rows}"]
    args = ["-y", *NO_ROTATION, "-i", info.path, "-map", f"0:{v.index}", "-an", "-vf", ",".join(vf),
            "-frames:v", "1",        # the one sprite; tile flushes a partly filled last one at EOF
            "-c:v", "mjpeg", "-q:v", "5",  # pinned quality: the same source gives the same bytes
            "-f", "image2", "-update", "1"]
    return FilmstripPlan(args, interval, count, columns, rows, width, THUMB_HEIGHT, duration)


def vtt_time(t: Fraction) -> str:
    ms = math.floor(t * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def ensure_filmstrip(library: MediaLibrary, runner: FFmpegRunner, asset: Asset) -> tuple[Artifact, Artifact]:
    """(sprite, cues) of a video asset: reused, or made once."""
    if asset.kind != "video":
        raise NotFound(f"asset {asset.id} is {asset.kind}, not video: it has no filmstrip", stage="studio")

    def make(work: Path) -> dict[str, Any]:
        plan = plan_filmstrip(probe(library.source_path(asset)))
        runner.run([*plan.args, str(work / SPRITE)], stage="filmstrip", timeout=120 + float(plan.duration) / 4,
                   asset_id=asset.id)
        (work / CUES).write_text(plan.cues(), encoding="utf-8")
        return plan.meta()

    sprite, cues = artifacts.ensure(library, asset, "filmstrip", [SPRITE, CUES], FORMAT, make)
    return sprite, cues
