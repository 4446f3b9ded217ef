"""Reading a clip's source: the input seek, and the filters that turn decoded frames into upright
pictures on the output grid with the clip's time applied (speed, ramp, reverse, freeze), fitted
into a box. What every picture path (still, moving, preview, proxy) starts with."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from engines.ffmpeg.probe import MediaInfo, VideoInfo
from engines.ffmpeg.profiles import nearest_even
from engines.model.project import Clip
from engines.model.timebase import fraction_text, frames_to_seconds, to_ffmpeg_seconds
from engines.model.timeline import PlacedClip

from .color import input_params
from .filtergraph import rate
from .graph import Graph, Out
from .motion import ramp_timeline_expr
from .render_plan import PlanInput

SEEK_MARGIN = Fraction(1, 4)  # extra source seconds read past a clip's end; trimmed exactly after


# image formats that hold one picture (an image clip reads it once; GIFs and WebPs may animate)
STILL_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "tiff_pipe", "jpegxl_pipe", "qoi_pipe", "ppm_pipe",
                 "pgm_pipe", "svg_pipe"}


PREROLL = Fraction(1, 2)  # source seconds decoded before a cut-in point, for identical frame picks


# Input options for every video source: the graph turns the picture upright from the probe, so
# ffmpeg must neither rotate it too (autorotate) nor copy the source's display matrix to the
# output, where a player would turn the upright picture again (measured: it does copy it).
NO_ROTATION = ["-noautorotate", "-display_rotation", "0"]


def seek_point(pc: PlacedClip, out: Out) -> tuple[Fraction, Fraction]:
    """(seek position, pre-roll) in source seconds for the visible part of a media clip.

    Decoding a little before the cut-in point lets ``fps`` choose exactly the source frames a
    full render chooses (an input seek drops every frame before its position). Both are whole
    microseconds (ffmpeg's resolution), rounded so that the frame at the cut-in point lands at 0
    or just after it, never just before (``fps=...:start_time=0`` would drop it: measured).
    """
    point = source_point(pc, out, frames_to_seconds(pc.head, out.fps) + pc.offset)
    preroll = min(PREROLL, point) if pc.head or pc.offset else Fraction(0)
    seek = floor_micros(point - preroll)
    return seek, floor_micros(point) - seek


def source_point(pc: PlacedClip, out: Out, into: Fraction) -> Fraction:
    """The source second shown ``into`` seconds after the clip's start (a ramp: its time map)."""
    clip = pc.clip
    ramp = clip.ramp
    advanced = into * clip.rate if ramp is None else Fraction(ramp.source(float(into)))
    return (clip.source_in or Fraction(0)) + advanced


def forward_read(g: Graph, pc: PlacedClip) -> PlacedClip:
    """What a reversed clip reads: the forward clip's frames that it shows, backwards (its last
    visible frame is the forward clip's first of them)."""
    if not pc.clip.reverse:
        return pc
    length = g.lengths.get(pc.path, pc.head + pc.frames)
    return dataclasses.replace(pc, start=0, end=pc.frames, head=length - pc.head - pc.frames)


def floor_micros(seconds: Fraction) -> Fraction:
    return Fraction(seconds.numerator * 1_000_000 // seconds.denominator, 1_000_000)


def add_input(g: Graph, pc: PlacedClip, info: MediaInfo, out: Out) -> int:
    clip = pc.clip
    seconds = frames_to_seconds(pc.frames, out.fps)
    args: list[str]
    if info.kind == "image" and info.format_name.split(",")[0] in STILL_FORMATS:
        # one frame, decoded, fitted and coloured once; ``tpad`` clones it for the clip's frames
        # (looping the file re-decoded and re-scaled it for every frame: a photo in a slideshow
        # cost a full-size decode per output frame)
        args = []
    elif info.kind == "image":  # an animated image (GIF): its frames, looped
        args = ["-loop", "1", "-framerate", rate(out.fps), "-t", to_ffmpeg_seconds(seconds + SEEK_MARGIN)]
    elif clip.freeze_at is not None:  # one frame: the first at or after freeze_at
        args = ["-ss", to_ffmpeg_seconds(floor_micros(clip.freeze_at)), "-t", to_ffmpeg_seconds(SEEK_MARGIN),
                *NO_ROTATION]
    else:
        seek, preroll = seek_point(pc, out)
        if clip.ramp is None:
            span = preroll + seconds * clip.rate + SEEK_MARGIN
        else:
            lead = frames_to_seconds(pc.head, out.fps) + pc.offset
            span = preroll + source_point(pc, out, lead + seconds) - source_point(pc, out, lead) + SEEK_MARGIN
        args = ["-ss", to_ffmpeg_seconds(seek), "-t", to_ffmpeg_seconds(span)]
        if info.video is not None:
            args += NO_ROTATION
    index = len(g.inputs)
    g.inputs.append(PlanInput(index=index, clip=clip.id, asset=clip.asset or "", path=info.path,
                              kind=info.kind, args=args))
    return index


def fit_box(info: MediaInfo, clip: Clip, box_w: int, box_h: int,
            size: tuple[int, int] | None = None) -> tuple[int, int, list[str]]:
    """Scaled size and filters that fit the upright picture (``size``: after a crop) into the box."""
    assert info.video is not None
    src_w, src_h = size or info.video.display_size
    if clip.fit == "stretch":
        w, h = box_w, box_h
        return nearest_even(w), nearest_even(h), [f"scale={nearest_even(w)}:{nearest_even(h)}"]
    ratio_w, ratio_h = Fraction(box_w, src_w), Fraction(box_h, src_h)
    f = min(ratio_w, ratio_h) if clip.fit == "contain" else max(ratio_w, ratio_h)
    w, h = nearest_even(src_w * f), nearest_even(src_h * f)
    filters = [f"scale={w}:{h}"]
    if clip.fit == "cover" and (w > box_w or h > box_h):
        cw, ch = min(w, nearest_even(box_w)), min(h, nearest_even(box_h))
        filters.append(f"crop={cw}:{ch}:{(w - cw) // 2}:{(h - ch) // 2}")
        w, h = cw, ch
    return w, h, filters


def upright_filters(v: VideoInfo, speed: Fraction = Fraction(1), preroll: Fraction = Fraction(0),
                    timing: str | None = None) -> list[str]:
    """From decoded frames to upright, progressive, SDR pictures on the clip's own clock, their
    colour interpretation stated first.

    After an input seek, timestamps count from the seek position; the pre-roll is taken off so
    that 0 is the cut-in point (earlier frames go negative and ``fps=...:start_time=0`` drops them).
    """
    pts = "PTS" if not preroll else f"(PTS-{to_ffmpeg_seconds(preroll)}/TB)"
    # first, how the decoded pixels are to be read (matrix, range, primaries, transfer): stated,
    # never guessed by ffmpeg (see color.py)
    filters = [input_params(v), f"setpts={timing}" if timing else
               f"setpts={pts}" if speed == 1 else f"setpts={pts}*{speed.denominator}/{speed.numerator}"]
    if v.interlaced:
        filters.append("bwdif=mode=send_frame:deint=interlaced")
    filters += {90: ["transpose=clock"], 180: ["hflip", "vflip"], 270: ["transpose=cclock"]}.get(v.rotation, [])
    if v.is_hdr:
        # HDR (PQ/HLG) to SDR BT.709: linearise, tone-map (hable), back to BT.709 limited range.
        filters += ["zscale=t=linear:npl=100", "format=gbrpf32le", "zscale=p=bt709",
                    "tonemap=tonemap=hable:desat=0", "zscale=t=bt709:m=bt709:r=tv"]
    return filters


def decode_filters(read: PlacedClip, info: MediaInfo, out: Out) -> list[str]:
    """From the decoded source to upright frames on the output grid, the clip's time applied
    (speed, a ramp's time map, a freeze frame's one frame)."""
    clip = read.clip
    v = info.video
    assert v is not None
    if clip.freeze_at is not None:
        return ["trim=end_frame=1", *upright_filters(v), f"fps={rate(out.fps)}:start_time=0"]
    preroll = seek_point(read, out)[1] if info.kind != "image" else Fraction(0)
    timing = None
    if clip.ramp is not None and info.kind != "image":
        # each frame at the timeline second where the ramp reaches it (``model.motion.TimeMap``):
        # the source second after the seek is ``seek + T``; the visible part starts ``lead`` in
        seek = seek_point(read, out)[0]
        lead = frames_to_seconds(read.head, out.fps) + read.offset
        r = f"T+{to_ffmpeg_seconds(seek - (clip.source_in or Fraction(0)))}"
        timing = f"({ramp_timeline_expr(clip.ramp, r)}-{to_ffmpeg_seconds(lead)})/TB"
    return [*upright_filters(v, clip.rate, preroll, timing), f"fps={rate(out.fps)}:start_time=0"]


def conform(read: PlacedClip, pc: PlacedClip, out: Out) -> list[str]:
    """Exactly the clip's frames on the output clock (a reversed clip's turned round)."""
    return ["tpad=stop=-1:stop_mode=clone", f"trim=end_frame={pc.frames}",
            *(["reverse"] if pc.clip.reverse else []), f"settb={fraction_text(1 / out.fps)}", "setpts=N"]


def source_crop(v: VideoInfo, clip: Clip) -> tuple[list[str], tuple[int, int] | None]:
    """The ``crop`` field on the upright picture: filters and the upright size left."""
    if clip.crop is None:
        return [], None
    c = clip.crop
    w, h = (v.height, v.width) if v.rotation in (90, 270) else (v.width, v.height)
    cw = max(2, nearest_even(Fraction(w) * (1 - Fraction(c.left) - Fraction(c.right))))
    ch = max(2, nearest_even(Fraction(h) * (1 - Fraction(c.top) - Fraction(c.bottom))))
    x, y = min(w - cw, round(w * Fraction(c.left))), min(h - ch, round(h * Fraction(c.top)))
    dw, dh = v.display_size
    return [f"crop={cw}:{ch}:{x}:{y}"], (max(2, round(Fraction(dw * cw, w))), max(2, round(Fraction(dh * ch, h))))


def flip_filters(clip: Clip) -> list[str]:
    return {"horizontal": ["hflip"], "vertical": ["vflip"], "both": ["hflip", "vflip"]}.get(clip.flip, [])
