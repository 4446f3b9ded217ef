"""The sound graph: every clip's sound trimmed, tempo-changed, gain-automated and faded, joined into a
few continuous lanes and mixed (see ``sound`` for why lanes keep the cost linear)."""

from __future__ import annotations

from fractions import Fraction

from engines.ffmpeg.probe import MediaInfo
from engines.model.fields import Keyframes
from engines.model.timebase import frames_to_samples, frames_to_seconds, to_ffmpeg_seconds
from engines.model.timeline import PlacedClip, Timeline

from .ducking import DuckPlan, duck_filter
from .filtergraph import chain, num, quote
from .graph import Graph, Out
from .motion import keyframe_expr
from .reading import PREROLL, SEEK_MARGIN, forward_read, seek_point, source_point
from .render_plan import PlanInput
from .sound import assign_lanes, source_runs


def atempo(speed: Fraction) -> list[str]:
    """atempo takes 0.5..100 per instance: chain halves for slower speeds (pitch is kept)."""
    if speed == 1:
        return []
    filters = []
    s = speed
    while s < Fraction(1, 2):
        filters.append("atempo=0.5")
        s *= 2
    filters.append(f"atempo={num(s)}")
    return filters


def sound_graph(g: Graph, timeline: Timeline, media: dict[str, MediaInfo], out: Out, base: int,
                window: tuple[int, int], ducks: dict[int, DuckPlan] | None = None) -> None:
    """Every clip's sound for the output frames ``window``, as a few continuous lanes (``sound``).

    Sample positions are computed from absolute frames (``base`` is the timeline's first frame
    in the full render), so a window's samples line up with the full render's.
    """
    sr = out.sample_rate

    def at(frame: int) -> int:  # samples from the timeline's start to an (absolute) frame
        return frames_to_samples(base + frame, out.fps, sr) - frames_to_samples(base, out.fps, sr)

    fmt = f"aformat=sample_fmts=fltp:sample_rates={sr}:channel_layouts=stereo"
    total = at(timeline.frames)
    sounding: list[tuple[PlacedClip, MediaInfo, tuple[PlacedClip, ...], int, int]] = []
    for ti, placed in enumerate(timeline.tracks):
        for i, pc in enumerate(placed):
            clip = pc.clip
            if clip.is_text or pc.frames <= 0 or clip.muted or clip.volume.constant == 0 or clip.freeze_at is not None:
                continue  # a freeze frame is silent
            info = media.get(clip.asset or "")
            if info is None or info.audio is None:
                continue  # no sound, or a slate's silence
            sounding.append((pc, info, placed, i, ti))
    spans = [(at(pc.start), at(pc.end)) for pc, *_ in sounding]
    lanes = assign_lanes(spans)
    feeds = sound_feeds(g, [(forward_read(g, pc), info) for pc, info, *_ in sounding], out)
    # each lane: its clips in order, each padded with the silence up to the next one (or the end)
    by_lane: dict[int, list[int]] = {}
    for k in sorted(range(len(sounding)), key=lambda k: (spans[k][0], k)):
        by_lane.setdefault(lanes[k], []).append(k)
    streams = []
    for lane in sorted(by_lane):
        members = by_lane[lane]
        parts = []
        if spans[members[0]][0] > 0:
            parts.append(g.add([], [f"anullsrc=r={sr}:cl=stereo", fmt, f"atrim=end_sample={spans[members[0]][0]}"],
                               "sil"))
        for j, k in enumerate(members):
            pc, info, placed, i, ti = sounding[k]
            clip = pc.clip
            n = spans[k][1] - spans[k][0]
            after = (spans[members[j + 1]][0] if j + 1 < len(members) else total) - spans[k][1]
            feed, head_filters = feeds[k]
            tempo = atempo(clip.rate) if clip.ramp is None else ramp_tempo(g, pc, out)
            filters: list[str | None] = [*head_filters, *tempo, fmt, "apad", f"atrim=end_sample={n}",
                                         "areverse" if clip.reverse else None, f"asetpts=N/{sr}/TB"]
            kf = clip.volume
            if kf.constant is not None:
                filters.append(None if kf.constant == 1 else f"volume={num(kf.constant)}")
            else:
                # keyframes count from the clip's start; this part of it starts ``head`` frames in
                head = frames_to_seconds(pc.head, out.fps) + pc.offset
                filters.append(f"volume={keyframe_expr([(t - head, v) for t, v in kf.points], kf.eases, 't')}:eval=frame")
            filters += sound_crossfades(placed, i, pc, out)
            # a ducked track's clip, lowered while the named tracks sound: its gain is a function
            # of absolute time (the clip's first sample is absolute sample ``base + start``)
            offset = Fraction(frames_to_samples(base + pc.start, out.fps, sr), sr)
            filters.append(duck_filter((ducks or {}).get(ti), offset))
            filters.append(f"apad=pad_len={after}" if after > 0 else None)
            parts.append(g.add([feed], filters, "a"))
        streams.append(parts[0] if len(parts) == 1 else
                       g.add(parts, [f"concat=n={len(parts)}:v=0:a=1", f"asetpts=N/{sr}/TB"], "lane"))
    lead = frames_to_samples(window[0], out.fps, sr) - frames_to_samples(base, out.fps, sr)
    length = frames_to_samples(window[1], out.fps, sr) - frames_to_samples(window[0], out.fps, sr)
    trim = f"atrim=start_sample={lead}:end_sample={lead + length}" if (lead, length) != (0, total) else None
    if not streams:
        streams = [g.add([], [f"anullsrc=r={sr}:cl=stereo", f"atrim=end_sample={total}"], "bed")]
    mix = None if len(streams) == 1 else f"amix=inputs={len(streams)}:duration=first:dropout_transition=0:normalize=0"
    g.chains.append(chain(streams, [mix, f"atrim=end_sample={total}", trim, "asetpts=N/SR/TB" if trim else None, fmt],
                          "aout"))


RAMP_STEP = Fraction(1, 50)  # source seconds between a ramp's tempo changes


def ramp_tempo(g: Graph, pc: PlacedClip, out: Out) -> list[str]:
    """A speed ramp's sound: ``rubberband`` (pitch kept) told the ramp's speed every ``RAMP_STEP``
    source seconds by ``asendcmd`` from a file, so the sound follows the picture's time map; the
    lane's padding and trim then make it exactly as long as the picture."""
    clip = pc.clip
    ramp = clip.ramp
    assert ramp is not None and isinstance(clip.speed, Keyframes)
    lead = frames_to_seconds(pc.head, out.fps) + pc.offset
    first = ramp.source(float(lead))
    span = ramp.source(float(lead + frames_to_seconds(pc.frames, out.fps))) - first
    name = g.label("rb")
    lines = []
    step = float(RAMP_STEP)
    for i in range(int(span / step) + 1):
        # the speed at the timeline moment the middle of this bit of source is shown
        middle = ramp.timeline(first + (i + 0.5) * step)
        lines.append(f"{i * step:.6f} rubberband@{name} tempo {clip.speed.value_at(Fraction(middle)):.6f};")
    cmd = f"ramp_{clip.id}.cmd"
    g.files[cmd] = "\n".join(lines) + "\n"
    return [f"asendcmd=f={quote(cmd)}", f"rubberband@{name}=tempo={num(clip.speed.value_at(lead))}"]


def sound_feeds(g: Graph, sounds: list[tuple[PlacedClip, MediaInfo]], out: Out) -> list[tuple[str, list[str]]]:
    """For each clip with sound: the stream its sound comes from and the filters that cut its part
    out of it, starting at its first sample on a 0-based clock.

    Sound is read from audio-only inputs, one per source run (``sound.source_runs``), decoded once
    and split among the run's clips. Each input is seeked ``PREROLL`` before the run's first
    sample and the clips are cut on the stream's own timestamps: an audio input seek may land a
    codec frame late (measured: 478 samples past a 0.5 s seek in a 44.1 kHz AAC file), so where it
    lands must not decide which sample a clip starts with.
    """
    sr = out.sample_rate
    feeds: list[tuple[str, list[str]]] = [("", [])] * len(sounds)
    reads = []
    for pc, _ in sounds:
        seek, preroll = seek_point(pc, out)
        point = seek + preroll  # the sound's first source second
        if pc.clip.ramp is None:
            reads.append((point, point + frames_to_seconds(pc.frames, out.fps) * pc.clip.rate))
        else:
            lead = frames_to_seconds(pc.head, out.fps) + pc.offset
            reads.append((point, point + source_point(pc, out, lead + frames_to_seconds(pc.frames, out.fps))
                          - source_point(pc, out, lead)))
    groups: dict[tuple[str, int], list[int]] = {}
    for k, (_, info) in enumerate(sounds):
        assert info.audio is not None
        groups.setdefault((info.path, info.audio.index), []).append(k)
    for (_, stream), members in groups.items():
        for run in source_runs([reads[k] for k in members]):
            ks = [members[r] for r in run]
            first = max(Fraction(0), min(reads[k][0] for k in ks) - PREROLL)
            last = max(reads[k][1] for k in ks)
            pc0, info = sounds[ks[0]]
            idx = len(g.inputs)
            g.inputs.append(PlanInput(index=idx, clip=pc0.clip.id, asset=pc0.clip.asset or "", path=info.path,
                                      kind=info.kind, args=["-ss", to_ffmpeg_seconds(first), "-t",
                                                            to_ffmpeg_seconds(last - first + SEEK_MARGIN), "-vn"]))
            if len(ks) == 1:
                labels = [f"{idx}:{stream}"]
            else:
                labels = [g.label("s") for _ in ks]
                g.chains.append(chain([f"{idx}:{stream}"], [f"asplit={len(ks)}"], "][".join(labels)))
            for k, label in zip(ks, labels):
                # cut on the source's timestamps (start/end compare them; start_sample/end_sample
                # count samples), put the cut-in point at 0 and let aresample pad what is missing
                # before the first decoded sample (a decoder's first frame may start a few samples
                # late: 22 in a 44.1 kHz AAC file, measured): a window starting inside a clip then
                # gets the same samples as the full render
                a = to_ffmpeg_seconds(reads[k][0] - first)
                b = to_ffmpeg_seconds(reads[k][1] - first + SEEK_MARGIN)
                feeds[k] = (label, [f"atrim=start={a}:end={b}", f"asetpts=PTS-{a}/TB",
                                    f"aresample={sr}:async=1:first_pts=0"])
    return feeds


def sound_crossfades(placed: tuple[PlacedClip, ...], i: int, pc: PlacedClip, out: Out) -> list[str]:
    """Linear fades over the overlap of a video-track transition, on both sides."""
    if pc.track_kind != "video":
        return []
    filters = []
    if pc.clip.transition_in is not None and pc.transition_frames > 0 and i > 0:
        d = frames_to_seconds(pc.transition_frames, out.fps)
        filters.append(f"afade=t=in:st=0:d={to_ffmpeg_seconds(d)}")
    nxt = placed[i + 1] if i + 1 < len(placed) else None
    if nxt is not None and nxt.clip.transition_in is not None and nxt.transition_frames > 0:
        d = frames_to_seconds(nxt.transition_frames, out.fps)
        st = frames_to_seconds(pc.frames - nxt.transition_frames, out.fps)
        filters.append(f"afade=t=out:st={to_ffmpeg_seconds(st)}:d={to_ffmpeg_seconds(d)}")
    return filters
