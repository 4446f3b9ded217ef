"""Masks, blend modes and canvases (issue 27): rendered losslessly and measured against values
computed here, independently of the planner."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from conftest import lossless, project, write_project

from engines.ffmpeg import samples
from engines.ffmpeg.profiles import get_profile
from engines.model.project import load_project
from engines.planning.plan import build_plan

W, H = 160, 120
FPS = 30


@pytest.fixture(scope="module")
def flats(tmp_path_factory: pytest.TempPathFactory, runner) -> dict[str, Path]:
    """Flat-colour images (sRGB PNGs) and a portrait one (bars in a landscape frame)."""
    d = tmp_path_factory.mktemp("flats")
    colors = {"light": "0xE0E0E0", "c1": "0x3C78C8", "c2": "0xC8A050", "dark": "0x402010", "bright": "0xF0D8B0",
              "canvas": "0x3050C0"}
    out = {name: samples.make_image(d / f"{name}.png", width=W, height=H, color=c, runner=runner)
           for name, c in colors.items()}
    out["portrait"] = samples.make_image(d / "portrait.png", width=60, height=120, color="0xD04020", runner=runner)
    # a portrait picture whose top half is red and bottom half blue
    split = d / "split.png"
    runner.run(["-y", "-f", "lavfi", "-i", "color=c=red:s=60x120:d=1", "-vf",
                "geq=r='if(lt(Y\\,60)\\,255\\,0)':g=0:b='if(lt(Y\\,60)\\,0\\,255)',format=rgb24",
                "-frames:v", "1", str(split)], stage="fixture")
    out["split"] = split
    return out


def render(service, tmp_path: Path, doc: dict, name: str = "out.mp4", **kw) -> tuple[list[np.ndarray], object]:
    proj = load_project(write_project(tmp_path, doc, name + ".json"))
    profile = get_profile("draft_480p")
    sources = service.gather(proj, tmp_path)
    plan = lossless(build_plan(proj, sources, profile, service.decide(profile, "cpu"), **kw))
    service.render(plan, tmp_path / name)
    with av.open(str(tmp_path / name)) as c:
        return [f.to_ndarray(format="yuv420p") for f in c.decode(video=0)], plan


def luma(frame: np.ndarray) -> np.ndarray:
    return frame[:H].astype(float)


def _planes(frame: np.ndarray):
    y = frame[:H]
    rest = frame[H:].reshape(-1)
    u = rest[:W * H // 4].reshape(H // 2, W // 2)
    v = rest[W * H // 4:].reshape(H // 2, W // 2)
    up = [np.repeat(np.repeat(p, 2, axis=0), 2, axis=1) for p in (u, v)]
    return y, up[0], up[1]


def to_rgb(frame: np.ndarray) -> np.ndarray:
    y, u, v = (p.astype(float) for p in _planes(frame))
    yy, cb, cr = (y - 16) / 219, (u - 128) / 224, (v - 128) / 224
    kr, kb = 0.2126, 0.0722
    r = yy + 2 * (1 - kr) * cr
    b = yy + 2 * (1 - kb) * cb
    g = (yy - kr * r - kb * b) / (1 - kr - kb)
    return np.clip(np.stack([r, g, b], axis=-1) * 255, 0, 255)


def video_clip(asset: str, **extra) -> dict:
    return {"id": extra.pop("id", "a"), "asset": asset, "start": 0, "duration": 1, "fit": "stretch", **extra}


def doc_of(tracks: list[dict], assets: dict[str, Path], **kw) -> dict:
    return project(tracks, assets, width=W, height=H, fps=FPS, **kw)


# ------------------------------------------------------------------ masks

def mask_alpha(shape: str, *, x=0.5, y=0.5, width=1.0, height=1.0, rotation=0.0, feather=0.0, invert=False):
    """The mask's alpha at every pixel centre, computed here from the documented conventions."""
    px, py = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    a = np.radians(rotation)
    dx, dy = px - W * x, py - H * y
    u, v = dx * np.cos(a) + dy * np.sin(a), dy * np.cos(a) - dx * np.sin(a)
    hw, hh = W * width / 2, H * height / 2
    if shape == "rectangle":
        d = np.minimum(hw - abs(u), hh - abs(v))
    elif shape == "ellipse":
        d = (1 - np.hypot(u / hw, v / hh)) * min(hw, hh)
    elif shape == "linear":
        d = v
    else:
        d = hh - abs(v)
    f = feather * min(W, H)
    alpha = np.clip(0.5 + d / f, 0, 1) if f > 0 else (d > 0).astype(float)
    return 1 - alpha if invert else alpha


MASKS = [
    ("rectangle", {"width": 0.5, "height": 0.5}),
    ("rectangle", {"width": 0.5, "height": 0.5, "feather": 0.25}),
    ("rectangle", {"width": 0.6, "height": 0.3, "rotation": 30}),
    ("ellipse", {"width": 0.5, "height": 0.75}),
    ("ellipse", {"width": 0.5, "height": 0.5, "feather": 0.2, "x": 0.4}),
    ("linear", {}),
    ("linear", {"rotation": 90, "x": 0.25}),
    ("linear", {"y": 0.3, "feather": 0.3}),
    ("mirror", {"height": 0.25}),
    ("rectangle", {"width": 0.5, "height": 0.5, "invert": True}),
]


@pytest.mark.parametrize("shape,fields", MASKS, ids=[f"{s}-{'-'.join(f'{k}{v}' for k, v in f.items())}"
                                                      for s, f in MASKS])
def test_a_mask_shows_inside_hides_outside_and_ramps_the_feather(service, flats, tmp_path, shape, fields):
    """A light picture masked on the bottom track over a black background: each pixel's luma is
    the background's plus the picture's times the mask's alpha computed here (within 2 code
    values: 8-bit alpha, rounded twice)."""
    doc = doc_of([{"id": "v", "kind": "video", "clips": [video_clip("light", mask={"shape": shape, **fields})]}],
                 {"light": flats["light"]})
    frames, _ = render(service, tmp_path, doc)
    plain, _ = render(service, tmp_path, doc_of([{"id": "v", "kind": "video", "clips": [video_clip("light")]}],
                                                  {"light": flats["light"]}), "plain.mp4")
    inside = luma(plain[0])
    want = 16 + (inside - 16) * mask_alpha(shape, **fields)
    got = luma(frames[0])
    assert len(frames) == FPS
    err = abs(got - want)
    assert err.max() <= 2, (err.max(), np.unravel_index(err.argmax(), err.shape))
    assert (got > 200).any() and ((got < 20).any())  # both sides are there
    assert (luma(frames[-1]) == got).all()  # a steady mask: every frame the same


def test_a_masked_overlay_shows_what_is_below(service, flats, tmp_path):
    """An overlay with an ellipse mask over a dark picture: outside the ellipse the dark picture."""
    doc = doc_of([{"id": "v", "kind": "video", "clips": [video_clip("dark")]},
                  {"id": "o", "kind": "overlay", "clips": [
                      {"id": "o1", "asset": "light", "start": 0, "duration": 1, "scale": 1,
                       "mask": {"shape": "ellipse", "width": 0.5, "height": 0.5}}]}],
                 {"dark": flats["dark"], "light": flats["light"]})
    frames, _ = render(service, tmp_path, doc)
    y = luma(frames[5])
    below = luma(render(service, tmp_path, doc_of([{"id": "v", "kind": "video", "clips": [video_clip("dark")]}],
                                                   {"dark": flats["dark"]}), "below.mp4")[0][5])
    assert y[60, 80] > 200  # inside: the light picture
    assert (abs(y[:20] - below[:20]) <= 1).all()  # the top rows: outside the ellipse
    assert abs(y[60, 5] - below[60, 5]) <= 1


def test_an_image_with_alpha_keeps_its_transparency_under_a_mask(service, media, tmp_path, runner):
    """A half-transparent logo masked by a rectangle: inside, half of it; outside, nothing."""
    logo = samples.make_image(tmp_path / "half.png", width=64, height=64, color="white", alpha=0.5, runner=runner)
    doc = doc_of([{"id": "o", "kind": "overlay", "clips": [
        {"id": "o1", "asset": "logo", "start": 0, "duration": 1, "scale": 1, "fit": "stretch",
         "mask": {"shape": "rectangle", "width": 0.5}}]}], {"logo": logo})
    frames, _ = render(service, tmp_path, doc)
    y = luma(frames[0])
    assert abs(y[60, 80] - (16 + 219 * 0.5)) <= 3
    assert y[60, 10] <= 17


# ------------------------------------------------------------------ blend modes

def formula(mode: str, below: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """The blend of two 8-bit RGB colours, computed here (image editors' definitions)."""
    a, b = below / 255, clip / 255
    out = {"multiply": a * b, "screen": 1 - (1 - a) * (1 - b),
           "overlay": np.where(a < 0.5, 2 * a * b, 1 - 2 * (1 - a) * (1 - b)),
           "darken": np.minimum(a, b), "lighten": np.maximum(a, b), "add": np.minimum(a + b, 1),
           "difference": abs(a - b)}[mode]
    return out * 255


BLEND_TOLERANCE = 3.0  # per RGB channel, of 255: flat colours through 4:2:0 BT.709 limited range twice


@pytest.mark.parametrize("mode", ["multiply", "screen", "overlay", "darken", "lighten", "add", "difference"])
@pytest.mark.parametrize("pair", [("c1", "c2"), ("dark", "bright")])
def test_each_blend_mode_is_its_formula_on_two_flat_colours(service, flats, tmp_path, mode, pair):
    """An overlay (the middle half of the frame) blended over a flat picture: where it is, the
    formula of the two colours as each renders alone; elsewhere the picture below, untouched."""
    below, above = pair
    assets = {"below": flats[below], "above": flats[above]}
    doc = doc_of([{"id": "v", "kind": "video", "clips": [video_clip("below", duration=2)]},
                  {"id": "o", "kind": "overlay", "clips": [
                      {"id": "o1", "asset": "above", "start": "1/3", "duration": 1, "scale": 0.5, "blend": mode}]}],
                 assets)
    frames, _ = render(service, tmp_path, doc)
    alone_below, _ = render(service, tmp_path, doc_of([{"id": "v", "kind": "video", "clips": [video_clip("below")]}],
                                                      assets), "below.mp4")
    alone_above, _ = render(service, tmp_path, doc_of([{"id": "v", "kind": "video", "clips": [video_clip("above")]}],
                                                      assets), "above.mp4")
    c_below, c_above = to_rgb(alone_below[0])[60, 80], to_rgb(alone_above[0])[60, 80]
    want = formula(mode, c_below, c_above)
    assert len(frames) == 2 * FPS
    got = to_rgb(frames[20])[50:70, 70:90].reshape(-1, 3)
    assert np.abs(got - want).max() <= BLEND_TOLERANCE, (mode, got.mean(axis=0), want, c_below, c_above)
    outside = to_rgb(frames[20])[5, 5]
    assert np.abs(outside - c_below).max() <= 1
    # the frames before and after the overlay are the picture below's, pixel for pixel
    assert (frames[0] == alone_below[0]).all() and (frames[45] == alone_below[0]).all()


def test_a_bottom_track_blend_is_with_the_background(service, flats, tmp_path):
    assets = {"c2": flats["c2"]}
    doc = doc_of([{"id": "v", "kind": "video", "clips": [video_clip("c2", blend="multiply")]}], assets,
                 background="#808080")
    frames, _ = render(service, tmp_path, doc)
    alone, _ = render(service, tmp_path, doc_of([{"id": "v", "kind": "video", "clips": [video_clip("c2")]}], assets),
                      "alone.mp4")
    want = formula("multiply", np.array([128.0, 128.0, 128.0]), to_rgb(alone[0])[60, 80])
    assert np.abs(to_rgb(frames[0])[60, 80] - want).max() <= BLEND_TOLERANCE


# ------------------------------------------------------------------ canvas

def test_a_colour_canvas_fills_the_bars(service, flats, tmp_path):
    doc = doc_of([{"id": "v", "kind": "video", "clips": [
        video_clip("p", fit="contain", canvas={"type": "color", "color": "#30C050"})]}], {"p": flats["portrait"]})
    frames, _ = render(service, tmp_path, doc)
    picture = to_rgb(frames[0])
    assert np.abs(picture[60, 10] - [0x30, 0xC0, 0x50]).max() <= 3
    assert np.abs(picture[60, 150] - [0x30, 0xC0, 0x50]).max() <= 3
    assert np.abs(picture[60, 80] - [0xD0, 0x40, 0x20]).max() <= 4  # the picture, in the middle


def test_an_image_canvas_fills_the_bars(service, flats, tmp_path):
    doc = doc_of([{"id": "v", "kind": "video", "clips": [
        video_clip("p", fit="contain", canvas={"type": "image", "asset": "bg"})]}],
        {"p": flats["portrait"], "bg": flats["canvas"]})
    frames, _ = render(service, tmp_path, doc)
    picture = to_rgb(frames[0])
    for x in (5, 30, 130, 155):
        assert np.abs(picture[60, x] - [0x30, 0x50, 0xC0]).max() <= 4, x
    assert np.abs(picture[60, 80] - [0xD0, 0x40, 0x20]).max() <= 4


def test_a_blurred_canvas_is_the_clip_enlarged_and_blurred(service, flats, tmp_path):
    """A flat picture blurred is its own colour: the bars equal the picture. A red-over-blue one
    enlarged to cover the frame: the bars are red at the top, blue at the bottom, mixed between."""
    doc = doc_of([{"id": "v", "kind": "video", "clips": [
        video_clip("p", fit="contain", canvas={"type": "blur", "amount": 0.5})]}], {"p": flats["portrait"]})
    frames, _ = render(service, tmp_path, doc)
    picture = to_rgb(frames[0])
    assert np.abs(picture[:, :45] - [0xD0, 0x40, 0x20]).max() <= 4
    doc = doc_of([{"id": "v", "kind": "video", "clips": [
        video_clip("s", fit="contain", canvas={"type": "blur", "amount": 0.3})]}], {"s": flats["split"]})
    frames, _ = render(service, tmp_path, doc, "split.mp4")
    picture = to_rgb(frames[0])
    top, bottom, middle = picture[2, 20], picture[117, 20], picture[60, 20]
    assert top[0] > 150 and top[2] < 90, top  # red
    assert bottom[2] > 150 and bottom[0] < 90, bottom  # blue
    assert 60 < middle[0] < 200 and 60 < middle[2] < 200, middle  # the blur mixes them at the seam
    assert (frames[0][:H, 0:45] != 16).any()  # not the background


def test_a_canvas_under_a_masked_clip_shows_where_the_mask_hides(service, flats, tmp_path):
    doc = doc_of([{"id": "v", "kind": "video", "clips": [
        video_clip("p", fit="contain", canvas={"type": "color", "color": "#30C050"},
                   mask={"shape": "rectangle", "height": 0.5})]}], {"p": flats["portrait"]})
    frames, _ = render(service, tmp_path, doc)
    picture = to_rgb(frames[0])
    assert np.abs(picture[60, 80] - [0xD0, 0x40, 0x20]).max() <= 4
    assert np.abs(picture[5, 80] - [0x30, 0xC0, 0x50]).max() <= 4


# ------------------------------------------------------------------ frame truth

def test_an_animated_mask_is_the_same_in_every_window(service, media, tmp_path):
    """A mask whose x and width are keyframed (eased): a window across the clip's frames (a chunk,
    a preview) shows exactly the single pass's frames; the mask moves where the curve says."""
    doc = doc_of([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "c", "start": 0, "source_in": 0, "source_out": 2},
        {"id": "b", "asset": "c", "start": 2, "source_in": 1, "source_out": 3, "mask": {
            "shape": "rectangle", "x": [[0, 0.2], {"t": 1, "value": 0.8, "ease": "ease_in_out"}],
            "width": [[0, 0.2], [2, 0.5]], "height": 0.5, "feather": [[0, 0], [2, 0.1]]}}]},
        {"id": "v2", "kind": "video", "clips": [
            {"id": "h", "asset": "c", "start": "3/2", "source_in": 0, "source_out": "3/2", "blend": "lighten",
             "mask": {"shape": "mirror", "height": 0.4, "rotation": 30}}]},
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "o1", "asset": "c", "start": "5/2", "source_in": 0, "source_out": 1, "scale": 0.4,
             "mask": {"shape": "ellipse", "y": [[0, 0.3], [1, 0.7]]}, "blend": "screen"},
            {"id": "o2", "asset": "c", "start": "11/6", "source_in": 0, "source_out": 1, "x": [[0, 0.3], [1, 0.6]],
             "scale": [[0, 0.3], [1, 0.5]], "rotation": 20,
             "mask": {"shape": "rectangle", "width": [[0, 0.3], [1, 0.9]], "feather": 0.1}}]}],
        {"c": media["counter"]})

    def pictures(name: str, **kw) -> list[bytes]:
        frames, _ = render(service, tmp_path, doc, name, streams="video", **kw)
        return [f.tobytes() for f in frames]

    full = pictures("full.mp4")
    assert len(full) == 4 * FPS
    for window in ((50, 75), (70, 95), (80, 120), (61, 62)):
        assert pictures("window.mp4", window=window, keyframe_at=0) == full[window[0]:window[1]], window


def test_a_canvas_asset_is_gathered_and_must_be_an_image(service, flats, media, tmp_path):
    doc = doc_of([{"id": "v", "kind": "video", "clips": [
        video_clip("p", fit="contain", canvas={"type": "image", "asset": "bg"})]}],
        {"p": flats["portrait"], "bg": flats["canvas"]})
    proj = load_project(write_project(tmp_path, doc))
    sources = service.gather(proj, tmp_path)
    assert "bg" in sources.media and not sources.problems
    doc["assets"]["bg"] = {"path": str(media["red"])}
    proj = load_project(write_project(tmp_path, doc))
    problems = service.gather(proj, tmp_path).problems
    assert any("canvas.asset" in p and "a canvas is an image" in p for p in problems), problems


def test_the_latency_model_counts_masks_canvases_and_blends(flats):
    from engines.ffmpeg.probe import probe
    from engines.model.timeline import place_project
    from engines.video_preview.latency import measure_work

    doc = doc_of([{"id": "v", "kind": "video", "clips": [
        video_clip("p", fit="contain", canvas={"type": "blur"}, blend="screen",
                   mask={"shape": "ellipse", "x": [[0, 0.3], [1, 0.7]]})]},
        {"id": "o", "kind": "overlay", "clips": [{"id": "o1", "asset": "p", "start": 0, "duration": 1,
                                                  "mask": {"shape": "linear"}}]}], {"p": flats["portrait"]})
    proj = load_project(write_project(flats["portrait"].parent, doc))
    work = measure_work(place_project(proj).at_rate(proj.settings.fps), {"p": probe(str(flats["portrait"]))}, W, H, 1)
    px = W * H / 1e6
    assert work.filter_mpx["mask_geq"] == pytest.approx(FPS * px)  # an ellipse: not separable
    assert work.filter_mpx["mask"] == pytest.approx(FPS * px * 0.25 ** 2)
    assert work.filter_mpx["canvas_blur"] == pytest.approx(FPS * px)
    assert work.filter_mpx["blend"] == pytest.approx(FPS * px)


@pytest.mark.parametrize("shape,fields", [
    ("rectangle", {"width": 0.4, "height": 0.5, "feather": 0.1}),
    ("rectangle", {"width": 0.4, "height": 0.3, "rotation": 90, "invert": True}),
    ("linear", {"rotation": 90, "feather": 0.05}),
    ("mirror", {"height": 0.2, "rotation": 180}),
    ("ellipse", {"width": 0.4, "height": 0.6, "feather": 0.1}),
])
def test_a_keyframed_mask_is_its_formula_at_every_frame(service, flats, tmp_path, shape, fields):
    """x keyframed 0.3 -> 0.7 and y 0.4 -> 0.6 over the clip's second: frame k shows the mask at
    the values of its own time (k / 30 s), as computed here (a row and a column stretched for the
    shapes that allow it, ``geq`` on every pixel for the others: the same values)."""
    mask = {"shape": shape, "x": [[0, 0.3], [1, 0.7]], "y": [[0, 0.4], [1, 0.6]], **fields}
    doc = doc_of([{"id": "v", "kind": "video", "clips": [video_clip("light", mask=mask)]}], {"light": flats["light"]})
    frames, _ = render(service, tmp_path, doc)
    plain, _ = render(service, tmp_path, doc_of([{"id": "v", "kind": "video", "clips": [video_clip("light")]}],
                                                  {"light": flats["light"]}), "plain.mp4")
    inside = luma(plain[0])
    for k in (0, 7, 15, 29):
        t = k / FPS
        want = 16 + (inside - 16) * mask_alpha(shape, x=0.3 + 0.4 * t, y=0.4 + 0.2 * t, **fields)
        err = abs(luma(frames[k]) - want)
        assert err.max() <= 2, (k, err.max(), np.unravel_index(err.argmax(), err.shape))


def test_a_moving_clip_carries_its_mask(service, media, flats, tmp_path):
    """An overlay that moves (keyframed x) with a rectangle mask half its width, at opacity 0.5:
    the lime shows, half mixed, in a box 40 x 60 that moves with it; the rest is the picture below."""
    doc = doc_of([{"id": "v", "kind": "video", "clips": [video_clip("dark")]},
                  {"id": "o", "kind": "overlay", "clips": [
                      {"id": "o1", "asset": "logo", "start": 0, "duration": 1, "scale": 0.5, "fit": "stretch",
                       "x": [[0, 0.3], [1, 0.7]], "opacity": 0.5, "mask": {"shape": "rectangle", "width": 0.5}}]}],
                 {"dark": flats["dark"], "logo": media["logo"]})
    frames, plan = render(service, tmp_path, doc)
    assert not plan.meta.get("warnings")
    for k in (0, 15, 29):
        p = to_rgb(frames[k])
        lime = (p[..., 1] > 100) & (p[..., 0] < 80)
        ys, xs = np.nonzero(lime)
        assert abs(lime.sum() - 40 * 60) <= 2 * 60 + 2 * 40, (k, lime.sum())
        centre = 160 * (0.3 + 0.4 * k / FPS)
        assert abs(xs.mean() + 0.5 - centre) <= 1.5, (k, xs.mean(), centre)
        assert abs(p[60, int(centre)][1] - (0x20 + 255) / 2) <= 8  # half the lime over the dark picture


@pytest.mark.parametrize("mode", ["multiply", "difference"])
def test_a_higher_video_track_blends_with_the_tracks_below(service, flats, tmp_path, mode):
    """A clip of the second video track with a blend mode, over a flat bottom track: the formula on
    its frames, the bottom track's own pixels before and after it."""
    assets = {"below": flats["c1"], "above": flats["c2"]}
    doc = doc_of([{"id": "v", "kind": "video", "clips": [video_clip("below", duration=2)]},
                  {"id": "v2", "kind": "video", "clips": [
                      {"id": "b", "asset": "above", "start": "1/2", "duration": 1, "fit": "stretch", "blend": mode}]}],
                 assets)
    frames, plan = render(service, tmp_path, doc)
    alone_below, _ = render(service, tmp_path, doc_of([{"id": "v", "kind": "video", "clips": [video_clip("below")]}],
                                                      assets), "below.mp4")
    alone_above, _ = render(service, tmp_path, doc_of([{"id": "v", "kind": "video", "clips": [video_clip("above")]}],
                                                      assets), "above.mp4")
    want = formula(mode, to_rgb(alone_below[0])[60, 80], to_rgb(alone_above[0])[60, 80])
    assert not plan.meta.get("warnings")
    assert np.abs(to_rgb(frames[30]).reshape(-1, 3) - want).max() <= BLEND_TOLERANCE
    assert (frames[0] == alone_below[0]).all() and (frames[50] == alone_below[0]).all()


def test_looks_in_a_chunked_job_and_a_preview(tmp_path, flats, media):
    """The looks through the job runner (chunks of 1/2 s cut inside an animated mask and a blend)
    and the preview service (a window across that seam): the canvas image is found by both, and
    every chunked frame is within 40 dB of the single pass."""
    from conftest import psnr

    from engines.media_v2.library import MediaLibrary
    from engines.media_v2.registry import Registry
    from engines.media_v2.storage import LocalStore
    from engines.video_preview.latency import LatencyModel
    from engines.video_preview.service import PreviewService
    from engines.video_render.service import RenderService

    home = tmp_path / "home"
    library = MediaLibrary(Registry(f"sqlite:///{home / 'cutlite.db'}"), stores={"dev": LocalStore(home / "objects")})
    svc = RenderService(library=library)
    previews = PreviewService(svc, model=LatencyModel(), allow_full_res_fallback=True)
    doc = doc_of([{"id": "v", "kind": "video", "clips": [
        {"id": "p", "asset": "p", "start": 0, "duration": "3/2", "fit": "contain",
         "canvas": {"type": "image", "asset": "bg"},
         "mask": {"shape": "rectangle", "height": [[0, 0.3], [1, 0.9]], "feather": 0.05}}]},
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "o1", "asset": "c", "start": "1/4", "source_in": 0, "source_out": 1, "scale": 0.5,
             "blend": "overlay", "mask": {"shape": "ellipse", "x": [[0, 0.4], [1, 0.6]]}}]}],
        {"p": flats["portrait"], "bg": flats["canvas"], "c": media["counter"]})
    path = write_project(tmp_path, doc)
    svc.render(svc.plan_project(path, "draft_360p", "cpu"), tmp_path / "single.mp4")

    def pictures(p: Path) -> list[np.ndarray]:
        with av.open(str(p)) as c:
            return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    single = pictures(tmp_path / "single.mp4")
    job, _ = svc.submit_job(path, "draft_360p", options={"chunk_seconds": "1/2"}, hw="cpu",
                            output=str(tmp_path / "chunked.mp4"))
    done = svc.run_job(job.id, workers=1)
    assert done.state == "COMPLETED", done.error
    chunked = pictures(tmp_path / "chunked.mp4")
    assert len(chunked) == len(single) == 45
    worst = min((psnr(x, y), i) for i, (x, y) in enumerate(zip(chunked, single)))
    assert worst[0] >= 40, worst
    result = previews.preview(path, "fast", "1/3", "5/6", output=tmp_path / "window.mp4")
    assert not any("canvas" in w for w in result.warnings), result.warnings
    window = pictures(tmp_path / "window.mp4")
    assert len(window) == 15
    assert np.abs(window[0][window[0].shape[0] // 2, 2].astype(float) - [0x30, 0x50, 0xC0]).max() <= 6
