"""A clip's looks (its ``filters``) as filter chains: the planner's side of the effect registry
(``engines.model.effects``). Each effect writes its own chain; this module gives it the context it
asks for (its picture's size, the clip's clock for keyframed fields, work-folder files) and keeps
the one rule that matters to frame truth: an effect whose values change over time runs where
the clip's frames are numbered on its own clock, a steady one at the fitted size before it."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from engines.errors import ValidationError
from engines.model.effects import Effect
from engines.model.fields import Keyframes

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

    def curve(self, kf: Keyframes) -> str:
        if kf.constant is None and self.clock is None:
            raise AssertionError("a keyframed effect field was drawn where the clip has no clock")
        return curve(kf, self.clock or "")

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
                   clock: str | None) -> list[str]:
    """The chains of ``effects`` in order: with ``clock`` None the steady ones, else the timed ones."""
    ctx = _Context(g, width, height, scale_y, clock)
    return [f for e in effects if timed(e) == (clock is not None) for f in e.chain(ctx)]
