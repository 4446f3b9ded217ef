"""A clip's picture with its clip-level looks (``mask``, ``canvas``, a video-track clip's ``blend``):
the picture as ``picture.clip_picture`` makes it (fitted, its steady effects), then on the clip's
own clock (its exact frames) the timed effects, the mask (``masks``), the canvas it is placed on
(``canvas``) and, on the bottom video track, its blend with the background (``blends``). A clip
without these looks never comes here: its graph is the one it always had."""

from __future__ import annotations

from engines.ffmpeg.probe import MediaInfo
from engines.model.looks import BlurCanvas, ColorCanvas, ImageCanvas
from engines.model.project import Clip
from engines.model.timeline import PlacedClip

from .blends import background, blend_over
from .canvas import blur_canvas, canvas_color, image_canvas, on_canvas, place_in_frame
from .color import BT709_TAGS, pinned_format
from .graph import Graph, Out
from .looks import effect_filters
from .masks import apply_mask
from .motion import clip_clock
from .reading import conform


def dressed(clip: Clip, overlay: bool) -> bool:
    """The clip has looks that this module draws (an overlay's blend is drawn by the tracks)."""
    return clip.mask is not None or clip.canvas is not None or (clip.blend != "normal" and not overlay)


def dressed_picture(g: Graph, pc: PlacedClip, read: PlacedClip, source: str, filters: list[str | None],
                    info: MediaInfo, w: int, h: int, x: int, y: int, out: Out, *, overlay: bool,
                    transparent_bg: bool, canvas_info: MediaInfo | None) -> tuple[str, int, int]:
    """``filters`` (decode to steady effects, ``w`` x ``h``) finished with the clip's looks:
    (label, x, y) as ``clip_picture`` returns them."""
    clip = pc.clip
    alpha_fmt = "yuva420p10le" if out.pix_fmt.endswith("10le") and not overlay else "yuva420p"
    keyed = any(e.ALPHA for e in clip.filters)  # a chroma key's transparency is kept until composited
    fmt = alpha_fmt if overlay or transparent_bg or clip.mask is not None or keyed else out.pix_fmt
    filters = [*filters, pinned_format(fmt), BT709_TAGS, *conform(read, pc, out)]
    timed = effect_filters(g, clip.filters, clock=clip_clock(pc, out, "t", pc.head), width=w, height=h,
                           scale_y=out.scale_y, pc=pc, fps=out.fps, alpha=fmt.startswith("yuva"))
    if timed:
        filters += [*timed, pinned_format(fmt), BT709_TAGS]
    pic = g.add([source], filters, "v")
    canvas = clip.canvas
    if isinstance(canvas, ImageCanvas) and (canvas_info is None or canvas_info.video is None):
        g.warnings.append(f"clip {clip.id}: canvas image \"{canvas.asset}\" is not available; the bars show the "
                          f"background colour")
        canvas = None
    blur_from = None
    if isinstance(canvas, BlurCanvas):
        whole, blur_from = g.label("cp"), g.label("cp")
        g.chains.append(f"[{pic}]split[{whole}][{blur_from}]")
        pic = whole
    if clip.mask is not None:
        pic = apply_mask(g, pic, pc, info, w, h, out, fmt)
        pic = g.add([pic], [pinned_format(fmt), BT709_TAGS], "v")
    if overlay:
        return pic, x, y
    keep_alpha = transparent_bg or clip.blend != "normal"
    full_fmt = alpha_fmt if keep_alpha else out.pix_fmt
    if canvas is None and ((clip.mask is None and not keyed) or keep_alpha):
        full = g.add([pic], [*place_in_frame(w, h, x, y, out, keep_alpha), pinned_format(full_fmt), BT709_TAGS], "pf")
    elif canvas is None:
        full = on_canvas(g, background(g, pc.frames, out), pic, x, y, out, full_fmt)
    elif isinstance(canvas, ColorCanvas) and clip.mask is None:
        full = g.add([pic], [*place_in_frame(w, h, x, y, out, False, color=canvas_color(canvas)),
                             pinned_format(full_fmt), BT709_TAGS], "pf")
    else:
        if isinstance(canvas, ColorCanvas):
            under = background(g, pc.frames, out, color=canvas_color(canvas))
        elif isinstance(canvas, BlurCanvas):
            assert blur_from is not None
            under = blur_canvas(g, blur_from, w, h, canvas, out, out.pix_fmt)
        else:
            assert canvas_info is not None
            under = image_canvas(g, pc, canvas, canvas_info, out, out.pix_fmt)
        full = on_canvas(g, under, pic, x, y, out, full_fmt)
    if clip.blend != "normal" and not transparent_bg:  # a higher track's clip is blended by the tracks
        full = blend_over(g, background(g, pc.frames, out), full, clip.blend, out, out.pix_fmt)
    return full, 0, 0

