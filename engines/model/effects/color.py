"""``color``: brightness, contrast and saturation (ffmpeg's ``eq``), hue (``hue``: the chroma plane
turned about grey, luma kept) and temperature (``colorcorrect``: the highlights' chroma pushed
toward red and away from blue, in proportion to luma, so black stays black), each animatable."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from ..fields import animatable, constant
from .base import Effect, EffectContext

# chroma shift at white for temperature 1 (colorcorrect's units: 1 = the whole chroma range)
TEMPERATURE_SHIFT = 0.1


def _num(x: float) -> str:
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.6f}".rstrip("0").rstrip(".")


class ColorEffect(Effect):
    type: Literal["color"]
    brightness: animatable(-1, 1) = constant(0.0)
    contrast: animatable(0, 3) = constant(1.0)
    saturation: animatable(0, 3) = constant(1.0)
    hue: animatable(-180, 180) = constant(0.0)
    temperature: animatable(-1, 1) = constant(0.0)

    COST: ClassVar[float] = 1.0          # eq
    HUE_COST: ClassVar[float] = 3.0      # hue, beside eq (bench/bench_effects.py)
    TEMPERATURE_COST: ClassVar[float] = 7.5  # colorcorrect
    CAPCUT: ClassVar[tuple[str, ...]] = ("adjust", "调节", "color", "色彩")

    @property
    def weight(self) -> float:
        extra = self.hue.constant != 0.0 or self.temperature.constant != 0.0
        eq = any(getattr(self, n).constant != d for n, d in (("brightness", 0.0), ("contrast", 1.0),
                                                                   ("saturation", 1.0)))
        return ((self.COST if eq or not extra else 0.0) + (self.HUE_COST if self.hue.constant != 0.0 else 0.0)
                + (self.TEMPERATURE_COST if self.temperature.constant != 0.0 else 0.0))

    def chain(self, ctx: EffectContext) -> list[str]:
        out = []
        eq_fields = ("brightness", "contrast", "saturation")
        defaults = {"brightness": 0.0, "contrast": 1.0, "saturation": 1.0}
        extra = self.hue.constant != 0.0 or self.temperature.constant != 0.0
        if not extra or any(getattr(self, n).constant != defaults[n] for n in eq_fields):
            eq_animated = any(getattr(self, n).constant is None for n in eq_fields)
            values = ":".join(f"{name}={ctx.curve(getattr(self, name))}" for name in eq_fields)
            out.append(f"eq={values}" + (":eval=frame" if eq_animated else ""))
        if self.hue.constant != 0.0:
            out.append(f"hue=h={ctx.curve(self.hue)}")  # evaluated once a frame
        if self.temperature.constant != 0.0:
            target = ctx.instance("colorcorrect")

            def shift(v: float) -> list[tuple[str, str]]:
                return [("rh", _num(TEMPERATURE_SHIFT * v)), ("bh", _num(-TEMPERATURE_SHIFT * v))]

            first = ctx.start(self.temperature)
            out += ctx.commands(target, self.temperature, shift)
            out.append(f"{target}=" + ":".join(f"{k}={v}" for k, v in shift(first)))
        return out

    @classmethod
    def from_capcut(cls, name: str, intensity: float) -> dict[str, Any] | None:
        """The app's colour filters (hundreds, by name) as the nearest grade: each word of
        ``CAPCUT_WORDS`` found in the name adds its shift, scaled by the filter's intensity."""
        lowered = name.strip().lower()
        shift: dict[str, float] = {}
        for words, deltas in CAPCUT_WORDS:
            if any(w in lowered for w in words):
                for field, delta in deltas.items():
                    shift[field] = shift.get(field, 0.0) + delta
        if not shift:
            return None
        neutral = {"brightness": 0.0, "contrast": 1.0, "saturation": 1.0, "hue": 0.0, "temperature": 0.0}
        limits = {"brightness": (-1, 1), "contrast": (0, 3), "saturation": (0, 3), "hue": (-180, 180),
                  "temperature": (-1, 1)}
        doc: dict[str, Any] = {"type": "color"}
        for field, delta in sorted(shift.items()):
            lo, hi = limits[field]
            doc[field] = round(min(hi, max(lo, neutral[field] + delta * intensity)), 4)
        return doc


# words in a CapCut/JianYing filter's name (English and Chinese apps) -> the grade they stand for
CAPCUT_WORDS: tuple[tuple[tuple[str, ...], dict[str, float]], ...] = (
    (("黑白", "b&w", "bw", "mono", "noir", "灰", "gray", "grey"), {"saturation": -1.0}),
    (("冷", "cool", "cold", "蓝", "blue", "冬", "冰", "winter", "ice"), {"temperature": -0.4}),
    (("暖", "warm", "夏", "阳", "sun", "橙", "orange", "金", "gold", "秋", "autumn"), {"temperature": 0.4}),
    (("复古", "vintage", "retro", "胶片", "film", "1980", "vhs", "lofi", "低保真", "港风", "古早"),
     {"saturation": -0.25, "temperature": 0.2, "contrast": -0.1}),
    (("亮", "bright", "white", "清透", "clear"), {"brightness": 0.08}),
    (("鲜", "vivid", "亢奋", "浓", "rich", "饱和"), {"saturation": 0.35}),
    (("暗", "dark", "黑金", "moody", "深"), {"brightness": -0.08, "contrast": 0.15}),
    (("绿", "green", "森", "forest"), {"hue": 12.0}),
    (("粉", "pink", "樱", "rose"), {"hue": -12.0, "temperature": 0.1}),
)
