"""What planning needs from the outside world, gathered once (``engines.rendering.sources``) and
handed to ``build_plan`` as one value: probe facts, fonts, captions, slates, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field

from engines.ffmpeg.probe import MediaInfo

from .captions import CaptionSources
from .text_face import TextFace


@dataclass
class Sources:
    media: dict[str, MediaInfo] = field(default_factory=dict)
    fonts: dict[str, str] = field(default_factory=dict)  # text clip id -> font file ("": the default)
    text_faces: dict[str, TextFace] = field(default_factory=dict)  # styled text clip id -> its face
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    captions: CaptionSources | None = None  # captions tracks' files and fonts (caption_sources.py)
    slates: dict[str, str] = field(default_factory=dict)  # missing media drawn as slates (slate_missing)
    files: dict[str, str] = field(default_factory=dict)  # asset name -> local file of assets no probe reads (LUTs)
