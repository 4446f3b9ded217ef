"""A contained clip's ``canvas``: what fills its bars instead of the background colour, and the
clip's picture placed on it (a full frame).

- ``color``: the bars in that colour (``pad`` with it: no more cost than the background's pad);
- ``blur``: the clip's own picture scaled to cover the frame and blurred. The blur is worked at a
  quarter of the frame's size (``BLUR_DIVISOR``) and scaled up: a Gaussian this wide leaves no
  detail that the smaller size loses, and it costs a sixteenth of the full-size blur (measured:
  ``docs/performance.md``). The blur's sigma is ``amount`` times a tenth of the frame's shorter
  side (``amount`` 0: the covering picture, unblurred);
- ``image``: an image asset scaled to cover the frame (cropped at its centre), read once and held.

The picture goes over the canvas with ``overlay`` at the place ``place_in_frame`` would pad it at;
where the picture is transparent (its mask) the canvas shows.
"""

from __future__ import annotations

import math
from fractions import Fraction

from engines.ffmpeg.probe import MediaInfo
from engines.ffmpeg.profiles import nearest_even
from engines.model.looks import BlurCanvas, ColorCanvas, ImageCanvas
from engines.model.timebase import fraction_text
from engines.model.timeline import PlacedClip

from .color import BT709_TAGS, pinned_format, to_bt709
from .filtergraph import rate
from .graph import Graph, Out
from .reading import upright_filters
from .render_plan import PlanInput

BLUR_DIVISOR = 4  # the blurred canvas is worked at 1/4 of the frame's width and height
BLUR_SIGMA = Fraction(1, 10)  # sigma at amount 1: a tenth of the frame's shorter side


def canvas_color(canvas: ColorCanvas) -> str:
    return "0x" + canvas.color[1:].upper()


def cover(w: int, h: int, box_w: int, box_h: int) -> list[str]:
    """Scale a ``w`` x ``h`` picture to cover ``box_w`` x ``box_h``, cropped at its centre."""
    f = max(Fraction(box_w, w), Fraction(box_h, h))
    sw, sh = max(box_w, math.ceil(w * f)), max(box_h, math.ceil(h * f))
    return [f"scale={sw}:{sh}", f"crop={box_w}:{box_h}:{(sw - box_w) // 2}:{(sh - box_h) // 2}"]


def blur_canvas(g: Graph, picture: str, w: int, h: int, canvas: BlurCanvas, out: Out, fmt: str) -> str:
    """The clip's picture (``w`` x ``h``, opaque) covering the frame, blurred."""
    sw, sh = max(2, nearest_even(Fraction(out.width, BLUR_DIVISOR))), max(2, nearest_even(Fraction(out.height, BLUR_DIVISOR)))
    sigma = float(Fraction(canvas.amount) * BLUR_SIGMA * min(sw, sh))
    blur = [f"gblur=sigma={sigma:.4f}"] if sigma > 0 else []
    down = cover(w, h, sw, sh)
    down[0] += ":flags=fast_bilinear"  # what the blur leaves of the picture needs no finer resampling
    return g.add([picture], [*down, *blur, f"scale={out.width}:{out.height}:flags=fast_bilinear",
                             "setsar=1", pinned_format(fmt), BT709_TAGS], "cvb")


def image_canvas(g: Graph, pc: PlacedClip, canvas: ImageCanvas, info: MediaInfo, out: Out, fmt: str) -> str:
    """The image asset covering the frame, read once, held for the clip's frames."""
    v = info.video
    assert v is not None
    idx = len(g.inputs)
    g.inputs.append(PlanInput(index=idx, clip=pc.clip.id, asset=canvas.asset, path=info.path, kind="image", args=[]))
    dw, dh = v.display_size
    fit = cover(dw, dh, out.width, out.height)
    fit[0] += to_bt709(v)
    # ``fps`` gives the stream the output's frame rate (an image's is 25: the encoder's clock follows it)
    return g.add([f"{idx}:{v.index}"], ["trim=end_frame=1", *upright_filters(v), f"fps={rate(out.fps)}:start_time=0",
                                        *fit, "setsar=1", pinned_format(fmt),
                                        BT709_TAGS, "tpad=stop=-1:stop_mode=clone", f"trim=end_frame={pc.frames}",
                                        f"settb={fraction_text(1 / out.fps)}", "setpts=N"], "cvi")


def on_canvas(g: Graph, under: str, picture: str, x: int, y: int, out: Out, fmt: str) -> str:
    """``picture`` over the full-frame ``under``, its top-left at (x, y)."""
    layout = "yuv420p10" if out.pix_fmt.endswith("10le") else "yuv420"
    return g.add([under, picture], [f"overlay=x={x}:y={y}:format={layout}:eof_action=pass", pinned_format(fmt),
                                    BT709_TAGS], "cv")


def place_in_frame(w: int, h: int, x: int, y: int, out: Out, transparent: bool, color: str | None = None) -> list[str]:
    """Crop what falls outside the frame, pad the rest with background (or ``color``): a full frame."""
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(out.width, x + w), min(out.height, y + h)
    color = color or ("black@0" if transparent else out.background)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return [f"scale={out.width}:{out.height}", f"drawbox=x=0:y=0:w={out.width}:h={out.height}:color={color}:t=fill"]
    filters = []
    if (x0, y0, x1, y1) != (x, y, x + w, y + h):
        filters.append(f"crop={x1 - x0}:{y1 - y0}:{x0 - x}:{y0 - y}")
    if (x1 - x0, y1 - y0) != (out.width, out.height):
        filters.append(f"pad={out.width}:{out.height}:{x0}:{y0}:color={color}")
    return filters
