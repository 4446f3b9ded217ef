"""Stills: the composed frame at timeline times, as PNG or JPEG.

A still is a frame of the render, not a re-creation of it: it is planned as a one-frame window of the
same graph (``build_plan(window=...)``, the path that keeps chunks and previews identical to the single
pass), and ffmpeg only converts that frame to RGB at the end, as any decoder of the render would. So a
PNG still equals the frame of a lossless render at that time.

The frame at time ``t`` is the output frame nearest to it on the profile's grid (ties to the earlier
one; the last frame up to the end): the frame a preview window starting at ``t`` starts with.
Several times in one call are grouped into runs of nearby frames (``CLUSTER_SECONDS`` apart at most):
each run is one ffmpeg pass over its window that keeps the wanted frames (``select``), so its inputs are
opened and decoded once, not once per frame; times far apart get passes of their own rather than one
pass decoding everything between them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from engines.errors import CutliteError, FFmpegError, ValidationError
from engines.ffmpeg.probe import MediaInfo
from engines.ffmpeg.profiles import STILL_PROFILE, RenderProfile, get_profile
from engines.ffmpeg.threads import encoder_threads, with_threads
from engines.media_v2.library import known_damage
from engines.model.project import Project
from engines.model.timebase import fraction_text, parse_time, snap_to_frame
from engines.model.timeline import place_project
from engines.planning.plan import build_plan
from engines.planning.render_plan import RenderPlan

from .renderer import ProjectInput, Renderer, write_work_folder

CLUSTER_SECONDS = 2  # frames closer than this share one pass (decoding between them costs less than a start)
# encoder and its options: JPEG at high quality; PNG at zlib level 3 (the same pixels: a 1080p frame 12 % larger
# than at the default 6, for 25 ms less of a cold still's 0.17 s of ffmpeg CPU, measured in bench/bench_batch.py)
FORMATS = {"png": ("png", ["-compression_level", "3"]), "jpeg": ("mjpeg", ["-q:v", "2"])}


@dataclass(frozen=True)
class Still:
    at: Fraction   # the time asked for, exact seconds
    frame: int     # the output frame shown then
    path: str


def still_frames(times: list[object], fps: Fraction, total: int) -> list[int]:
    """Each time as the output frame on screen at it; every bad time named by its position."""
    problems, frames = [], []
    if not times:
        problems.append("at: give at least one time")
    for i, value in enumerate(times):
        try:
            t = parse_time(value)
        except (ValueError, TypeError) as exc:
            problems.append(f"at[{i}]: {exc}")
            continue
        frame = min(snap_to_frame(t, fps), total - 1)
        if t < 0 or t * fps >= total:
            problems.append(f"at[{i}]: {fraction_text(t)} s is outside the timeline [0, "
                            f"{fraction_text(Fraction(total) / fps)}) s")
            continue
        frames.append(frame)
    if problems:
        raise ValidationError(problems, stage="still")
    return frames


def cluster(frames: list[int], gap: int) -> list[list[int]]:
    """Sorted distinct frames in runs whose neighbours are at most ``gap`` frames apart."""
    runs: list[list[int]] = []
    for f in sorted(set(frames)):
        if runs and f - runs[-1][-1] <= gap:
            runs[-1].append(f)
        else:
            runs.append([f])
    return runs


def still_plan(plan: RenderPlan, wanted: list[int], fmt: str) -> RenderPlan:
    """A windowed picture plan turned into image output: only the ``wanted`` frames (absolute output
    frames) of its window, one image each; ``argv`` then takes the pattern ``still-%d.<fmt>``."""
    first = plan.window[0] if plan.window else 0
    pick = "+".join(f"eq(n\\,{f - first})" for f in wanted)
    encoder, options = FORMATS[fmt]
    graph = plan.filter_graph + f";\n[vout]select='{pick}'[still]"
    output = ["-map", "[still]", "-fps_mode", "passthrough", "-frames:v", str(len(wanted)),
              "-c:v", encoder, *options, "-f", "image2", "-start_number", "0"]
    return plan.model_copy(update={"filter_graph": graph, "output_args": output})


NO_PROXY_SECONDS = 2.0  # a warm process looks again this long after finding no proxy (one may be made meanwhile)
PROXY_SECONDS = 60.0    # ... and after finding one (the asset's meta, its known damage, may have changed)


def ready_proxies(renderer: Renderer, project: Project, folder: Path, profile: RenderProfile,
                  fps: Fraction) -> dict[str, MediaInfo]:
    """The video assets a still may read from a proxy that is ready, with the proxy's facts (kept
    when it was made: no probe): registered assets (by id, or local files registered before; nothing
    is registered here) whose proxy on the ladder is as large as the still draws the picture (its
    short side at least the output's, or the source's own when the source is smaller) and has the
    frames the output rate takes (the source's rate, or the output's). The smallest such rung.
    A proxy's decode starts at a keyframe at most a short GOP before the frame, a source's may start
    seconds before it: that is what a still from a proxy saves.

    A warm process (the API server) remembers each answer while the files it rests on are unchanged
    (a local source's size and modification time, the proxy's), for ``PROXY_SECONDS`` (an answer of
    "no proxy" for ``NO_PROXY_SECONDS``): a scrub's stills after the first skip the registry."""
    out: dict[str, MediaInfo] = {}
    out_w, out_h = profile.output_size(project.settings.width, project.settings.height)
    shown = {c.asset for _, track, c in project.clip_paths() if c.asset and track.kind != "audio"}
    memo = renderer.memo.setdefault("still_proxies", {})
    for name in sorted(shown):
        ref = project.assets.get(name)
        if ref is None:
            continue
        local = None if ref.asset_id is not None else (folder / (ref.path or "")).resolve()
        key = (project.tenant, project.env, ref.asset_id or str(local), out_w, out_h, fps)
        known = memo.get(key)
        if known is not None and _still_valid(known, local):
            info = known[0]
        else:
            info = _ready_proxy(renderer, project, ref.asset_id, local, min(out_w, out_h), fps)
            memo[key] = (info, _stamp(local), _stamp(Path(info.path)) if info else None, time.monotonic())
        if info is not None:
            out[name] = info
    return out


def _stamp(path: Path | None) -> tuple[int, int] | None:
    try:
        st = path.stat() if path is not None else None
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if st else None


def _still_valid(known: tuple, local: Path | None) -> bool:
    info, source_stamp, proxy_stamp, when = known
    if _stamp(local) != source_stamp or time.monotonic() - when >= (PROXY_SECONDS if info else NO_PROXY_SECONDS):
        return False
    return info is None or _stamp(Path(info.path)) == proxy_stamp


def _ready_proxy(renderer: Renderer, project: Project, asset_id: str | None, local: Path | None, short: int,
                 fps: Fraction) -> MediaInfo | None:
    """``ready_proxies`` for one asset (by id, or a local file), asked of the registry."""
    from engines.media_v2 import identities, keys  # the still's own path: imported when asked

    from .proxies import LADDER

    library = renderer.library
    try:
        if asset_id is not None:
            asset = library.get_asset(project.tenant, project.env, asset_id)
        else:
            known = identities.known_asset(project.tenant, project.env, local) if local else None
            asset = library.registry.get_asset(project.tenant, project.env, known) if known else None
        if asset is None or asset.kind != "video":
            return None
        source = MediaInfo.from_facts(asset.probe, "")
    except (CutliteError, KeyError, TypeError, ValueError):
        return None  # unknown here: the source is read (and gathering says what is wrong with it)
    if source.video is None:
        return None
    need = min(min(source.video.display_size), short)
    for rung in LADDER:
        key = keys.proxy_key(asset.tenant, asset.env, asset.id, rung)
        art = library.registry.artifact_by_key(asset.tenant, asset.env, key)
        if art is None or "facts" not in art.meta:
            continue
        try:
            path = library.store(asset.env).local_path(key)
            if path.stat().st_size != art.size:
                continue  # missing or altered in the store
            info = MediaInfo.from_facts(art.meta["facts"], str(path))
        except (CutliteError, OSError, KeyError, TypeError, ValueError):
            continue
        v = info.video
        if v is None or min(v.display_size) < need or v.fps not in (source.video.fps, fps):
            continue
        # the proxy covers the source on its clock; the source's duration stands (as in previews)
        if source.duration is not None and info.duration is not None:
            info = replace(info, duration=max(info.duration, source.duration))
        return replace(info, damage=known_damage(asset))
    return None


def render_stills(renderer: Renderer, project: ProjectInput, times: list[object], output: str | Path, *,
                  profile: str = STILL_PROFILE, fmt: str | None = None, base_dir: Path | None = None,
                  sources: str = "auto") -> list[Still]:
    """The composed frames at ``times`` into ``output`` (one time) or ``output``'s stem + ``-<frame>``
    (several). Files appear only when every frame was made. ``base_dir``: where relative asset paths
    resolve (default: the project file's folder). ``sources``: ``auto`` reads a video asset from its
    ready proxy when ``ready_proxies`` allows it, ``exact`` always from its source (the frame of the
    render, to the pixel)."""
    if sources not in ("auto", "exact"):
        raise ValidationError([f"sources: \"{sources}\" is not auto or exact"], stage="still")
    out = Path(output).resolve()
    fmt = fmt or {".jpg": "jpeg", ".jpeg": "jpeg"}.get(out.suffix.lower(), "png")
    if fmt not in FORMATS:
        raise ValidationError([f"format: unknown still format \"{fmt}\"; known: {', '.join(FORMATS)}"], stage="still")
    proj, folder = renderer.load(project)
    prof = get_profile(profile)
    fps = prof.output_fps(proj.settings.fps)
    frames = still_frames(list(times), fps, place_project(proj).at_rate(fps).frames)
    gathered = renderer.gather_all(proj, base_dir or folder, stage="still")
    if sources == "auto":
        gathered.media.update(ready_proxies(renderer, proj, base_dir or folder, prof, fps))
    decision = renderer.decide(prof, "cpu")  # no encoder runs: a still never needs a GPU
    distinct = sorted(set(frames))
    single = len(distinct) == 1
    suffix = out.suffix or f".{'jpg' if fmt == 'jpeg' else 'png'}"
    targets = {f: out if single else out.with_name(f"{out.stem}-{f}{suffix}") for f in distinct}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cutlite-still-") as work:
        made: dict[int, Path] = {}
        for run in cluster(distinct, max(1, int(fps * CLUSTER_SECONDS))):
            plan = build_plan(proj, gathered, prof, decision, window=(run[0], run[-1] + 1), streams="video")
            folder_ = Path(work) / f"run-{run[0]}"
            folder_.mkdir()
            picture = still_plan(plan, run, fmt)
            write_work_folder(picture, folder_)
            renderer.runner.run(with_threads(picture.argv(f"still-%d.{fmt}"), encoder_threads()), stage="still",
                                cwd=folder_, plan_hash=plan.plan_hash, profile=prof.name)
            for i, f in enumerate(run):
                image = folder_ / f"still-{i}.{fmt}"
                if not image.is_file() or image.stat().st_size == 0:
                    raise FFmpegError(f"ffmpeg made no image for frame {f}", stage="still",
                                      hint="this is an engine bug if it repeats: report it with `cutlite plan --json`")
                made[f] = image
        for f, image in made.items():  # all made: now into place, each atomically
            partial = targets[f].with_name(f".{targets[f].name}.partial-{os.getpid()}")
            try:
                shutil.copyfile(image, partial)
                os.replace(partial, targets[f])
            finally:
                partial.unlink(missing_ok=True)
    return [Still(parse_time(t), f, str(targets[f])) for t, f in zip(times, frames)]
