"""A CapCut/JianYing segment's looks as project fields: filters (as the nearest built-in look),
chroma keys, masks, canvases (background fill), mix modes, and a text's style and animations.

The shapes are the ones the app and public draft writers (pyJianYingDraft) store: filters and mix
modes in ``materials.effects`` (``type`` ``filter`` / ``mix_mode``; the app also keeps filters in
``materials.filters``), ``materials.chromas``, ``materials.masks``, ``materials.canvases``,
``materials.material_animations`` (``sticker_animation``: in / out / loop), and a text's style inside
its material (``content`` JSON styles, ``alignment``, ``line_spacing``, ``background_*``). Where the
app's look has no exact equivalent the nearest one is used and a warning names it, so what an
import approximates is always said.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Callable

from engines.model.effects import EFFECTS
from engines.model.looks import CAPCUT_BLENDS, CAPCUT_MASKS
from engines.model.text_style import CAPCUT_ANIMATIONS

from .document import time_text

US = 1_000_000
Warn = Callable[[str, str], None]
Material = tuple[str, dict[str, Any]]  # (materials key, the material)

# the materials this module turns into fields: the converter warns about none of them
LOOK_KINDS = ("effects", "filters", "mix_modes", "chromas", "masks", "common_mask", "canvases")


def _name(mat: dict[str, Any]) -> str:
    return str(mat.get("name") or mat.get("effect_name") or mat.get("resource_id") or "unnamed")


def _number(v: Any, default: float) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else default


def _clamp(v: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, v))


def _hex(v: Any) -> str | None:
    """``#RRGGBB`` from the app's ``#rrggbbaa`` / ``#rrggbb`` or an ``[r, g, b]`` list of 0..1."""
    if isinstance(v, str) and len(v) in (7, 9) and v.startswith("#"):
        try:
            int(v[1:], 16)
        except ValueError:
            return None
        return v[:7].upper()
    if isinstance(v, list) and len(v) >= 3 and all(isinstance(c, (int, float)) for c in v[:3]):
        return "#" + "".join(f"{round(_clamp(float(c), 0, 1) * 255):02X}" for c in v[:3])
    return None


def filter_look(name: str, intensity: float) -> dict[str, Any] | None:
    """The built-in effect nearest to a CapCut filter (by the names each effect module lists and the
    colour effect's keywords), at the filter's intensity; None when nothing is near."""
    for cls in EFFECTS.values():
        doc = cls.from_capcut(name, intensity)
        if doc is not None:
            return doc
    return None


def clip_looks(where: str, extras: list[Material], clip: dict[str, Any], warn: Warn, *,
               video_track: bool) -> list[Material]:
    """Filters, chroma key, mask, mix mode and canvas of a video or image segment, into ``clip``.
    Returns the extras that are not looks (the converter warns about those it cannot carry)."""
    filters: list[dict[str, Any]] = list(clip.get("filters", []))
    rest: list[Material] = []
    for kind, mat in extras:
        mtype = str(mat.get("type") or "")
        other_effect = kind == "effects" and mtype not in ("filter", "mix_mode")  # text shapes, scene effects
        if (kind not in LOOK_KINDS and kind != "video_effects") or other_effect:
            rest.append((kind, mat))
        elif kind == "video_effects":  # scene effects: a few have a built-in look (blur, vignette)
            look = filter_look(_name(mat), 1.0)
            if look is None:
                rest.append((kind, mat))
            else:
                filters.append(look)
                warn(where, f"effect \"{_name(mat)}\" rendered as the nearest built-in look: {look['type']}")
        elif kind == "chromas":
            key = _chroma(mat)
            if key is not None:
                filters.insert(0, key)  # the key first: the other looks see the keyed picture
        elif kind == "filters" or mtype == "filter":
            intensity = _clamp(_number(mat.get("value", mat.get("intensity")), 1.0), 0, 1)
            look = filter_look(_name(mat), intensity)
            if look is None:
                warn(where, f"filter \"{_name(mat)}\" has no built-in equivalent; not applied")
            else:
                filters.append(look)
                shown = ", ".join(f"{k} {v}" for k, v in look.items() if k != "type")
                warn(where, f"filter \"{_name(mat)}\" rendered as the nearest built-in look: {look['type']}"
                            + (f" ({shown})" if shown else ""))
        elif mtype == "mix_mode" or kind == "mix_modes":
            mode = CAPCUT_BLENDS.get(_name(mat).strip().lower())
            if mode is None:
                warn(where, f"mix mode \"{_name(mat)}\" has no built-in equivalent; drawn normally")
            elif mode != "normal":
                clip["blend"] = mode
        elif kind in ("masks", "common_mask"):
            mask = _mask(where, mat, warn)
            if mask is not None:
                clip["mask"] = mask
        elif kind == "canvases":
            canvas = _canvas(mat)
            if canvas is None:
                if mtype not in ("", "none", "canvas_color"):
                    warn(where, f"canvas \"{mtype}\" (a background picture) is not carried over; "
                                f"the project background is used")
                continue
            if not video_track or clip.get("fit", "contain") != "contain":
                warn(where, f"canvas \"{mtype}\" fills a main-track clip's bars only; not shown here")
            else:
                clip["canvas"] = canvas
    if filters:
        clip["filters"] = filters
    return rest


def _chroma(mat: dict[str, Any]) -> dict[str, Any] | None:
    """The app's chroma key: ``color`` (``#rrggbbaa``; empty when the key is off), ``intensity_value``
    (how far from the colour still keys out), ``edge_smooth_value``, ``spill_value``."""
    color = _hex(mat.get("color"))
    if color is None:
        return None
    return {"type": "chroma_key", "color": color,
            "similarity": round(_clamp(_number(mat.get("intensity_value"), 0.3), 0, 1), 6),
            "smoothness": round(_clamp(_number(mat.get("edge_smooth_value"), 0.1), 0, 1), 6),
            "spill": round(_clamp(_number(mat.get("spill_value"), 0.5), 0, 1), 6)}


def _mask(where: str, mat: dict[str, Any], warn: Warn) -> dict[str, Any] | None:
    """``config``: centre in half picture sizes from the middle (y up), width and height as fractions
    of the picture, rotation in degrees, feather 0..1, invert; ``resource_type`` names the shape."""
    shape = CAPCUT_MASKS.get(str(mat.get("resource_type") or mat.get("name") or "").strip().lower())
    if shape is None:
        warn(where, f"mask \"{_name(mat)}\" has no built-in shape; not applied")
        return None
    c = mat.get("config") if isinstance(mat.get("config"), dict) else {}
    mask: dict[str, Any] = {"shape": shape,
                            "x": round(_clamp(0.5 + _number(c.get("centerX"), 0.0) / 2, -1, 2), 6),
                            "y": round(_clamp(0.5 - _number(c.get("centerY"), 0.0) / 2, -1, 2), 6),
                            "width": round(_clamp(_number(c.get("width"), 1.0), 0, 4), 6),
                            "height": round(_clamp(_number(c.get("height"), 1.0), 0, 4), 6),
                            "rotation": round(_clamp(_number(c.get("rotation"), 0.0), -3600, 3600), 6),
                            "feather": round(_clamp(_number(c.get("feather"), 0.0), 0, 1), 6),
                            "invert": bool(c.get("invert"))}
    if shape == "linear":  # the app's line keeps the side above it (pyJianYingDraft: "hides the lower part")
        mask["invert"] = not mask["invert"]
    if _number(c.get("roundCorner"), 0.0) > 0:
        warn(where, f"mask \"{_name(mat)}\": rounded corners drawn square")
    return mask


def _canvas(mat: dict[str, Any]) -> dict[str, Any] | None:
    """``canvas_blur`` (``blur`` 0..1), ``canvas_color`` (``#rrggbbaa``; a transparent one is no fill),
    ``canvas_image`` (an image file: not carried, the picture's own blur is the nearest)."""
    kind = str(mat.get("type") or "")
    if kind == "canvas_blur":
        return {"type": "blur", "amount": round(_clamp(_number(mat.get("blur"), 0.5), 0, 1), 6)}
    if kind == "canvas_color":
        color = mat.get("color")
        if not isinstance(color, str) or _hex(color) is None or (len(color) == 9 and color[7:].lower() == "00"):
            return None
        return {"type": "color", "color": _hex(color)}
    return None


# ---------------------------------------------------------------- text

def text_style(where: str, mat: dict[str, Any], style: dict[str, Any], clip: dict[str, Any], warn: Warn) -> None:
    """A text material's style into a text clip's fields. Sizes in the app are relative to the font
    size; here they are pixels at the project height, so they are scaled by the clip's font size."""
    size = float(clip.get("font_size", 64))
    if style.get("bold"):
        clip["bold"] = True
    if style.get("italic"):
        clip["italic"] = True
    stroke = style.get("stroke")
    if isinstance(stroke, dict):
        # pyJianYingDraft writes the app's 0..100 as width / 100 * 0.2
        width = _clamp(_number(stroke.get("width"), 0.08) / 0.2 * 0.1 * size, 0, 100)
        color = _hex(((stroke.get("content") or {}).get("solid") or {}).get("color")) or "#000000"
        if width > 0:
            clip["stroke"] = {"color": color, "width": round(width, 2)}
    elif mat.get("border_color") and isinstance(mat.get("border_color"), str):
        clip["stroke"] = {"color": _hex(mat["border_color"]) or "#000000",
                          "width": round(_clamp(_number(mat.get("border_width"), 0.08) / 0.2 * 0.1 * size, 0, 100), 2)}
    shadow = style.get("shadow")
    if isinstance(shadow, dict) or mat.get("has_shadow"):
        s = shadow if isinstance(shadow, dict) else {}
        distance = _number(s.get("distance"), 5.0) / 100 * size
        angle = math.radians(_number(s.get("angle"), -45.0))
        clip["shadow"] = {"color": _hex(((s.get("content") or {}).get("solid") or {}).get("color")) or "#000000",
                          "x": round(_clamp(distance * math.cos(angle), -200, 200), 2),
                          "y": round(_clamp(-distance * math.sin(angle), -200, 200), 2),
                          "blur": round(_clamp(_number(s.get("diffuse"), 0.025) * 6 * 0.2 * size, 0, 100), 2)}
    background = mat.get("background_color")
    if isinstance(background, str) and _hex(background):
        clip["box"] = {"color": _hex(background), "opacity": round(_clamp(_number(mat.get("background_alpha"), 1), 0, 1), 6),
                       "padding": round(_clamp(_number(mat.get("background_height"), 0.14) * size, 0, 500), 2),
                       "radius": round(_clamp(_number(mat.get("background_round_radius"), 0) * size, 0, 500), 2)}
    align = mat.get("alignment")
    if align in (0, 1, 2):
        clip["align"] = ("left", "center", "right")[align]
    spacing = _number(mat.get("line_spacing"), 0.02)
    if abs(spacing - 0.02) > 1e-9:  # the app's default; each 0.05 is a tenth of a line (approximately)
        clip["line_spacing"] = round(_clamp(1 + (spacing - 0.02) / 0.05 * 0.1, 0.5, 4), 4)
    width = _number(mat.get("line_max_width"), 0.0)
    if (mat.get("type") == "subtitle" or mat.get("force_apply_line_max_width")) and 0.05 <= width <= 1:
        clip["max_width"] = round(width, 6)


def text_animations(where: str, extras: list[Material], clip: dict[str, Any], warn: Warn, length: Fraction,
                    snap: Callable[[Fraction], Fraction]) -> list[Material]:
    """A text's in / out animations (``material_animations``) as ``animation_in`` / ``animation_out``:
    the nearest built-in one by name, on the frame grid, both within the clip. Returns the extras
    left to warn about."""
    rest = []
    found: dict[str, tuple[str, Fraction]] = {}
    for kind, mat in extras:
        if kind != "material_animations":
            rest.append((kind, mat))
            continue
        for anim in [a for a in mat.get("animations") or [] if isinstance(a, dict)]:
            label = str(anim.get("name") or anim.get("resource_id") or "unnamed")
            which = anim.get("type")
            if which not in ("in", "out"):
                warn(where, f"{which or 'unknown'} animation \"{label}\" is not drawn (only in and out animations are)")
                continue
            duration = snap(Fraction(int(_number(anim.get("duration"), 500_000)), US))
            if duration <= 0:
                continue
            kind_name = next((engine for words, engine in CAPCUT_ANIMATIONS if any(w in label.lower() for w in words)),
                             None)
            if kind_name is None:
                warn(where, f"animation \"{label}\" has no built-in equivalent; drawn as a fade")
                kind_name = "fade"
            found[which] = (kind_name, duration)
    total = sum(d for _, d in found.values())
    for which, (kind_name, duration) in found.items():
        if total > length:  # the app lets them overlap; here they share the clip
            duration = snap(duration * length / total)
            warn(where, f"{which} animation shortened to {float(duration):g} s: the in and out animations share the clip")
        clip[f"animation_{which}"] = {"type": kind_name, "duration": time_text(duration)}
    return rest
