"""The effect registry: every ``filters`` type, found by its ``type``.

Adding an effect is one module in this package (its model, chain, cost and names: see ``base``)
and one line in ``_EFFECTS``; the project model, the planner, the latency model, the importers and
the studio all read this table.
"""

from __future__ import annotations

from ..fields import by_type
from .base import Effect, EffectContext
from .blur import BlurEffect
from .chroma_key import ChromaKeyEffect
from .color import ColorEffect
from .lut import LutEffect
from .vignette import VignetteEffect

_EFFECTS: tuple[type[Effect], ...] = (ColorEffect, LutEffect, ChromaKeyEffect, BlurEffect, VignetteEffect)

EFFECTS: dict[str, type[Effect]] = {cls.model_fields["type"].annotation.__args__[0]: cls  # type: ignore[union-attr]
                                    for cls in _EFFECTS}
TAG = "effect:"  # the tag pydantic puts in an error's location (left out of the JSON path)


Filter = by_type(TAG, EFFECTS, "filter")

__all__ = ["EFFECTS", "Effect", "EffectContext", "Filter", "TAG"]
