"""The ``filters`` effects: each one's pixels against values worked out here in numpy (BT.709
limited range, the stream's own colours), frame truth of animated effects across windows and
chunks, and what validation and gathering say about bad effects and LUT files."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import lossless, measure, project, psnr, write_project

from engines.errors import AssetError, ValidationError
from engines.ffmpeg.profiles import get_profile
from engines.model.cube import CubeError, parse_cube
from engines.model.effects import EFFECTS
from engines.model.project import load_project
from engines.planning.plan import build_plan
from engines.video_preview.latency import LatencyModel
from engines.video_preview.service import PreviewService
from engines.video_render.service import RenderService

W, H = 160, 120
FPS = 30


# ---------------------------------------------------------------- colour arithmetic (BT.709 limited)

def rgb_to_yuv(rgb) -> np.ndarray:
    r, g, b = (np.asarray(rgb, float)[..., i] / 255 for i in range(3))
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return np.stack([16 + 219 * y, 128 + 224 * (b - y) / 1.8556, 128 + 224 * (r - y) / 1.5748], axis=-1)


def yuv_to_rgb(yuv) -> np.ndarray:
    yuv = np.asarray(yuv, float)
    y, u, v = (yuv[..., 0] - 16) / 219, (yuv[..., 1] - 128) / 224, (yuv[..., 2] - 128) / 224
    r = y + 1.5748 * v
    b = y + 1.8556 * u
    g = (y - 0.2126 * r - 0.0722 * b) / 0.7152
    return np.clip(np.stack([r, g, b], axis=-1) * 255, 0, 255)


def frames_yuv(path: Path) -> list[np.ndarray]:
    """Every frame as an (H, W, 3) array of Y, U, V (chroma upsampled)."""
    with av.open(str(path)) as c:
        return [np.moveaxis(f.to_ndarray(format="yuv444p"), 0, -1).astype(float) for f in c.decode(video=0)]


def frames_rgb(path: Path) -> list[np.ndarray]:
    return [yuv_to_rgb(f) for f in frames_yuv(path)]


def hexc(rgb) -> str:
    return "0x" + "".join(f"{c:02X}" for c in rgb)


# ---------------------------------------------------------------- sources and renders

def make(runner, path: Path, graph: str, seconds: float = 1) -> Path:
    """A lossless BT.709 source from an RGB lavfi graph (tagged, so it is read as made)."""
    runner.run(["-y", "-f", "lavfi", "-i", f"{graph.format(W=W, H=H)},trim=duration={seconds},"
                "scale=out_color_matrix=bt709:out_range=tv,format=yuv444p", "-c:v", "libx264", "-preset", "ultrafast",
                "-qp", "0", "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
                "-color_range", "tv", str(path)], stage="fixture")
    return path


RED, GREY, FLAT = (255, 0, 0), (128, 128, 128), (200, 80, 40)
SQUARE, BACKGROUND, LOWER = (220, 90, 60), (128, 128, 128), (40, 60, 200)


@pytest.fixture(scope="module")
def src(tmp_path_factory, runner) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("effects")
    half = f"color=c={hexc(RED)}:s={{W}}x{{H}}:r={FPS},format=rgb24,drawbox=x={W // 2}:y=0:w={W // 2}:h={H}:color={hexc(GREY)}:t=fill"
    # a green screen with a square whose edge is soft (a 2-pixel ramp) and on odd pixels
    mix = tuple((a + b) // 2 for a, b in zip(SQUARE, (0, 255, 0)))
    screen = (f"color=c=0x00FF00:s={{W}}x{{H}}:r={FPS},format=rgb24,"
              f"drawbox=x=49:y=29:w=62:h=62:color={hexc(mix)}:t=fill,drawbox=x=51:y=31:w=58:h=58:color={hexc(SQUARE)}:t=fill")
    return {
        "halves": make(runner, d / "halves.mp4", half),
        "flat": make(runner, d / "flat.mp4", f"color=c={hexc(FLAT)}:s={{W}}x{{H}}:r={FPS}"),
        "grey": make(runner, d / "grey.mp4", f"color=c=0xB4B4B4:s={{W}}x{{H}}:r={FPS}"),
        "edge": make(runner, d / "edge.mp4", f"color=c=black:s={{W}}x{{H}}:r={FPS},format=rgb24,"
                                             f"drawbox=x={W // 2}:y=0:w={W // 2}:h={H}:color=white:t=fill"),
        "screen": make(runner, d / "screen.mp4", screen),
        "lower": make(runner, d / "lower.mp4", f"color=c={hexc(LOWER)}:s={{W}}x{{H}}:r={FPS}"),
        "counter": make(runner, d / "counter.mp4", f"testsrc2=s={{W}}x{{H}}:r={FPS}", seconds=4),
    }


def render(service, tmp_path: Path, doc: dict, name: str = "out.mp4", **kw) -> Path:
    proj = load_project(write_project(tmp_path, doc, name.replace(".mp4", ".json")))
    profile = get_profile("draft_480p")
    sources = service.gather_all(proj, tmp_path)
    plan = lossless(build_plan(proj, sources, profile, service.decide(profile, "cpu"), **kw))
    assert (plan.width, plan.height) == (W, H)
    service.render(plan, tmp_path / name)
    return tmp_path / name


def one_clip(asset: str, filters: list[dict], assets: dict, **extra) -> dict:
    return project([{"id": "v", "kind": "video", "clips": [
        {"id": "c", "asset": asset, "start": 0, "source_in": 0, "source_out": "1/3", "filters": filters}]}],
        assets, width=W, height=H, fps=FPS, **extra)


def centre(picture: np.ndarray, x: int, y: int, r: int = 4) -> np.ndarray:
    return picture[y - r:y + r + 1, x - r:x + r + 1].reshape(-1, picture.shape[-1]).mean(axis=0)


# ---------------------------------------------------------------- LUT

def cube_text(size: int, twist: dict[tuple[int, int, int], tuple[float, float, float]]) -> str:
    """An identity LUT except the lattice points in ``twist`` (r, g, b indices: red fastest)."""
    rows = ["TITLE \"test\"", f"LUT_3D_SIZE {size}"]
    for b in range(size):
        for g in range(size):
            for r in range(size):
                out = twist.get((r, g, b), (r / (size - 1), g / (size - 1), b / (size - 1)))
                rows.append(" ".join(f"{c:.6f}" for c in out))
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("intensity,want_red", [(1, (0, 0, 255)), (0.5, (127.5, 0, 127.5))])
def test_a_lut_maps_a_known_colour_and_its_intensity_mixes(service, src, tmp_path, intensity, want_red):
    """Identity except red -> blue: the red half turns blue (mixed by the intensity), the grey
    half (on the diagonal: tetrahedral interpolation reads only black and white) stays grey."""
    (tmp_path / "twist.cube").write_text(cube_text(2, {(1, 0, 0): (0.0, 0.0, 1.0)}))
    doc = one_clip("h", [{"type": "lut", "asset": "twist", "intensity": intensity}],
                   {"h": src["halves"], "twist": tmp_path / "twist.cube"})
    pics = frames_rgb(render(service, tmp_path, doc))
    assert len(pics) == 10
    red, grey = centre(pics[5], W // 4, H // 2), centre(pics[5], 3 * W // 4, H // 2)
    assert np.abs(red - want_red).max() <= 4, red
    assert np.abs(grey - GREY).max() <= 3, grey


# ---------------------------------------------------------------- colour: hue and temperature

def test_hue_turns_the_chroma_plane_by_its_angle(service, src, tmp_path):
    doc = one_clip("f", [{"type": "color", "hue": 90}], {"f": src["flat"]})
    got = centre(frames_yuv(render(service, tmp_path, doc))[3], W // 2, H // 2)
    y, u, v = rgb_to_yuv(FLAT)
    a = math.radians(90)
    want = (y, 128 + (u - 128) * math.cos(a) - (v - 128) * math.sin(a),
            128 + (u - 128) * math.sin(a) + (v - 128) * math.cos(a))
    assert np.abs(got - want).max() <= 1.5, (got, want)


def test_temperature_warms_the_highlights_and_leaves_black(service, src, tmp_path):
    """+0.5: V up and U down by luma × 0.05 of the range (``colorcorrect``'s rh/bh): red up,
    blue down; a cooler temperature the other way."""
    base = rgb_to_yuv((180, 180, 180))
    for t in (0.5, -0.5):
        doc = one_clip("g", [{"type": "color", "temperature": t}], {"g": src["grey"]})
        got = centre(frames_yuv(render(service, tmp_path, doc, f"t{t}.mp4"))[3], W // 2, H // 2)
        shift = base[0] / 255 * 0.1 * t * 255
        want = (base[0], base[1] - shift, base[2] + shift)
        assert np.abs(got - want).max() <= 1.5, (t, got, want)
        r, _, b = yuv_to_rgb(got)
        assert (r > 190 and b < 170) if t > 0 else (r < 170 and b > 190), (t, r, b)


def test_color_with_default_hue_and_temperature_is_the_plain_eq():
    effect = EFFECTS["color"].model_validate({"type": "color", "brightness": 0.1})
    assert len(effect.chain(_FakeContext())) == 1


# ---------------------------------------------------------------- blur and vignette

@pytest.mark.parametrize("radius", [4, 10])
def test_blur_spreads_a_sharp_edge_radius_pixels_each_side(service, src, tmp_path, radius):
    """A Gaussian of sigma radius/2: the edge's 10 %..90 % rise is 2.563 sigma wide, and it
    reaches 2.3 % / 97.7 % at ``radius`` pixels from the edge."""
    doc = one_clip("e", [{"type": "blur", "radius": radius}], {"e": src["edge"]})
    row = frames_yuv(render(service, tmp_path, doc))[3][H // 2, :, 0]
    lo, hi = row[:W // 2 - 3 * radius].mean(), row[W // 2 + 3 * radius:].mean()
    p = (row - lo) / (hi - lo)
    cross = [float(np.interp(q, p, np.arange(W))) for q in (0.1, 0.9)]
    assert cross[1] - cross[0] == pytest.approx(2.563 * radius / 2, rel=0.3), (cross, p.round(2))
    # an edge at x = W/2 (between pixels W/2-1 and W/2)
    edge = W / 2 - 0.5
    for x in (int(edge - radius), int(edge + radius) + 1):
        want = 0.5 * (1 + math.erf((x - edge) / (radius / 2) / math.sqrt(2)))
        assert abs(p[x] - want) <= 0.06, (x, p[x], want)


def test_vignette_darkens_by_cos4_of_the_angle_at_each_distance(service, src, tmp_path):
    amount = 0.5
    doc = one_clip("g", [{"type": "vignette", "amount": amount}], {"g": src["grey"]})
    y = frames_yuv(render(service, tmp_path, doc))[3][..., 0]
    yc = rgb_to_yuv((180, 180, 180))[0]
    xs, ys = np.meshgrid(np.arange(W), np.arange(H))
    d = np.hypot(xs - W / 2, ys - H / 2) / math.hypot(W / 2, H / 2)
    want = yc * np.cos(amount * math.pi / 2 * d) ** 4
    assert np.abs(y - want).max() <= 2, np.abs(y - want).max()
    assert y[0, 0] == pytest.approx(yc * 0.25, abs=2)  # a corner: cos^4(45 degrees) = 1/4


# ---------------------------------------------------------------- chroma key

def check_keyed(pic: np.ndarray, below) -> None:
    """Outside the square: what is below; inside: the square; on its edge: no green over red and blue."""
    xs, ys = np.meshgrid(np.arange(W), np.arange(H))
    # distance outside the square's soft edge (49..111 x 29..91), negative inside
    dx = np.maximum(49 - xs, xs - 110)
    dy = np.maximum(29 - ys, ys - 90)
    dist = np.maximum(dx, dy)
    outside, inside = dist >= 3, dist <= -5
    assert np.abs(pic[outside] - below).max() <= 4, np.abs(pic[outside] - below).max(axis=0)
    assert np.abs(pic[inside] - SQUARE).max() <= 4, np.abs(pic[inside] - SQUARE).max(axis=0)
    ring = ~outside & ~inside
    green = pic[ring][:, 1] - np.maximum(pic[ring][:, 0], pic[ring][:, 2])
    assert green.max() <= 3, f"a green fringe: G exceeds max(R, B) by {green.max():.1f}"


def test_a_green_screen_shows_the_background_with_no_green_fringe(service, src, tmp_path):
    doc = one_clip("s", [{"type": "chroma_key", "spill": 1}], {"s": src["screen"]}, background="#808080")
    pics = frames_rgb(render(service, tmp_path, doc))
    check_keyed(pics[4], BACKGROUND)
    # a clip that moves (drawn on a canvas by ``overlay``), by less than a pixel
    doc["tracks"][0]["clips"][0]["x"] = [[0, 0.5], [10, 0.5001]]
    check_keyed(frames_rgb(render(service, tmp_path, doc, "moving.mp4"))[4], BACKGROUND)


def test_a_keyed_clip_on_a_higher_track_shows_the_track_below(service, src, tmp_path):
    key = [{"type": "chroma_key", "spill": 1}]
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "b", "asset": "l", "start": 0, "source_in": 0, "source_out": "1/3"}]},
        {"id": "v2", "kind": "video", "clips": [
            {"id": "k", "asset": "s", "start": 0, "source_in": 0, "source_out": "1/3", "filters": key}]},
        {"id": "o", "kind": "overlay", "clips": []}],
        {"s": src["screen"], "l": src["lower"]}, width=W, height=H, fps=FPS)
    check_keyed(frames_rgb(render(service, tmp_path, doc, "track.mp4"))[4], LOWER)
    # the same key on an overlay at full size, over the lower clip
    doc["tracks"][1] = {"id": "o2", "kind": "overlay", "clips": [
        {"id": "k", "asset": "s", "start": 0, "source_in": 0, "source_out": "1/3", "scale": 1, "filters": key}]}
    check_keyed(frames_rgb(render(service, tmp_path, doc, "overlay.mp4"))[4], LOWER)


def test_spill_takes_out_the_key_colour_from_the_edge(service, src, tmp_path):
    """Without spill suppression the soft edge keeps green; the default takes half of it out."""
    excess = {}
    for spill in (0, 0.5):
        doc = one_clip("s", [{"type": "chroma_key", "spill": spill}], {"s": src["screen"]}, background="#808080")
        pic = frames_rgb(render(service, tmp_path, doc, f"spill{spill}.mp4"))[4]
        ring = pic[27:33, 47:113]  # the top edge band
        excess[spill] = float((ring[..., 1] - np.maximum(ring[..., 0], ring[..., 2])).max())
    assert excess[0] > 10 and excess[0.5] < excess[0], excess


# ---------------------------------------------------------------- frame truth of animated effects

def animated_doc(src: dict[str, Path], lut: Path) -> dict:
    return project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "n", "start": 0, "source_in": 0, "source_out": 2, "filters": [
            {"type": "color", "hue": [[0, -90], {"t": 2, "value": 120, "ease": "ease_in_out"}],
             "temperature": [[0, 0.8], [2, -0.6]], "brightness": [[0, 0], [1, 0.2]]},
            {"type": "blur", "radius": [[0, 0], {"t": "3/2", "value": 6, "ease": "ease_out"}]}]},
        {"id": "b", "asset": "n", "start": 2, "source_in": 1, "source_out": 3, "filters": [
            {"type": "lut", "asset": "twist", "intensity": [[0, 0.1], [1, 0.9]]},
            {"type": "vignette", "amount": [[0, 0.2], [1, 0.8]]}]}]},
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "k", "asset": "s", "start": "1/2", "source_in": 0, "source_out": 1, "scale": 0.5,
             "x": [[0, 0.3], [1, 0.7]],
             "filters": [{"type": "chroma_key", "similarity": [[0, 0.1], [1, 0.4]], "spill": [[0, 0], [1, 1]]}]},
            {"id": "m", "asset": "s", "start": "5/2", "source_in": 0, "source_out": 1, "scale": 0.5,
             "filters": [{"type": "chroma_key", "smoothness": [[0, 0], [1, 0.3]]},
                         {"type": "vignette", "amount": [[0, 1], [1, 0]]}]}]}],
        {"n": src["counter"], "s": src["screen"], "twist": lut}, width=W, height=H, fps=FPS)


def test_animated_effects_give_the_same_frames_in_every_window(service, src, tmp_path):
    """Frame truth: a window (a chunk, a preview) that starts or ends inside animated colour, hue,
    temperature, blur, LUT intensity, vignette and chroma-key curves shows exactly the single
    pass's frames (expressions of the clip's own frame, or values sent before each frame)."""
    (tmp_path / "twist.cube").write_text(cube_text(3, {(2, 0, 0): (0.0, 0.2, 1.0), (1, 1, 0): (0.9, 0.1, 0.4)}))
    doc = animated_doc(src, tmp_path / "twist.cube")

    def pictures(name: str, **kw) -> list[bytes]:
        out = render(service, tmp_path, doc, name, streams="video", **kw)
        with av.open(str(out)) as f:
            return [fr.to_ndarray(format="yuv420p").tobytes() for fr in f.decode(video=0)]

    full = pictures("full.mp4")
    assert len(full) == 120
    assert len(set(full[0:60:6])) == 10  # the curves do change the pictures
    for window in ((7, 40), (29, 61), (50, 90), (75, 83), (100, 120)):
        assert pictures("window.mp4", window=window, keyframe_at=0) == full[window[0]:window[1]], window


def test_animated_effects_in_chunks_and_a_preview_window_match_the_single_pass(tmp_path, src, runner):
    """The job runner's chunks and the preview service's window across a chunk seam (real
    encodes: the same pictures within coding noise, and the animation where the single pass has it)."""
    (tmp_path / "twist.cube").write_text(cube_text(2, {(1, 0, 0): (0.0, 0.0, 1.0)}))
    path = write_project(tmp_path, animated_doc(src, tmp_path / "twist.cube"), "anim.json")
    svc = RenderService(runner)
    previews = PreviewService(svc, model=LatencyModel(), allow_full_res_fallback=True)
    try:
        plan = svc.plan_project(path, "draft_480p", "cpu")
        svc.render(plan, tmp_path / "single.mp4")
        single = measure(tmp_path / "single.mp4").pictures
        out = tmp_path / "chunked.mp4"
        job, _ = svc.submit_job(path, "draft_480p", options={"chunk_seconds": 1}, hw="cpu", output=str(out))
        done = svc.run_job(job.id, workers=1)
        assert done.state == "COMPLETED", done.error
        chunked = measure(out).pictures
        assert len(chunked) == len(single) == 120
        worst = min((psnr(x, y), i) for i, (x, y) in enumerate(zip(chunked, single)))
        # coding noise of a draft encode of testsrc2 is 30..37 dB; a frame's animation one frame
        # off (the frames compared one apart) is 17..25 dB, a seam out of step 5 dB
        assert worst[0] >= 29, f"chunked frame {worst[1]} is {worst[0]:.1f} dB from the single pass"
        previews.preview(path, "fast", "5/6", "4/3", output=tmp_path / "window.mp4")  # frames 25..40, seam at 30
        window = measure(tmp_path / "window.mp4").pictures
        assert len(window) == 15
        worst = min((psnr(x, y), i) for i, (x, y) in enumerate(zip(window, single[25:40])))
        # a preview's faster encode: 28..30 dB where the frames match, 21..25 one frame off
        assert worst[0] >= 27, f"preview frame {25 + worst[1]} is {worst[0]:.1f} dB from the single pass"
    finally:
        previews.close(cancel=True)


# ---------------------------------------------------------------- validation

def test_an_unknown_effect_lists_the_known_ones(src):
    with pytest.raises(ValidationError) as exc:
        load_project(one_clip("f", [{"type": "sepia"}], {"f": src["flat"]}))
    text = " ".join(exc.value.context["problems"])
    assert "tracks[0].clips[0].filters[0]" in text
    for name in EFFECTS:
        assert name in text, text


@pytest.mark.parametrize("text,line,message", [
    ("LUT_3D_SIZE 2\n0 0 0\n1 0\n", 3, "line 3: expected 3 numbers, got 2"),
    ("# c\nLUT_3D_SIZE 300\n", 2, "line 2: LUT_3D_SIZE 300 is outside 2..256"),
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 7, None, "7 rows, expected 8"),
    ("0 0 0\n", 1, "line 1: a row before LUT_3D_SIZE"),
    ("TITLE \"x\"\n", None, "no LUT_3D_SIZE line"),
    ("LUT_3D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 0 1\n" + "0 0 0\n" * 8, None, "DOMAIN_MIN 0 0 0 is not below"),
    ("LUT_3D_SIZE 2\n0 0 0\n0 x 0\n", 3, "line 3: not a number: 'x'"),
    ("LUT_1D_SIZE 16\n", 1, "a 1D LUT"),
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 9, 10, "line 10: more than 8 rows"),
])
def test_a_bad_cube_file_is_named_by_its_line(text, line, message):
    with pytest.raises(CubeError, match=message.replace("(", r"\(")):
        parse_cube(text)


def test_a_good_cube_file_parses():
    cube = parse_cube("# made by hand\nTITLE \"t\"\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n" + cube_text(3, {}))
    assert cube.size == 3 and cube.title == "test"


def test_lut_asset_problems_are_named(service, src, tmp_path):
    (tmp_path / "bad.cube").write_text("LUT_3D_SIZE 2\n0 0 0\n1 0\n")
    doc = one_clip("f", [{"type": "lut", "asset": "mylut"}], {"f": src["flat"], "mylut": tmp_path / "bad.cube"})
    with pytest.raises(AssetError) as exc:
        service.gather_all(load_project(doc), tmp_path)
    assert "assets.mylut: line 3: expected 3 numbers, got 2" in exc.value.context["problems"]
    doc = one_clip("f", [{"type": "lut", "asset": "gone"}], {"f": src["flat"], "gone": tmp_path / "gone.cube"})
    with pytest.raises(AssetError) as exc:
        service.gather_all(load_project(doc), tmp_path)
    assert any(p.startswith("assets.gone: cannot read the LUT file") for p in exc.value.context["problems"]), exc.value.context["problems"]
    with pytest.raises(ValidationError) as exc:
        load_project(one_clip("f", [{"type": "lut", "asset": "nope"}], {"f": src["flat"]}))
    assert "tracks[0].clips[0].filters[0].asset: unknown asset \"nope\"" in exc.value.context["problems"]
    with pytest.raises(ValidationError) as exc:
        load_project(one_clip("f", [{"type": "lut", "asset": "f"}], {"f": src["flat"]}))
    assert "tracks[0].clips[0].filters[0].asset: \"f\" is not a LUT: a lut reads a .cube file" in exc.value.context["problems"]
    with pytest.raises(ValidationError) as exc:
        load_project(one_clip("l", [], {"l": tmp_path / "bad.cube"}))
    assert any(p.startswith("tracks[0].clips[0].asset: \"l\" is a LUT (a .cube file), not media")
               for p in exc.value.context["problems"]), exc.value.context["problems"]


def test_a_lut_file_is_linked_not_probed(service, src, tmp_path):
    (tmp_path / "id.cube").write_text(cube_text(2, {}))
    proj = load_project(one_clip("f", [{"type": "lut", "asset": "id", "intensity": 0.5}],
                                 {"f": src["flat"], "id": tmp_path / "id.cube"}))
    sources = service.gather_all(proj, tmp_path)
    assert sources.files == {"id": str((tmp_path / "id.cube").resolve())} and set(sources.media) == {"f"}
    plan = build_plan(proj, sources, get_profile("draft_480p"), service.decide(get_profile("draft_480p"), "cpu"))
    assert plan.links[str((tmp_path / "id.cube").resolve())].endswith(".cube")


# ---------------------------------------------------------------- helpers

class _FakeContext:
    width, height, scale_y, alpha = W, H, Fraction(1), False

    def curve(self, kf):
        return str(kf.constant)

    def file(self, asset):
        return asset

    def instance(self, name):
        return f"{name}@fx1"

    def start(self, kf):
        return kf.constant

    def commands(self, target, kf, command):
        return []


def test_the_latency_weights_follow_the_bench():
    """Each effect's weight (its COST, relative to eq = 1, from bench/bench_effects.py) as configured:
    an effect that draws nothing weighs nothing, a LUT below full intensity pays for its mix."""
    def weight(doc: dict) -> float:
        return EFFECTS[doc["type"]].model_validate(doc).weight
    assert weight({"type": "color", "brightness": 0.1}) == 1
    assert weight({"type": "color", "hue": 10}) == EFFECTS["color"].HUE_COST
    assert weight({"type": "lut", "asset": "x", "intensity": 0.5}) > weight({"type": "lut", "asset": "x"}) > 1
    assert weight({"type": "blur", "radius": 0}) == weight({"type": "vignette", "amount": 0}) == 0
    assert weight({"type": "chroma_key"}) > weight({"type": "lut", "asset": "x"}) > weight({"type": "blur"}) > 1


def test_a_registered_lut_is_kind_lut_and_renders_by_asset_id(src, tmp_path, runner):
    """media_v2 takes a .cube as an asset of kind ``lut`` (checked, not probed), refuses a bad one
    by its line, and a project reads it by ``asset_id``."""
    from conftest import service_for
    svc = service_for(tmp_path / "home", runner)
    (tmp_path / "twist.cube").write_text(cube_text(2, {(1, 0, 0): (0.0, 0.0, 1.0)}))
    asset, created = svc.library.register_file("acme", "dev", tmp_path / "twist.cube")
    assert created and asset.kind == "lut" and asset.probe == {"lut_size": 2}
    (tmp_path / "bad.cube").write_text("LUT_3D_SIZE 2\n0 0 0\n1 0\n")
    with pytest.raises(AssetError, match="bad.cube: line 3: expected 3 numbers, got 2"):
        svc.library.register_file("acme", "dev", tmp_path / "bad.cube")
    doc = one_clip("h", [{"type": "lut", "asset": "twist"}], {"h": src["halves"]})
    doc["assets"]["twist"] = {"asset_id": asset.id}
    pics = frames_rgb(render(svc, tmp_path, doc))
    assert np.abs(centre(pics[5], W // 4, H // 2) - (0, 0, 255)).max() <= 4
    # used as a clip's media instead: refused, not probed
    doc = one_clip("l", [], {"l": src["halves"]})
    doc["assets"]["l"] = {"asset_id": asset.id}
    with pytest.raises(AssetError) as exc:
        svc.gather_all(load_project(doc), tmp_path)
    assert any("a .cube LUT, not media" in p for p in exc.value.context["problems"]), exc.value.context
