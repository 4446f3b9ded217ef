"""Every transition the engine offers, in one table that the model (validation), planning (the
graph), the latency model (its cost) and interchange (CapCut and OTIO names) all read.

Adding a transition is one row here: ``xfade`` names ffmpeg's ``xfade`` transition that draws it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TransitionKind:
    name: str                      # the project format's ``transition_in.type``
    xfade: str                     # ffmpeg's xfade transition
    capcut: tuple[str, ...] = ()   # CapCut / JianYing names (English and Chinese apps), lower case
    # an opaque crossfade is drawn as the outgoing frames faded out in alpha over the incoming ones,
    # in 4:2:0 (a third of xfade's cost, which converts to 4:4:4 and back: measured)
    alpha_fade: bool = False
    # the latency model's weight per overlapped frame and pixel (a crossfade on the bottom track = 1)
    cost: float = 3.0
    # written to OTIO as an ``SMPTE_Dissolve`` (what other editors read as a dissolve)
    otio_dissolve: bool = False


_KINDS = (
    TransitionKind("crossfade", "fade", ("mix", "叠化", "fade"), alpha_fade=True, cost=1.0, otio_dissolve=True),
    TransitionKind("dissolve", "dissolve", ("dissolve",), otio_dissolve=True),
    TransitionKind("fade_black", "fadeblack", ("black fade", "闪黑", "fade to black")),
    TransitionKind("fade_white", "fadewhite", ("white fade", "闪白", "flash white")),
    TransitionKind("wipe_left", "wipeleft", ("wipe left", "向左擦除")),
    TransitionKind("wipe_right", "wiperight", ("wipe right", "向右擦除")),
    TransitionKind("wipe_up", "wipeup", ("wipe up", "向上擦除")),
    TransitionKind("wipe_down", "wipedown", ("wipe down", "向下擦除")),
    TransitionKind("slide_left", "slideleft", ("slide left", "左移")),
    TransitionKind("slide_right", "slideright", ("slide right", "右移")),
    TransitionKind("slide_up", "slideup", ("slide up", "上移")),
    TransitionKind("slide_down", "slidedown", ("slide down", "下移")),
    TransitionKind("circle_open", "circleopen", ("circle open", "圆形打开")),
    TransitionKind("circle_close", "circleclose", ("circle close",)),
)

TRANSITIONS: dict[str, TransitionKind] = {t.name: t for t in _KINDS}

# CapCut's names for them (lower case) -> the engine's
CAPCUT_TRANSITIONS: dict[str, str] = {alias: t.name for t in _KINDS for alias in t.capcut}
