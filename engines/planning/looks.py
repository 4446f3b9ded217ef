"""A clip's looks (its ``filters``) as filter chains: the planner's side of the effect registry
(``engines.model.effects``). Each effect writes its own chain; this module gives it the context it
asks for (its picture's size, the clip's clock for keyframed fields, work-folder files) and keeps
the one rule that matters to frame truth: an effect whose values change over time runs where
the clip's frames are numbered on its own clock, a steady one at the fitted size before it."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from engines.errors import ValidationError
from engines.model.effects import Effect
from engines.model.fields import Keyframes
from engines.model.timebase import frames_to_seconds, to_ffmpeg_seconds
from engines.model.timeline import PlacedClip

from .filtergraph import quote
from .graph import Graph
from .motion import curve


@dataclass(frozen=True)
class _Context:
    """``EffectContext`` for one clip at one place in its chain."""
    g: Graph
    width: int
    height: int
    scale_y: Fraction
    clock: str | None  # the clip's seconds as an expression; None where the chain has no clock
    alpha: bool = False  # the picture carries alpha that must survive the effect
    pc: PlacedClip | None = None  # the clip whose frames the timed chain carries (stream frame i: its frame head + i)
    fps: Fraction = Fraction(1)

    def curve(self, kf: Keyframes) -> str:
        if kf.constant is None and self.clock is None:
            raise AssertionError("a keyframed effect field was drawn where the clip has no clock")
        return curve(kf, self.clock or "")

    def _value(self, kf: Keyframes, i: int) -> float:
        assert self.pc is not None
        return round(kf.value_at(frames_to_seconds(self.pc.head + i, self.fps) + self.pc.offset), 6)

    def instance(self, name: str) -> str:
        return f"{name}@{self.g.label('fx')}"

    def start(self, kf: Keyframes) -> float:
        if kf.constant is not None:
            return kf.constant
        return self._value(kf, 0)

    def commands(self, target: str, kf: Keyframes, command: Callable[[float], list[tuple[str, str]]]) -> list[str]:
        """``sendcmd`` with the commands for every frame whose value changes, the values worked out
        here from the clip's own frame numbers (the model's curve, as ``opacity_table`` does): each
        command timed half a frame before its frame, so no rounding puts it on the wrong one."""
        if kf.constant is not None:
            return []
        if self.pc is None:
            raise AssertionError("a keyframed effect field was drawn where the clip has no clock")
        lines, last = [], None
        for i in range(self.pc.frames):
            value = self._value(kf, i)
            if value != last:
                at = max(Fraction(0), frames_to_seconds(i, self.fps) - Fraction(1, 2) / self.fps)
                lines.append(f"{to_ffmpeg_seconds(at)} " + ", ".join(f"{target} {option} {arg}"
                                                                  for option, arg in command(value)) + ";")
                last = value
        name = f"effect_{target.split('@')[1]}.cmd"
        self.g.files[name] = "\n".join(lines) + "\n"
        return [f"sendcmd=f={quote(name)}"]

    def file(self, asset: str) -> str:
        path = self.g.asset_files.get(asset)
        if path is None:
            raise ValidationError([f"assets.{asset}: not resolved (an effect reads it)"], stage="plan")
        suffix = path[path.rfind("."):].lower() if "." in path.rsplit("/", 1)[-1] else ""
        return self.g.links.setdefault(path, f"asset{len(self.g.links)}{suffix}")


def timed(effect: Effect) -> bool:
    """The effect runs on the clip's clock: its values change over time, or it says so."""
    return effect.animated or effect.TIMED


def effect_filters(g: Graph, effects: tuple[Effect, ...], *, width: int, height: int, scale_y: Fraction,
                   clock: str | None, pc: PlacedClip | None = None, fps: Fraction = Fraction(1),
                   alpha: bool = False) -> list[str]:
    """The chains of ``effects`` in order: with ``clock`` None the steady ones, else the timed ones
    (``pc`` and ``fps``: the clip whose frames they run on, for values sent frame by frame)."""
    ctx = _Context(g, width, height, scale_y, clock, alpha, pc, fps)
    return [f for e in effects if timed(e) == (clock is not None) for f in e.chain(ctx)]
