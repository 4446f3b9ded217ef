"""One clip's picture as a stream of exactly its frames: fitted, coloured (its looks), placed;
a slate where its media is missing, background where a track has a gap."""

from __future__ import annotations

from fractions import Fraction

from engines.ffmpeg.probe import MediaInfo
from engines.ffmpeg.profiles import nearest_even
from engines.model.timebase import fraction_text
from engines.model.timeline import PlacedClip

from .canvas import place_in_frame
from .color import BT709_TAGS, pinned_format, to_bt709
from .dressing import dressed, dressed_picture
from .filtergraph import quote, rate
from .graph import Graph, Out
from .looks import effect_filters
from .motion import clip_clock
from .moving import moving_picture
from .reading import add_input, conform, decode_filters, fit_box, flip_filters, forward_read, source_crop
from .text import font_name


def clip_picture(g: Graph, pc: PlacedClip, info: MediaInfo | None, out: Out, *, overlay: bool,
                 transparent_bg: bool, canvas_info: MediaInfo | None = None) -> tuple[str, int | str, int | str]:
    """A labelled stream of exactly ``pc.frames`` frames at the output rate.

    Returns (label, x, y): for overlay clips the scaled picture and its top-left position (numbers,
    or expressions in the timeline's ``t`` when the clip moves); for video-track clips a full
    frame (x = y = 0). A clip without media is drawn as a slate.
    """
    clip = pc.clip
    if info is None:
        return slate(g, pc, out, overlay=overlay, transparent_bg=transparent_bg)
    read = forward_read(g, pc)  # a reversed clip reads forward and turns the frames round
    idx = add_input(g, read, info, out)
    v = info.video
    assert v is not None
    if clip.has_motion:
        if clip.canvas is not None:
            g.warnings.append(f"clip {clip.id}: a canvas on a clip that moves (keyframed position, scale or "
                              f"rotation) is not drawn yet")
        return moving_picture(g, pc, read, idx, info, out, overlay=overlay, transparent_bg=transparent_bg)
    scale = clip.scale.constant if clip.scale is not None else (0.25 if overlay else 1.0)
    assert scale is not None
    box_w, box_h = Fraction(out.width) * Fraction(scale), Fraction(out.height) * Fraction(scale)
    crop, size = source_crop(v, clip)
    w, h, fit = fit_box(info, clip, nearest_even(box_w), nearest_even(box_h), size)
    fit[0] += to_bt709(v)  # the fit's first scale converts, with every option stated
    cx, cy = Fraction(out.width) * Fraction(clip.x.constant), Fraction(out.height) * Fraction(clip.y.constant)
    x, y = round(cx - Fraction(w, 2)), round(cy - Fraction(h, 2))
    filters: list[str | None] = [*decode_filters(read, info, out), *crop, *fit, "setsar=1", *flip_filters(clip)]
    looks: dict = {"width": w, "height": h, "scale_y": out.scale_y}
    fmt = "yuva420p" if overlay or transparent_bg else out.pix_fmt
    # an effect that keys pixels out (chroma_key) on an opaque track keeps its alpha until the
    # picture is laid over the background below
    work = fmt
    if any(e.ALPHA for e in clip.filters) and not fmt.startswith("yuva"):
        work = "yuva420p10le" if fmt.endswith("10le") else "yuva420p"
    looks["alpha"] = work.startswith("yuva")
    filters += effect_filters(g, clip.filters, clock=None, **looks)
    if dressed(clip, overlay):  # mask, canvas, a video-track clip's blend: ``dressing``
        return dressed_picture(g, pc, read, f"{idx}:{v.index}", filters, info, w, h, x, y, out, overlay=overlay,
                               transparent_bg=transparent_bg, canvas_info=canvas_info)
    # BT.709 limited range from here on, pinned and tagged: where this stream meets others
    # (xfade, concat, overlay) there is nothing left for ffmpeg to reconcile
    filters += [pinned_format(work), BT709_TAGS]
    if not overlay:
        filters += place_in_frame(w, h, x, y, out, transparent_bg)
        x = y = 0
    filters += conform(read, pc, out)
    timed = effect_filters(g, clip.filters, clock=clip_clock(pc, out, "t", pc.head), pc=pc, fps=out.fps,
                           **(looks if overlay else {**looks, "width": out.width, "height": out.height}))
    filters += timed
    if timed:
        filters += [pinned_format(work), BT709_TAGS]
    label = g.add([f"{idx}:{v.index}"], filters, "v")
    if work != fmt:
        label = over_background(g, label, pc.frames, out, fmt)
    return label, x, y


def over_background(g: Graph, label: str, frames: int, out: Out, fmt: str) -> str:
    """A full frame with alpha laid over the background colour: an opaque picture again."""
    canvas = g.add([], [f"color=c={out.background}:s={out.width}x{out.height}:r={rate(out.fps)}", pinned_format(fmt),
                        BT709_TAGS, f"trim=end_frame={frames}", f"settb={fraction_text(1 / out.fps)}", "setpts=N"],
                   "cv")
    blend = "yuv420p10" if fmt.endswith("10le") else "yuv420"
    return g.add([canvas, label], [f"overlay=0:0:format={blend}:eof_action=pass", pinned_format(fmt), BT709_TAGS],
                 "key")


SLATE_BACKGROUND = "0x3A3A3A"


SLATE_TEXT = "0xFF6060"


def slate(g: Graph, pc: PlacedClip, out: Out, *, overlay: bool, transparent_bg: bool) -> tuple[str, int, int]:
    """A placeholder for a clip whose media is missing: a grey card naming it, in the clip's box
    (overlays) or the whole frame (video tracks: the source's shape is unknown)."""
    clip = pc.clip
    if overlay:  # a moving clip's slate stays where the clip starts
        scale = Fraction(clip.scale.value_at(Fraction(0)) if clip.scale is not None else 0.25)
        w, h = max(2, nearest_even(out.width * scale)), max(2, nearest_even(out.height * scale))
        x = round(Fraction(out.width) * Fraction(clip.x.value_at(Fraction(0))) - Fraction(w, 2))
        y = round(Fraction(out.height) * Fraction(clip.y.value_at(Fraction(0))) - Fraction(h, 2))
    else:
        w, h, x, y = out.width, out.height, 0, 0
    text_file = f"slate_{clip.id}.txt"
    g.files[text_file] = g.slates.get(clip.asset or "", "media missing")
    fmt = "yuva420p" if overlay or transparent_bg else out.pix_fmt
    draw = ":".join([f"textfile={quote(text_file)}", f"fontfile={quote(font_name(g, ''))}", "expansion=none",
                     f"fontsize={max(8, h // 14)}", f"fontcolor={SLATE_TEXT}", "x=(w-text_w)/2", "y=(h-text_h)/2"])
    label = g.add([], [f"color=c={SLATE_BACKGROUND}:s={w}x{h}:r={rate(out.fps)}", pinned_format(fmt),
                       "drawtext=" + draw, BT709_TAGS, f"trim=end_frame={pc.frames}", f"settb={fraction_text(1 / out.fps)}",
                       "setpts=N"], "slate")
    return label, x, y


def gap(g: Graph, frames: int, out: Out, transparent: bool) -> str:
    color = "black@0" if transparent else out.background
    fmt = "yuva420p" if transparent else out.pix_fmt
    return g.add([], [f"color=c={color}:s={out.width}x{out.height}:r={rate(out.fps)}", pinned_format(fmt), BT709_TAGS,
                      f"trim=end_frame={frames}", f"settb={fraction_text(1 / out.fps)}", "setpts=N"], "gap")
