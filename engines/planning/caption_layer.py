"""Captions tracks burnt in over the composed picture (an ASS script a track), and their sidecars."""

from __future__ import annotations

from fractions import Fraction

from engines.model.project import Project

from .captions import CAPTION_FONTS_DIR, CaptionSources, build_ass, sidecars, track_cues
from .filtergraph import quote
from .graph import Graph, Out


def burn_captions(g: Graph, project: Project, captions: CaptionSources, out: Out, base: int, frames: int,
                  video: str) -> str:
    """Each captions track burnt in over everything below it, timed from this stream's first
    frame (absolute frame ``base``): an ASS script in the work folder, its fonts in a folder."""
    for path, track in project.caption_tracks():
        chain = captions.fonts.get(track.id, ())
        script = build_ass(track, track_cues(project, track, path, captions.files), chain, width=out.width,
                           height=out.height, scale_y=out.scale_y, fps=out.fps, base=base, frames=frames)
        if script is None:
            continue
        name = f"captions_{track.id}.ass"
        g.files[name] = script
        for face in chain:
            g.links.setdefault(face.file, f"{CAPTION_FONTS_DIR}/{face.file.rsplit('/', 1)[-1]}")
        video = g.add([video], [f"ass=filename={quote(name)}:fontsdir={CAPTION_FONTS_DIR}:shaping=complex",
                                f"format={out.pix_fmt}"], "cap")
    return video


def caption_sidecars(project: Project, captions: CaptionSources, fps: Fraction, frames: int) -> dict[str, str]:
    """SRT and VTT of every captions track's cues as rendered (stored beside a job's output)."""
    cues = [cue for path, track in project.caption_tracks() for cue in track_cues(project, track, path, captions.files)]
    return sidecars(sorted(cues, key=lambda c: (c.start, c.end)), fps, frames)
