"""The render plan: a pure function from (project, probe facts, profile, hardware decision) to
ffmpeg inputs, one filter graph for the whole timeline, output arguments, chunks and meta.

No I/O happens here. The same inputs give the same plan, byte for byte, and the same
``plan_hash`` (a sha256 over the plan's canonical JSON).

How the timeline becomes a graph:
- every media clip is its own input, seeked with ``-ss``/``-t`` so nothing before its
  ``source_in`` is decoded; each picture is conformed to the output grid with ``fps`` and made
  exactly as long as the clip with ``tpad`` (clone) + ``trim`` (frames), so VFR, short sources
  and speed changes all land on whole frames;
- a video track is a ``concat`` of clips and background gaps; a transition blends only the two
  clips' overlapping frames (a crossfade: the outgoing frames faded out in alpha and overlaid;
  the others: ``xfade``), so every other frame keeps its pixels in any window;
  the bottom video track is opaque, higher ones are transparent outside their clips;
- overlay clips are placed in time with ``setpts=N+start`` and composited in order with
  ``overlay`` (eof passes the picture below through); text is drawn with ``drawtext`` from a file;
- audio: each clip is trimmed, tempo-changed (pitch kept), gain-automated, padded/trimmed to
  its exact sample count and faded across transitions; clips that do not overlap in time are
  joined in order into one continuous lane (silence padded between), and the few lanes are summed
  with ``amix`` (no normalisation: ``volume`` is a gain). Clips reading the same part of a source
  share one input (``sound``: why this keeps the cost linear in the clip count). A ducked track's
  clips carry their ducking gain, a function of absolute time (``ducking.py``); loudness
  normalisation follows the mix (``loudness.py``, after measuring);
- captions tracks are burnt in last, over the composed picture, by libass (``captions.py``).
"""

from __future__ import annotations

from fractions import Fraction

from engines.errors import ValidationError
from engines.ffmpeg.hardware import HardwareDecision
from engines.ffmpeg.profiles import RenderProfile, resolve_encoder
from engines.model.project import Project
from engines.model.timebase import fraction_text, frames_to_samples, frames_to_seconds
from engines.model.timeline import place_project

from .caption_layer import burn_captions, caption_sidecars
from .captions import CaptionSources
from .chunks import plan_chunks
from .color import BT709_TAGS, pinned_format
from .damage import damage_warnings
from .ducking import plan_ducks
from .filtergraph import chain, rate
from .gathered import Sources
from .graph import Graph, Out
from .media_rules import check_media
from .output_args import output_args
from .render_plan import RenderPlan, hash_plan
from .sound_graph import sound_graph
from .tracks import overlay_tracks, video_tracks


def build_plan(project: Project, sources: Sources, profile: RenderProfile, hw: HardwareDecision, *,
               window: tuple[int, int] | None = None, streams: str = "both", chunk_frames: int | None = None,
               keyframe_at: int | None = None) -> RenderPlan:
    """The render plan from the project and what was gathered for it (``sources``: probe facts, fonts,
    captions, slates for missing media, warnings so far).

    ``window`` renders only the output frames ``[a, b)``, identical to those frames of the full
    render (chunks, range previews); only the clips visible in it need ``media``. ``streams`` is
    ``both``, ``video`` or ``audio``. ``chunk_frames`` splits the output into chunks (see
    ``chunks.plan_chunks``). ``keyframe_at`` forces a keyframe at that output frame (GOPs count
    on from it): where a chunk is cut out. Assets in ``sources.slates`` have no media: a placeholder
    shows their line in their pictures' place (previews), their sound is silence.
    """
    media = sources.media
    s = project.settings
    streams = profile_streams(profile, streams)
    width, height = profile.output_size(s.width, s.height)
    fps = profile.output_fps(s.fps)
    full = place_project(project).at_rate(fps)
    if full.frames < 1:
        raise ValidationError([f"tracks: the timeline ({fraction_text(Fraction(place_project(project).frames) / s.fps)}"
                               f" s) is shorter than one frame at {fraction_text(fps)} fps ({profile.name})"],
                              stage="plan")
    a, b = window or (0, full.frames)
    timeline, lead = full.window(a, b) if window else (full, 0)
    slates = sources.slates
    visible = {pc.path for pc in timeline.clips()} if window else None
    problems = check_media(project, media, visible)
    missing = sorted({c.asset for p, _, c in project.clip_paths() if c.asset and c.asset not in media
                      and c.asset not in slates and (visible is None or p in visible)})
    problems += [f"assets.{name}: not resolved (missing or unreadable)" for name in missing]
    if problems:
        raise ValidationError(problems, stage="plan")
    enc = resolve_encoder(profile, hw.family, fps)
    alpha = s.background == "transparent"
    # a transparent canvas composes with alpha all the way (8-bit: what overlay blends with alpha in)
    working_fmt = "yuva420p" if alpha else "yuv420p10le" if profile.pix_fmt.endswith("10le") else "yuv420p"
    out = Out(width, height, fps, s.sample_rate, working_fmt,
               "black@0" if alpha else "0x" + s.background[1:].upper(), Fraction(height, s.height))
    base = a - lead  # absolute frame of the extended window's first frame
    g = Graph(warnings=list(sources.warnings), slates=slates, fonts=sources.fonts, text_faces=sources.text_faces, asset_files=sources.files,
               lengths={pc.path: pc.frames for pc in full.clips()})
    links = g.links

    if streams in ("both", "video"):
        video = video_tracks(g, project, timeline, media, out)
        video = overlay_tracks(g, project, timeline, media, out, video)
        video = burn_captions(g, project, sources.captions or CaptionSources(), out, base, timeline.frames, video)
        trim = None if (lead, timeline.frames) == (0, b - a) else \
            f"trim=start_frame={lead}:end_frame={lead + b - a},settb={fraction_text(1 / fps)},setpts=N"
        # every frame is BT.709 limited range by now: say so (metadata only, no conversion)
        g.chains.append(chain([video], [trim, pinned_format(working_fmt), BT709_TAGS, enc.filter_tail], "vout"))
    samples = frames_to_samples(b, fps, s.sample_rate) - frames_to_samples(a, fps, s.sample_rate)
    if streams in ("both", "audio"):
        sound_graph(g, timeline, media, out, base, (a, b), plan_ducks(project, full))

    for pc in full.clips():
        if pc.frames <= 0:
            g.warnings.append(f"{pc.path}: shorter than one frame at {fraction_text(fps)} fps; not shown")
    g.warnings += damage_warnings(timeline, media)
    plan = RenderPlan(
        project_id=project.id, tenant=project.tenant, env=project.env, profile=profile.name,
        width=width, height=height, fps=rate(fps), frames=b - a,
        duration=fraction_text(frames_to_seconds(b - a, fps)), sample_rate=s.sample_rate,
        samples=samples, inputs=g.inputs, filter_graph=";\n".join(g.chains), files=g.files, links=links,
        global_args=["-y", "-filter_complex_threads", str(profile.filter_threads or 0), *enc.global_args],
        output_args=output_args(profile, enc, fps, streams, alpha)
        + (["-force_key_frames", f"expr:eq(n,{keyframe_at})"] if keyframe_at else []),
        # a GIF (one palette from every frame) or a sound-only output is one pass: no chunks
        chunks=plan_chunks(b - a, profile.gop_frames(fps), chunk_frames) if profile.chunked else [],
        window=[a, b] if window else None, streams=streams,
        meta={"profile": profile.name, "encoder": enc.encoder, "hardware": hw.to_dict(),
              "pix_fmt": profile.pix_fmt, "warnings": g.warnings,
              **({"sidecars": caption_sidecars(project, sources.captions or CaptionSources(), fps, full.frames)}
                 if window is None and any(True for _ in project.caption_tracks()) else {})},
    )
    return plan.model_copy(update={"plan_hash": hash_plan(plan)})


def profile_streams(profile: RenderProfile, streams: str) -> str:
    """The streams a pass of ``profile`` makes: an audio-only profile has no picture, a GIF no sound."""
    if not profile.has_video:
        if streams == "video":
            raise ValidationError([f"profile: {profile.name} has no picture"], stage="plan")
        return "audio"
    if profile.audio_codec is None:
        if streams == "audio":
            raise ValidationError([f"profile: {profile.name} has no sound"], stage="plan")
        return "video"
    return streams
