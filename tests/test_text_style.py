"""Styled text (stroke, shadow, box, alignment, wrapping, line spacing, bold/italic) and text
animations (fade, slide_up, slide_left, pop, typewriter): rendered losslessly and measured."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import lossless, project, write_project
from fontTools.ttLib import TTFont

from engines.errors import ValidationError
from engines.ffmpeg.profiles import get_profile
from engines.ffmpeg.runner import FFmpegRunner
from engines.media_v2.library import MediaLibrary
from engines.media_v2.registry import Registry
from engines.media_v2.storage import LocalStore
from engines.model.project import load_project
from engines.model.timeline import place_project
from engines.planning.plan import build_plan
from engines.planning.styled_text import SLIDE
from engines.planning.text import DEFAULT_FONT
from engines.video_preview.latency import FILTER_MS_PER_MPX, LatencyModel, measure_work
from engines.video_preview.service import PreviewService
from engines.video_render.service import RenderService

W, H, FPS = 320, 180, 30
BG = "#000000"
_FONT = TTFont(DEFAULT_FONT, lazy=True)
UPEM = _FONT["head"].unitsPerEm
LINE = (_FONT["OS/2"].usWinAscent + _FONT["OS/2"].usWinDescent) / UPEM  # line height per em (DejaVu Sans)


def advance(text: str, em: float) -> float:
    cmap, hmtx = _FONT.getBestCmap(), _FONT["hmtx"]
    return sum(hmtx[cmap[ord(c)]][0] for c in text) * em / UPEM


def frames(service, tmp_path: Path, clips: list[dict], *, seconds: float = 1, background: str = BG,
           name: str = "out.mp4", **kw) -> list[np.ndarray]:
    """RGB pictures of a lossless render of text clips on one overlay track over a plain background."""
    doc = project([{"id": "o", "kind": "overlay", "clips": clips}], {}, width=W, height=H, fps=FPS,
                  background=background)
    proj = load_project(write_project(tmp_path, doc))
    profile = get_profile("draft_480p")
    plan = lossless(build_plan(proj, service.gather(proj, tmp_path), profile, service.decide(profile, "cpu"), **kw))
    service.render(plan, tmp_path / name)
    with av.open(str(tmp_path / name)) as c:
        pictures = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert pictures[0].shape == (H, W, 3)
    return pictures


def text(t: str, **kw) -> dict:
    return {"id": kw.pop("id", "t"), "text": t, "start": 0, "duration": kw.pop("duration", 1), "font_size": 24,
            "color": "#FFFFFF", **kw}


def ink(picture: np.ndarray, rows: slice = slice(None), threshold: int = 128) -> np.ndarray:
    """Where the picture is bright (white text on black)."""
    return picture[rows].astype(int).sum(axis=2) > 3 * threshold


def bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) of each run of True."""
    out, start = [], None
    for i, f in enumerate(list(flags) + [False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((start, i - 1))
            start = None
    return out


def test_stroke_surrounds_the_glyphs_in_its_colour(service, tmp_path):
    pics = frames(service, tmp_path, [
        text("HIH", id="a", y=0.25, stroke={"color": "#FF0000", "width": 3}),
        text("HIH", id="b", y=0.75, align="left")])  # styled, no stroke
    p = pics[10].astype(int)
    red = (p[..., 0] > 150) & (p[..., 1] < 90) & (p[..., 2] < 90)
    white = ink(pics[10], threshold=200)
    top, bottom = slice(0, H // 2), slice(H // 2, H)
    assert red[top].sum() > 150 and red[bottom].sum() == 0
    # every red pixel is within the stroke width (+1 for antialiasing) of the white fill
    ys, xs = np.nonzero(red[top])
    wy, wx = np.nonzero(white[top])
    for y, x in zip(ys[::7], xs[::7]):
        assert np.min(np.maximum(np.abs(wy - y), np.abs(wx - x))) <= 4
    # the stroked word is the plain one grown by the width on every side
    a, b = bbox(red[top] | white[top]), bbox(white[bottom])
    assert abs((a[2] - a[0]) - (b[2] - b[0]) - 6) <= 2
    assert abs((a[3] - a[1]) - (b[3] - b[1]) - 6) <= 2


def test_shadow_is_offset_and_its_blur_softens_it(service, tmp_path):
    pics = frames(service, tmp_path, [
        text("HH", id="a", x=0.3, shadow={"color": "#00FF00", "x": 6, "y": 5}),
        text("HH", id="b", x=0.75, shadow={"color": "#00FF00", "x": 6, "y": 5, "blur": 3})])
    p = pics[10].astype(int)
    left, right = slice(0, W // 2), slice(W // 2, W)
    green = (p[..., 1] > 60) & (p[..., 0] < 60)
    white = ink(pics[10], threshold=200)
    # sharp shadow: the green copy's box is the white's shifted by (6, 5) (it ends 6 px right, 5 px lower)
    g, w = bbox(green[:, left] | white[:, left]), bbox(white[:, left])
    assert abs(g[2] - w[2] - 6) <= 1 and abs(g[3] - w[3] - 5) <= 1  # (edges: antialiasing)
    assert abs(g[0] - w[0]) <= 1 and abs(g[1] - w[1]) <= 1
    # blurred: the shadow spreads further and has many more partly-green pixels
    gb = bbox(green[:, right] | white[:, right])
    assert gb[2] - bbox(white[:, right])[2] > 6
    soft = lambda part: int(((p[:, part, 1] > 20) & (p[:, part, 1] < 200) & (p[:, part, 0] < 20)).sum())  # noqa: E731
    assert soft(right) > 2 * soft(left)


def test_box_colour_opacity_padding_and_radius(service, tmp_path):
    em = 24
    pics = frames(service, tmp_path, [
        text("Hello", id="a", y=0.3, color="#000000", box={"color": "#FFFFFF", "opacity": 0.25, "padding": 10}),
        text("Hello", id="b", y=0.75, color="#000000", box={"color": "#FFFFFF", "opacity": 1, "padding": 6,
                                                            "radius": 10})], background="#404040")
    p = pics[10].astype(int)
    lum = p.mean(axis=2)
    top = lum[: H // 2]
    box = np.abs(top - 64) > 8  # the box and the text: everything not background
    x0, y0, x1, y1 = bbox(box)
    # alpha blend: 0.25 × 255 + 0.75 × 64
    assert abs(top[y0 + 2, x0 + 2] - (0.25 * 255 + 0.75 * 64)) <= 3
    # extent: the text's advance width and line height, plus the padding on each side
    assert abs((x1 - x0 + 1) - (advance("Hello", em) + 20)) <= 1.5
    assert abs((y1 - y0 + 1) - (LINE * em + 20)) <= 1.5
    assert abs((x0 + x1 + 1) / 2 - W / 2) <= 1 and abs((y0 + y1 + 1) / 2 - 0.3 * H) <= 1
    # rounded: the corner pixel is background, the middle of the top edge is box
    bottom = lum[H // 2:]
    bx0, by0, bx1, by1 = bbox(np.abs(bottom - 64) > 8)
    assert abs(bottom[by0, bx0] - 64) <= 3 and abs(bottom[by0 + 1, bx0 + 1] - 64) <= 3
    assert abs(bottom[by0 + 1, (bx0 + bx1) // 2] - 255) <= 3  # (row by0 is the edge's antialiasing)
    assert abs(bottom[(by0 + by1) // 2, bx0 + 1] - 255) <= 3


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_align_lines_up_the_lines(service, tmp_path, align):
    pics = frames(service, tmp_path, [text("HH\nHHHHHH", align=align)])  # (two lines: styled even when centred)
    mask = ink(pics[5])
    rows = runs(mask.any(axis=1))
    assert len(rows) == 2
    (a0, _, a1, _), (b0, _, b1, _) = (bbox(mask[r0:r1 + 1]) for r0, r1 in rows)
    assert b1 - b0 > 2 * (a1 - a0)
    if align == "left":
        assert abs(a0 - b0) <= 1
    elif align == "right":
        assert abs(a1 - b1) <= 1
    else:
        assert abs((a0 + a1) - (b0 + b1)) <= 2
    assert abs((b0 + b1 + 1) / 2 - W / 2) <= 2  # the block is centred at x


def test_max_width_wraps_and_line_spacing_spaces_the_lines(service, tmp_path):
    em = 24
    pics = frames(service, tmp_path, [
        text("one two three four five six", id="a", y=0.2, max_width=0.4, font_size=16),
        text("H\nH", id="b", x=0.25, y=0.72, font_size=em, line_spacing=1),
        text("H\nH", id="c", x=0.75, y=0.72, font_size=em, line_spacing=1.5)], background=BG)
    mask = ink(pics[5])
    half = int(0.45 * H)
    top = mask[:half]
    lines = runs(top.any(axis=1))
    assert len(lines) == 2  # "one two three" / "four five six"
    x0, _, x1, _ = bbox(top)
    assert x0 >= W / 2 - 0.2 * W - 1 and x1 <= W / 2 + 0.2 * W + 1
    for part, spacing in ((slice(0, W // 2), 1), (slice(W // 2, W), 1.5)):
        rows = runs(mask[half:, part].any(axis=1))
        assert len(rows) == 2
        assert abs((rows[1][0] - rows[0][0]) - spacing * LINE * em) <= 1, spacing


def test_bold_is_wider_and_darker_and_italic_leans(service, tmp_path):
    pics = frames(service, tmp_path, [
        text("lllll", id="r", y=0.2, align="left"), text("lllll", id="b", y=0.5, bold=True),
        text("lllll", id="i", y=0.8, italic=True)])
    p = pics[5].astype(int).sum(axis=2)
    thirds = [p[0:60], p[60:120], p[120:180]]
    regular, bold, italic = thirds
    assert bold.sum() > 1.3 * regular.sum()
    wr, wb = (bbox(t > 384) for t in (regular, bold))
    assert wb[2] - wb[0] > wr[2] - wr[0]

    def lean(part: np.ndarray) -> float:
        x0, y0, x1, y1 = bbox(part > 384)
        ys, xs = np.nonzero(part > 384)
        h = y1 - y0
        top, bottom = xs[ys < y0 + h / 4], xs[ys > y1 - h / 4]
        return float(top.mean() - bottom.mean())

    assert abs(lean(regular)) < 0.5 and lean(italic) > 2


def _level(picture: np.ndarray) -> float:
    return float(picture.astype(int).sum(axis=2).max() / 3)


def test_fade_in_and_out_at_known_frames(service, tmp_path):
    fade = {"animation_in": {"type": "fade", "duration": 0.5}, "animation_out": {"type": "fade", "duration": "1/3"}}
    pics = frames(service, tmp_path, [text("HH", id="a", y=0.3, font_size=40, **fade),
                                      text("HH", id="b", y=0.75, font_size=40, opacity=0.5, **fade)])
    assert len(pics) == 30
    top, bottom = [p[: H // 2] for p in pics], [p[H // 2:] for p in pics]
    assert _level(pics[0]) < 3
    for k in (3, 6, 9, 12):
        assert abs(_level(top[k]) - 255 * k / 15) <= 3, k
        assert abs(_level(bottom[k]) - 0.5 * 255 * k / 15) <= 3, k  # times the clip's opacity
    for k in (15, 17, 19):
        assert _level(top[k]) >= 252 and abs(_level(bottom[k]) - 128) <= 3
    for k in (21, 25, 29):
        assert abs(_level(top[k]) - 255 * (30 - k) / 10) <= 3, k


@pytest.mark.parametrize("kind", ["slide_up", "slide_left"])
def test_slides_at_known_frames(service, tmp_path, kind):
    pics = frames(service, tmp_path, [text("HH", animation_in={"type": kind, "duration": 0.5},
                                           animation_out={"type": kind, "duration": 0.5})])
    rest = bbox(ink(pics[15]))
    axis, distance = (1, H * SLIDE) if kind == "slide_up" else (0, W * SLIDE)
    for k in (0, 4, 8, 12):
        p = k / 15
        want = float(distance) * (1 - p) ** 3  # ease-out cubic: 1 - (1 - p)^3 of the way
        got = bbox(ink(pics[k]))[axis] - rest[axis]
        assert abs(got - want) <= 1, (k, got, want)
    for k in (18, 24, 29):  # the exit carries on up / to the left
        p = (30 - k) / 15
        got = bbox(ink(pics[k]))[axis] - rest[axis]
        assert abs(got + float(distance) * (1 - p) ** 3) <= 1, (k, got)


def test_pop_scales_from_nothing_with_an_overshoot(service, tmp_path):
    pics = frames(service, tmp_path, [text("HHHH", font_size=32, animation_in={"type": "pop", "duration": 0.5})])
    rest = bbox(ink(pics[20]))
    width = rest[2] - rest[0] + 1
    assert not ink(pics[0]).any()
    sizes = []
    for k in range(2, 15):
        p = k / 15
        s = 1 + 2.70158 * (p - 1) ** 3 + 1.70158 * (p - 1) ** 2
        b = bbox(ink(pics[k]))
        sizes.append(b[2] - b[0] + 1)
        assert abs(sizes[-1] - width * s) <= 2.5, (k, sizes[-1], width * s)
        assert abs((b[0] + b[2]) / 2 - (rest[0] + rest[2]) / 2) <= 1.5  # about its centre
    assert max(sizes) > width + 4  # the overshoot


def test_typewriter_shows_one_more_character_at_a_time(service, tmp_path):
    pics = frames(service, tmp_path, [text("HHHHHHHH", animation_in={"type": "typewriter", "duration": 0.5},
                                           animation_out={"type": "typewriter", "duration": 0.25})])
    counts = [len(runs(ink(p).any(axis=0))) for p in pics]
    for k in range(15):
        assert counts[k] == (8 * k) // 15, (k, counts[k])
    assert counts[15:22] == [8] * 7
    for k in range(23, 30):  # the exit takes them away from the end
        assert counts[k] == (8 * (30 - k)) // 7.5, (k, counts[k])
    # the layout does not move: the first letter is in the same place throughout
    assert len({runs(ink(p).any(axis=0))[0] for p in pics[2:28]}) == 1


def test_styled_text_is_literal(service, tmp_path):
    pics = frames(service, tmp_path, [text("{\\i1}x%{n}\\N:'\"", id="a", y=0.3, bold=True),
                                      text("x", id="b", y=0.7, bold=True)])
    a, b = bbox(ink(pics[5][: H // 2])), bbox(ink(pics[5][H // 2:]))
    assert (a[2] - a[0]) > 8 * (b[2] - b[0])
    assert a[3] - a[1] < 40  # one line: "\N" did not break it


def test_a_text_animation_is_identical_in_full_chunks_and_windows(service, tmp_path):
    """Frame truth at 30 fps over 2 s: pop in, typewriter out, a keyframed move and opacity, a
    shadow with blur and a box; each chunk and a preview window across a seam are the same frames."""
    clips = [text("Seams are exact", duration=2, font_size=20, shadow={"x": 2, "y": 2, "blur": 2},
                  box={"color": "#3366FF", "opacity": 0.6, "radius": 6},
                  x=[{"t": 0, "value": 0.3, "ease": "ease_in_out"}, [2, 0.7]],
                  opacity=[[0, 0.5], {"t": 1, "value": 1, "ease": "ease_out"}],
                  animation_in={"type": "pop", "duration": 0.7}, animation_out={"type": "typewriter", "duration": 0.8})]
    doc = project([{"id": "o", "kind": "overlay", "clips": clips}], {}, width=W, height=H, fps=FPS, background=BG)
    proj = load_project(write_project(tmp_path, doc))
    profile = get_profile("draft_480p")
    sources = service.gather(proj, tmp_path)
    decision = service.decide(profile, "cpu")

    def pictures(name: str, **kw) -> list[bytes]:
        plan = lossless(build_plan(proj, sources, profile, decision, streams="video", **kw))
        service.render(plan, tmp_path / name)
        with av.open(str(tmp_path / name)) as f:
            return [fr.to_ndarray(format="yuv420p").tobytes() for fr in f.decode(video=0)]

    full = pictures("full.mp4")
    assert len(full) == 60 and len(set(full)) > 30
    chunks = build_plan(proj, sources, profile, decision, chunk_frames=25).chunks
    assert len(chunks) > 1
    for ch in chunks:
        window = (ch.start_frame, ch.end_frame)
        assert pictures("chunk.mp4", window=window, keyframe_at=0) == full[window[0]:window[1]], window
    seam = chunks[1].start_frame
    for window in ((seam - 7, seam + 9), (13, 31), (41, 53)):
        assert pictures("window.mp4", window=window, keyframe_at=0) == full[window[0]:window[1]], window


def test_animations_must_fit_in_the_clip(tmp_path):
    doc = project([{"id": "o", "kind": "overlay", "clips": [
        text("x", duration=1, animation_in={"type": "fade", "duration": 0.6},
             animation_out={"type": "pop", "duration": 0.5})]}], {})
    with pytest.raises(ValidationError) as err:
        load_project(write_project(tmp_path, doc))
    assert any(p.startswith("tracks[0].clips[0].animation_out.duration:") for p in err.value.problems)
    doc["tracks"][0]["clips"][0]["animation_out"]["duration"] = Fraction(2, 5).__str__()
    load_project(write_project(tmp_path, doc))  # 0.6 + 0.4 fits exactly


def test_the_latency_model_counts_styled_text_and_its_layers(tmp_path):
    def work(**style):
        doc = project([{"id": "o", "kind": "overlay", "clips": [text("Hi", **style)]}], {}, width=W, height=H)
        return measure_work(place_project(load_project(write_project(tmp_path, doc))), {}, W, H, 0)

    plain, bold, full = work(), work(bold=True), work(stroke={}, box={}, shadow={"blur": 2})
    mpx = 30 * W * H / 1e6
    assert plain.filter_mpx["text"] == pytest.approx(mpx) and plain.filter_mpx["text_styled"] == 0
    assert bold.filter_mpx["text_styled"] == pytest.approx(mpx) and bold.filter_mpx["text_layers"] == 0
    assert full.filter_mpx["text_layers"] == pytest.approx(3 * mpx)
    assert plain.filters_ms() < bold.filters_ms() < full.filters_ms()
    assert FILTER_MS_PER_MPX["text_styled"] > FILTER_MS_PER_MPX["text"]


def test_a_preview_draws_styled_text(tmp_path):
    root = tmp_path / "home"
    library = MediaLibrary(Registry(f"sqlite:///{root / 'cutlite.db'}"), stores={"dev": LocalStore(root / "objects")})
    doc = project([{"id": "o", "kind": "overlay", "clips": [
        text("Preview", duration=2, bold=True, box={"color": "#FFFFFF", "opacity": 1},
             animation_in={"type": "slide_left", "duration": 1})]}], {}, width=W, height=H)
    result = PreviewService(RenderService(FFmpegRunner(), library=library), model=LatencyModel()).preview(
        write_project(tmp_path, doc), "fast", "1/2", "3/2", output=tmp_path / "p.mp4")
    assert "text_t.ass" in result.plan.files and result.estimate.work.filter_mpx["text_styled"] > 0
    with av.open(str(tmp_path / "p.mp4")) as c:
        pictures = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(pictures) == 30 and all(ink(p).sum() > 500 for p in pictures)  # the box, every frame
