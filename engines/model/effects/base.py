"""What every effect is: a strict model with a ``type``, a filter chain, a cost and its names in
other editors. One module per effect in this package defines one subclass; the package's
``__init__`` lists them (the registry).

An effect's chain is pure text built from the effect's fields and an ``EffectContext`` the planner
gives it, so effects know nothing of the plan's internals and the planner nothing of any effect.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, ClassVar, Protocol

from ..fields import Keyframes, Strict


class EffectContext(Protocol):
    """What a chain may ask of the plan it is drawn in."""

    width: int          # the picture the effect runs on, in pixels
    height: int
    scale_y: Fraction   # output height / project height (sizes given in project pixels)
    alpha: bool         # the picture carries alpha (an overlay, a keyed clip) that must survive

    def curve(self, kf: Keyframes) -> str:
        """A field as a filter value: its number when constant, else an expression of the clip's own
        seconds that gives every frame the same value in any chunk or window."""
        ...

    def file(self, asset: str) -> str:
        """The work-folder name of an asset's file (a LUT, an image), linked into the render."""
        ...

    def instance(self, name: str) -> str:
        """A filter name with an instance id (``gblur@fx3``) that ``commands`` can address."""
        ...

    def start(self, kf: Keyframes) -> float:
        """The field's value at the chain's first frame (a constant's value)."""
        ...

    def commands(self, target: str, kf: Keyframes, command: Callable[[float], list[tuple[str, str]]]) -> list[str]:
        """For a filter option that takes no expression: filters (a ``sendcmd``) that set it on
        ``target`` before every frame whose value changes, as ``command(value)`` says
        ([(option, argument)]); values from the model's curve at the clip's own frames, so every
        frame gets the same value in any chunk or window. Nothing for a constant."""
        ...


class Effect(Strict):
    """A ``filters`` entry. Subclasses set ``type`` (a Literal), ``COST`` and the interchange names,
    and write ``chain``."""

    # the latency model's cost per pixel and frame, relative to a colour filter (``eq``) = 1,
    # from bench/bench_effects.py at 1080p (docs/performance.md)
    COST: ClassVar[float] = 1.0
    # CapCut/JianYing filter names (lower case) this effect stands in for on import
    CAPCUT: ClassVar[tuple[str, ...]] = ()
    # frame expressions: the chain is drawn where the clip's frames are on its own clock
    # (after ``tpad``/``trim``), not at the fitted size before it
    TIMED: ClassVar[bool] = False
    # the chain makes pixels transparent: a clip on an opaque video track is laid over the
    # background afterwards, so what is keyed out shows the background, not its own colour
    ALPHA: ClassVar[bool] = False

    def chain(self, ctx: EffectContext) -> list[str]:
        raise NotImplementedError

    @classmethod
    def from_capcut(cls, name: str, intensity: float) -> dict[str, Any] | None:
        """This effect as the nearest look for a CapCut filter or effect called ``name`` (at the app's
        intensity 0..1), or None. By default: the names in ``CAPCUT``, the effect's defaults."""
        if name.strip().lower() in cls.CAPCUT:
            return {"type": cls.model_fields["type"].annotation.__args__[0]}  # type: ignore[union-attr]
        return None

    @property
    def weight(self) -> float:
        """This effect's cost as configured (``COST``; an effect whose filters depend on its fields
        says more)."""
        return self.COST

    def keyframed(self) -> dict[str, Keyframes]:
        """The effect's animatable fields by name."""
        return {name: v for name in type(self).model_fields if isinstance(v := getattr(self, name), Keyframes)}

    @property
    def animated(self) -> bool:
        """Some field changes over time: the chain runs on the clip's clock (``ctx.curve``)."""
        return any(kf.constant is None for kf in self.keyframed().values())

    def assets(self) -> tuple[str, ...]:
        """Asset names the effect reads (checked and linked by planning)."""
        return ()

    def describe(self) -> dict[str, Any]:
        """One line for the studio's clip panel: the type and the fields that differ from defaults."""
        return {"type": self.type, **{k: v for k, v in self.model_dump(exclude={"type"}).items()
                                       if k in self.model_fields_set}}  # type: ignore[attr-defined]
