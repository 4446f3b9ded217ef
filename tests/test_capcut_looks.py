"""A draft written the way public draft tools (pyJianYingDraft) write one, with the looks CapCut
users reach for: filters, a mix mode, a mask, a chroma key, a background blur, and a styled,
animated text. It imports without "not supported" warnings, every look lands in its field, and
what is approximated is said by name."""

from __future__ import annotations

import json

from engines.interchange.capcut import draft_to_project
from engines.interchange.capcut_looks import filter_look
from engines.model.project import load_project

US = 1_000_000


def _seg(material: str, start: int, length: int, extra: list[str], **more) -> dict:
    doc = {"id": f"s-{material}-{start}", "material_id": material,
           "target_timerange": {"start": start * US, "duration": length * US},
           "source_timerange": {"start": 0, "duration": length * US}, "speed": 1.0, "volume": 1.0,
           "extra_material_refs": extra,
           "clip": {"alpha": 1.0, "flip": {"horizontal": False, "vertical": False}, "rotation": 0.0,
                    "scale": {"x": 1.0, "y": 1.0}, "transform": {"x": 0.0, "y": 0.0}}}
    doc.update(more)
    return doc


def pyjianyingdraft_draft() -> dict:
    """The materials as pyJianYingDraft's export_json writes them (filters and mix modes in
    ``effects``; masks, canvases, chromas, material_animations; a text's style in its content)."""
    text = {"styles": [{"fill": {"alpha": 1.0, "content": {"render_type": "solid",
                                                           "solid": {"alpha": 1.0, "color": [1.0, 0.8, 0.0]}}},
                        "range": [0, 5], "size": 10.0, "bold": True, "italic": True, "underline": False,
                        "strokes": [{"content": {"solid": {"alpha": 1.0, "color": [0.0, 0.0, 0.0]}}, "width": 0.08}],
                        "shadows": [{"diffuse": 15 / 100 / 6, "alpha": 1.0, "distance": 5.0,
                                     "content": {"solid": {"color": [0.0, 0.0, 0.0]}}, "angle": -45.0}]}],
            "text": "HELLO"}
    return {
        "canvas_config": {"width": 1280, "height": 720, "ratio": "original"}, "fps": 30.0, "duration": 6 * US,
        "materials": {
            "videos": [{"id": "main", "type": "video", "path": "/m/portrait.mp4", "duration": 10 * US},
                       {"id": "green", "type": "video", "path": "/m/greenscreen.mp4", "duration": 10 * US}],
            "texts": [{"id": "title", "content": json.dumps(text), "typesetting": 0, "alignment": 2,
                       "letter_spacing": 0.0, "line_spacing": 0.02, "line_feed": 1, "line_max_width": 0.6,
                       "force_apply_line_max_width": False, "check_flag": 7 | 8 | 16 | 32, "type": "subtitle",
                       "global_alpha": 1.0, "background_style": 1, "background_color": "#202020",
                       "background_alpha": 0.6, "background_round_radius": 0.1, "background_height": 0.14,
                       "background_width": 0.14, "background_horizontal_offset": 0.0,
                       "background_vertical_offset": 0.0}],
            "effects": [{"id": "f-cool", "type": "filter", "name": "冷蓝", "value": 0.8, "effect_id": "1",
                         "resource_id": "1", "apply_target_type": 0, "adjust_params": []},
                        {"id": "f-odd", "type": "filter", "name": "KV5D", "value": 1.0, "effect_id": "2",
                         "resource_id": "2", "apply_target_type": 0, "adjust_params": []},
                        {"id": "mix", "type": "mix_mode", "name": "滤色", "effect_id": "3", "resource_id": "3",
                         "value": 1.0, "apply_target_type": 0}],
            "masks": [{"id": "mask", "type": "mask", "name": "圆形", "resource_type": "circle", "platform": "all",
                       "config": {"aspectRatio": 1.0, "centerX": 0.2, "centerY": -0.1, "feather": 0.3,
                                  "height": 0.5, "invert": False, "rotation": 15.0, "roundCorner": 0.0,
                                  "width": 0.5}}],
            "canvases": [{"id": "bg", "type": "canvas_blur", "blur": 0.375, "color": "#00000000",
                          "source_platform": 0}],
            "chromas": [{"id": "key", "type": "chroma", "color": "#00ff00ff", "intensity_value": 0.25,
                         "edge_smooth_value": 0.1, "spill_value": 0.6, "shadow_value": 0.0,
                         "should_transfer_color": True, "version": "v2"}],
            "material_animations": [{"id": "anim", "type": "sticker_animation", "animations": [
                {"name": "向上滑动", "type": "in", "start": 0, "duration": 500_000, "platform": "all"},
                {"name": "打字机 I", "type": "out", "start": 1_500_000, "duration": 500_000, "platform": "all"}]}]},
        "tracks": [
            {"type": "video", "segments": [_seg("main", 0, 6, ["f-cool", "f-odd", "bg"])]},
            {"type": "video", "segments": [_seg("green", 1, 4, ["key", "mask", "mix"])]},
            {"type": "text", "segments": [_seg("title", 2, 2, ["anim"], source_timerange=None)]}],
    }


def test_a_pyjianyingdraft_draft_imports_its_looks_without_not_supported_warnings():
    doc, warnings = draft_to_project(pyjianyingdraft_draft(), project_id="looks", tenant="acme", env="dev",
                                     source="draft_content.json")
    assert not [w for w in warnings if "not supported" in w], warnings
    (main,), (green,), (title,) = (t["clips"] for t in doc["tracks"])
    # the filters: the cool one as its nearest grade (said), the one with no equivalent named
    assert main["filters"] == [{"type": "color", "temperature": -0.32}]
    assert any("\"冷蓝\" rendered as the nearest built-in look" in w for w in warnings), warnings
    assert any("\"KV5D\" has no built-in equivalent; not applied" in w for w in warnings), warnings
    assert main["canvas"] == {"type": "blur", "amount": 0.375}
    assert green["filters"] == [{"type": "chroma_key", "color": "#00FF00", "similarity": 0.25, "smoothness": 0.1,
                                 "spill": 0.6}]
    assert green["blend"] == "screen"
    assert green["mask"] == {"shape": "ellipse", "x": 0.6, "y": 0.55, "width": 0.5, "height": 0.5, "rotation": 15.0,
                             "feather": 0.3, "invert": False}
    size = title["font_size"]
    assert title["bold"] is True and title["italic"] is True and title["align"] == "right"
    assert title["stroke"] == {"color": "#000000", "width": round(0.08 / 0.2 * 0.1 * size, 2)}
    assert title["shadow"]["color"] == "#000000" and title["shadow"]["x"] > 0 and title["shadow"]["y"] > 0
    assert title["box"]["color"] == "#202020" and title["box"]["opacity"] == 0.6
    assert title["max_width"] == 0.6
    assert title["animation_in"] == {"type": "slide_up", "duration": "1/2"}
    assert title["animation_out"] == {"type": "typewriter", "duration": "1/2"}
    project = load_project(doc)  # every field the importer wrote is one the model takes
    assert project.tracks[1].clips[0].blend == "screen"


def test_the_nearest_look_of_a_filter_scales_with_its_intensity_and_unknown_names_have_none():
    assert filter_look("黑白", 1.0) == {"type": "color", "saturation": 0.0}
    assert filter_look("黑白", 0.5) == {"type": "color", "saturation": 0.5}
    assert filter_look("Warm Sunset", 1.0) == {"type": "color", "temperature": 0.4}  # one shift a group of words
    assert filter_look("亮夏", 0.5) == {"type": "color", "brightness": 0.04, "temperature": 0.2}
    assert filter_look("ABG", 1.0) is None


def test_before_this_import_the_same_draft_named_every_look_not_supported():
    """The draft above, read as the importer read it before: what the user would have lost."""
    from engines.interchange import capcut
    draft = pyjianyingdraft_draft()
    conv = capcut._Converter(draft, "draft_content.json")
    for ti, track in enumerate(draft["tracks"]):
        for si, s in enumerate(track["segments"]):
            conv._extras(f"tracks[{ti}].segments[{si}]", conv._extra_materials(s), allow=())
    before = conv.b.warnings
    assert len([w for w in before if "not supported" in w]) >= 6, before
