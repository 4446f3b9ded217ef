"""The project rules that need probe facts (what a source holds and how long it is)."""

from __future__ import annotations

from engines.ffmpeg.probe import MediaInfo
from engines.model.project import Project
from engines.model.timebase import fraction_text


def check_media(project: Project, media: dict[str, MediaInfo], only: set[str] | None = None) -> list[str]:
    """Rules that need probe facts: source ranges within the source, kinds on the right tracks.
    ``only`` limits the check to those clip paths (a window's visible clips)."""
    problems = []
    for path, track, clip in project.clip_paths():
        canvas_asset = getattr(clip.canvas, "asset", None)
        if canvas_asset in media and (only is None or path in only) and media[canvas_asset].kind != "image":
            problems.append(f"{path}.canvas.asset: \"{canvas_asset}\" is a {media[canvas_asset].kind}: "
                            f"a canvas is an image")
        if clip.is_text or clip.asset not in media or (only is not None and path not in only):
            continue
        info = media[clip.asset]
        if info.kind == "image":
            for f in ("reverse", "freeze_at"):
                if f in clip.model_fields_set and getattr(clip, f):
                    problems.append(f"{path}.{f}: \"{clip.asset}\" is an image: it has no time to "
                                    f"{'reverse' if f == 'reverse' else 'freeze'}")
            if clip.duration is None:
                problems.append(f"{path}: \"{clip.asset}\" is an image: give duration, not source_in/source_out")
            if track.kind == "audio":
                problems.append(f"{path}: \"{clip.asset}\" is an image and has no sound for an audio track")
            continue
        if clip.freeze_at is not None:
            if info.video is None:
                problems.append(f"{path}.freeze_at: \"{clip.asset}\" has no picture to freeze")
            elif info.duration is not None and clip.freeze_at >= info.duration:
                problems.append(f"{path}.freeze_at: {fraction_text(clip.freeze_at)} s is past the end of "
                                f"\"{clip.asset}\" ({float(info.duration):.3f} s)")
            continue
        if clip.duration is not None:
            problems.append(f"{path}.duration: \"{clip.asset}\" is a {info.kind}: give source_in and source_out")
            continue
        if track.kind in ("video", "overlay") and info.video is None:
            problems.append(f"{path}.asset: \"{clip.asset}\" has no picture for a {track.kind} track "
                            f"(put it on an audio track)")
        if track.kind == "audio" and info.audio is None:
            problems.append(f"{path}.asset: \"{clip.asset}\" has no audio stream for an audio track")
        if info.duration is not None and clip.source_out is not None and clip.source_out > info.duration:
            problems.append(f"{path}.source_out: {fraction_text(clip.source_out)} s is past the end of "
                            f"\"{clip.asset}\" ({float(info.duration):.3f} s)")
    return problems
