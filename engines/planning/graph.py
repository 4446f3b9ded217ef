"""The graph being built (its chains, inputs, work files, warnings) and the output grid it is built
for: the two values every part of the planner passes along."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .filtergraph import chain
from .render_plan import PlanInput
from .text_face import TextFace


@dataclass
class Graph:
    chains: list[str] = field(default_factory=list)
    inputs: list[PlanInput] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    slates: dict[str, str] = field(default_factory=dict)
    fonts: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # font file -> its name in the work folder
    text_faces: dict[str, TextFace] = field(default_factory=dict)  # styled text clip id -> its face
    asset_files: dict[str, str] = field(default_factory=dict)  # asset name -> local file (LUTs, images)
    lengths: dict[str, int] = field(default_factory=dict)  # clip path -> its frames in the full timeline
    counter: int = 0

    def label(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def add(self, inputs: list[str], filters: list[str | None], prefix: str) -> str:
        out = self.label(prefix)
        self.chains.append(chain(inputs, filters, out))
        return out


@dataclass(frozen=True)
class Out:
    width: int
    height: int
    fps: Fraction
    sample_rate: int
    pix_fmt: str          # working pixel format of the graph
    background: str       # 0xRRGGBB
    scale_y: Fraction     # output height / project height (text sizes)
