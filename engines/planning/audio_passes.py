"""A long timeline's sound in passes (pure): windows rendered to raw PCM, joined byte-exactly,
then encoded to AAC once.

One graph for all of a 2,000-clip timeline's sound costs quadratically in ffmpeg (see
``sound``); windows of at most ``sound.WINDOW_CLIPS`` clips keep each graph small. A windowed
plan's samples are exactly the full plan's samples of that window (positions come from
absolute frames), so the joined PCM is the full timeline's sound; encoding it once keeps AAC's
priming out of the seams.
"""

from __future__ import annotations

from engines.model.project import Project
from engines.model.timebase import parse_fps
from engines.model.timeline import place_project

from .render_plan import RenderPlan
from .sound import WINDOW_CLIPS, audio_windows

PCM_FORMAT = "f32le"     # what windows are written as: 32-bit float, the graph's own precision
PCM_BYTES_PER_SAMPLE = 4 * 2  # stereo


def plan_audio_windows(project: Project, plan: RenderPlan, max_clips: int = WINDOW_CLIPS) -> list[tuple[int, int]]:
    """The output-frame windows ``plan``'s sound is rendered in (one window: a single pass)."""
    return audio_windows(place_project(project).at_rate(parse_fps(plan.fps)), max_clips)


def to_pcm(plan: RenderPlan) -> RenderPlan:
    """``plan`` (streams="audio") writing raw stereo PCM at the plan's rate, nothing else."""
    return plan.model_copy(update={"output_args": ["-map", "[aout]", "-c:a", f"pcm_{PCM_FORMAT}", "-ac", "2",
                                                   "-f", PCM_FORMAT]})


def pcm_bytes(plan: RenderPlan) -> int:
    """The exact size of ``to_pcm(plan)``'s output."""
    return plan.samples * PCM_BYTES_PER_SAMPLE


def encode_pcm_args(pcm: str, plan: RenderPlan, audio_args: tuple[str, ...], output: str,
                    filters: list[str] | None = None) -> list[str]:
    """ffmpeg arguments encoding joined PCM (``plan``'s rate, stereo) to the job's audio (the
    profile's ``audio_args``); ``filters`` (a loudness gain) on the way."""
    return ["-y", "-f", PCM_FORMAT, "-ar", str(plan.sample_rate), "-ac", "2", "-i", pcm,
            *(["-af", ",".join(filters)] if filters else []),
            *audio_args,
            # the same sound gives the same bytes: no encoder version strings or dates
            "-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
            output]
