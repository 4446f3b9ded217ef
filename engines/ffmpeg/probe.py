"""Probe facts about a media file, read in process with PyAV.

The facts are plain frozen data so that planning stays a pure function of them. Rotation and
interlacing come from the first decoded frame (PyAV exposes the display matrix there); a file
without a container duration (browser-recorded webm) gets one from a packet scan.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from engines.errors import AssetError, ValidationError

from .mp4 import video_sample_count

IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe",
                 "gif", "gif_pipe", "svg_pipe", "jpegxl_pipe", "qoi_pipe", "ppm_pipe", "pgm_pipe"}
IMAGE_CODECS = {"png", "mjpeg", "webp", "bmp", "tiff", "gif", "jpegxl", "qoi", "ppm", "pgm"}
HDR_TRANSFERS = {"smpte2084", "arib-std-b67"}


@dataclass(frozen=True)
class VideoInfo:
    index: int
    codec: str
    width: int         # coded size, before rotation
    height: int
    fps: Fraction | None
    rotation: int      # clockwise degrees the picture must turn to display upright: 0/90/180/270
    pix_fmt: str
    bit_depth: int
    sar: Fraction      # sample (pixel) aspect ratio
    interlaced: bool
    color_trc: str | None
    color_primaries: str | None
    color_range: str | None  # "tv" / "pc"
    frames: int | None
    color_matrix: str | None = None  # YUV matrix, in ffmpeg scale's names (bt709, smpte170m, ...)

    @property
    def display_size(self) -> tuple[int, int]:
        """Upright size in square pixels (rotation and pixel aspect applied)."""
        w = round(self.width * self.sar) if self.sar != 1 else self.width
        h = self.height
        return (h, w) if self.rotation in (90, 270) else (w, h)

    @property
    def is_hdr(self) -> bool:
        return self.color_trc in HDR_TRANSFERS

    @property
    def is_rgb(self) -> bool:
        return self.pix_fmt.startswith(("rgb", "bgr", "argb", "abgr", "gbr", "pal8", "gray", "ya", "monob"))


@dataclass(frozen=True)
class AudioInfo:
    index: int
    codec: str
    sample_rate: int
    channels: int
    layout: str


@dataclass(frozen=True)
class MediaInfo:
    path: str
    format_name: str
    kind: str  # "video" | "audio" | "image"
    duration: Fraction | None  # seconds; None for still images
    size_bytes: int
    video: VideoInfo | None
    audio: AudioInfo | None
    stream_count: int
    # spans a full decode found damaged (``damage.scan_damage``), when known: not a probe fact,
    # attached from the asset's meta when a plan is made
    damage: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def conv(v: Any) -> Any:
            if isinstance(v, Fraction):
                return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            return v
        d = conv(asdict(self))
        d.pop("damage", None)
        if self.video:
            d["video"]["display_width"], d["video"]["display_height"] = self.video.display_size
        if self.duration is not None:
            d["duration_seconds"] = float(self.duration)
        return d

    def facts(self) -> dict[str, Any]:
        """``to_dict`` without the file's path: what is stored and served about an asset, whose
        object key (not the server file it was probed from, e.g. an upload's temp spool) names it."""
        d = self.to_dict()
        d.pop("path", None)
        return d

    @classmethod
    def from_facts(cls, facts: dict[str, Any], path: str) -> MediaInfo:
        """Back from ``facts`` (stored when a file was registered or made), for ``path``: no second
        probe, and no PyAV import, where the file is an object that never changes under its key.
        KeyError when the facts lack a field today's probe gives."""
        def frac(v: Any) -> Fraction | None:
            return None if v is None else Fraction(str(v))

        def fields(kind: type, d: dict[str, Any]) -> dict[str, Any]:
            # every field, or KeyError: facts from an older probe (no colour matrix, say) are not
            # taken for today's, they are probed again
            return {name: d[name] for name in kind.__dataclass_fields__}
        video = audio = None
        if facts.get("video"):
            v = fields(VideoInfo, facts["video"])
            video = VideoInfo(**dict(v, fps=frac(v["fps"]), sar=frac(v["sar"]) or Fraction(1)))
        if facts.get("audio"):
            audio = AudioInfo(**fields(AudioInfo, facts["audio"]))
        return cls(path, facts["format_name"], facts["kind"], frac(facts.get("duration")), facts["size_bytes"],
                   video, audio, facts["stream_count"])


# ffmpeg's names (setparams accepts them all): a tag the graph can state as it is
_TRC = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "linear", 9: "log100",
        10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12",
        16: "smpte2084", 17: "smpte428", 18: "arib-std-b67"}
_PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film", 9: "bt2020",
              10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "jedec-p22"}
_MATRIX = {1: "bt709", 4: "fcc", 5: "bt470", 6: "smpte170m", 7: "smpte240m", 9: "bt2020", 10: "bt2020"}


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Facts about ``path``; raises AssetError naming the file when it is missing or unreadable."""
    import av  # imported here: PyAV loads libav*, which the CLI's --help does not need

    p = Path(path)
    if not p.is_file():
        raise AssetError(f"file not found: {p}", stage="probe", path=str(p),
                         hint="check the asset path (relative paths resolve against the project file)")
    try:
        container = av.open(str(p), metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise AssetError(f"cannot read media file {p.name}: {exc}", stage="probe", path=str(p),
                         hint="the file is not a media file ffmpeg can open, or it is corrupt") from None
    with container:
        fmt = container.format.name
        vstreams = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
        astreams = list(container.streams.audio)
        vs = vstreams[0] if vstreams else None
        as_ = astreams[0] if astreams else None
        if vs is None and as_ is None:
            raise AssetError(f"{p.name} has no video or audio stream", stage="probe", path=str(p),
                             hint="use a file with a picture or a sound track")
        video = _video_info(container, vs) if vs is not None else None
        audio = _audio_info(as_) if as_ is not None else None
        is_image = video is not None and audio is None and (
            fmt.split(",")[0] in IMAGE_FORMATS or (video.codec in IMAGE_CODECS and (video.frames or 1) <= 1))
        duration = None if is_image else _duration(container, vs or as_)
        stream_count = len(container.streams)
    kind = "image" if is_image else ("video" if video is not None else "audio")
    return MediaInfo(str(p), fmt, kind, duration, p.stat().st_size, video, audio, stream_count)


def _video_info(container: Any, vs: Any) -> VideoInfo:
    import av

    cc = vs.codec_context
    rotation, interlaced = 0, False
    try:
        container.seek(0)
        for frame in container.decode(vs):
            # PyAV reports the display matrix counter-clockwise; ffmpeg turns the picture
            # clockwise by the opposite angle to show it upright.
            rotation = (-int(round(frame.rotation or 0))) % 360
            interlaced = bool(frame.interlaced_frame)
            break
    except av.FFmpegError as exc:
        raise AssetError(f"cannot decode the video of {Path(container.name).name}: {exc}",
                         stage="probe", path=container.name,
                         hint="the video stream is corrupt or uses a codec this ffmpeg lacks") from None
    fmt = cc.format
    depth = max((c.bits for c in fmt.components), default=8) if fmt is not None else 8
    sar = vs.sample_aspect_ratio or cc.sample_aspect_ratio
    rate = vs.average_rate if vs.average_rate and 0 < vs.average_rate <= 1000 else vs.guessed_rate
    return VideoInfo(
        index=vs.index, codec=cc.name, width=cc.width, height=cc.height,
        fps=Fraction(rate) if rate else None, rotation=rotation if rotation in (0, 90, 180, 270) else 0,
        pix_fmt=cc.pix_fmt or "unknown", bit_depth=depth,
        sar=Fraction(sar) if sar and sar > 0 else Fraction(1), interlaced=interlaced,
        color_trc=_TRC.get(int(cc.color_trc or 0)), color_primaries=_PRIMARIES.get(int(cc.color_primaries or 0)),
        color_range={1: "tv", 2: "pc"}.get(int(cc.color_range or 0)) or ("pc" if (cc.pix_fmt or "").startswith("yuvj") else None),
        frames=vs.frames or None, color_matrix=_MATRIX.get(int(cc.colorspace or 0)),
    )


def _audio_info(as_: Any) -> AudioInfo:
    cc = as_.codec_context
    layout = cc.layout.name if cc.layout is not None else "unknown"
    return AudioInfo(index=as_.index, codec=cc.name, sample_rate=cc.sample_rate,
                     channels=cc.channels, layout=layout)


def _duration(container: Any, stream: Any) -> Fraction | None:
    if stream.duration and stream.time_base:
        return stream.duration * stream.time_base
    if container.duration:
        return Fraction(container.duration, 1_000_000)
    # No duration in the header (e.g. MediaRecorder webm): the end of the last packet.
    end = None
    container.seek(0)
    for packet in container.demux(stream):
        if packet.pts is None or packet.time_base is None:
            continue
        t = (packet.pts + (packet.duration or 0)) * packet.time_base
        end = t if end is None or t > end else end
    if end is not None and stream.start_time is not None and stream.time_base:
        end -= stream.start_time * stream.time_base
    return Fraction(end) if end is not None else None


def count_video_frames(path: str | Path) -> int:
    """Frames in the first video stream: an MP4's sample table (``mp4.py``), else its packets
    counted (one packet per frame)."""
    counted = video_sample_count(path)
    if counted is not None:
        return counted
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            return sum(1 for p in container.demux(stream) if p.size)
    except (av.FFmpegError, IndexError) as exc:
        raise ValidationError([f"output: cannot read back {path}: {exc}"], stage="verify") from None
