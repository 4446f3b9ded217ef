"""Joining a track's pictures: the transitions (``engines.model.transitions``) over the overlapping
frames only, cuts and concatenation back on the output clock."""

from __future__ import annotations

from engines.model.timebase import fraction_text, frames_to_seconds, to_ffmpeg_seconds
from engines.model.transitions import TransitionKind

from .color import BT709_TAGS, pinned_format
from .graph import Graph, Out


def join_with_transition(g: Graph, before: str, before_frames: int, incoming: str, incoming_frames: int, d: int,
                         transition: TransitionKind, out: Out, transparent: bool) -> list[str]:
    """Two picture streams joined by a transition over their ``d`` overlapping frames: the labels to
    concatenate, in order. Only the overlap is blended: ``xfade`` works in 4:4:4, so ffmpeg converts
    all it is given there and back (bicubic chroma), and a clip's frames outside the overlap would
    differ, by up to 33 code values, from the same frames in a window or chunk without the
    transition; converting only the overlap is also most of a transition's cost gone."""
    head, tail = cut_at(g, before, before_frames - d, before_frames, out)
    fading_in, rest = cut_at(g, incoming, d, incoming_frames, out)
    seconds = to_ffmpeg_seconds(frames_to_seconds(d, out.fps))
    clock = [f"settb={fraction_text(1 / out.fps)}", "setpts=N"]
    if transition.alpha_fade and not transparent:
        # a plain crossfade of opaque pictures: the outgoing frames faded out in their alpha over
        # the incoming ones, in 4:2:0 (a third of xfade's cost: measured, 640x360 and 1080p)
        fading_out = g.add([tail], [pinned_format("yuva420p"), f"fade=t=out:st=0:d={seconds}:alpha=1"], "fo")
        faded = g.add([fading_in, fading_out], ["overlay=format=yuv420:eof_action=pass", *clock,
                                                pinned_format(out.pix_fmt), BT709_TAGS], "xf")
    else:
        # xfade's output carries no colour tags: pinned and tagged again, or the concat that follows
        # converts the next frames to match it
        faded = g.add([tail, fading_in], [f"xfade=transition={transition.xfade}:duration={seconds}:offset=0", *clock,
                                          pinned_format("yuva420p" if transparent else out.pix_fmt), BT709_TAGS],
                      "xf")
    return [label for label in (head, faded, rest) if label is not None]  # tail, fading_in: never None


def cut_at(g: Graph, label: str, at: int, frames: int, out: Out) -> tuple[str | None, str | None]:
    """A picture stream of ``frames`` frames cut before frame ``at``: (the frames before it, the
    frames from it on); None for a side without frames."""
    if at <= 0:
        return None, label
    if at >= frames:
        return label, None
    whole, later = g.label("cut"), g.label("cut")
    g.chains.append(f"[{label}]split[{whole}][{later}]")
    return (g.add([whole], [f"trim=end_frame={at}"], "head"),
            g.add([later], [f"trim=start_frame={at}", f"settb={fraction_text(1 / out.fps)}", "setpts=N"], "tail"))


def concat_labels(g: Graph, labels: list[str], out: Out) -> str:
    """One stream of the labels in order, back on the output clock: ``concat`` hands out a
    1/1000000 time base, which ``xfade`` refuses next to a clip's 1/fps."""
    if len(labels) == 1:
        return labels[0]
    return g.add(labels, [f"concat=n={len(labels)}:v=1:a=0", f"settb={fraction_text(1 / out.fps)}", "setpts=N"],
                 "cat")
