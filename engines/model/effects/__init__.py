"""The effect registry: every ``filters`` type, found by its ``type``.

Adding an effect is one module in this package (its model, chain, cost and names: see ``base``)
and one line in ``_EFFECTS``; the project model, the planner, the latency model, the importers and
the studio all read this table.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Discriminator, Tag

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


def _tag(v: Any) -> str | None:
    kind = v.get("type") if isinstance(v, dict) else getattr(v, "type", None)
    return f"{TAG}{kind}" if kind in EFFECTS else None


Filter = Annotated[
    Union[tuple(Annotated[cls, Tag(f"{TAG}{name}")] for name, cls in EFFECTS.items())],  # type: ignore[valid-type]
    Discriminator(_tag, custom_error_type="effect_type",
                  custom_error_message=f"unknown filter type; known: {', '.join(sorted(EFFECTS))}"),
]

__all__ = ["EFFECTS", "Effect", "EffectContext", "Filter", "TAG"]
