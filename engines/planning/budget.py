"""What an ffmpeg pass may take, from the work its plan holds (pure).

A fixed or length-only limit took a long job for a hung one: a 600-clip timeline's audio failed
after 38 s while making steady progress. The limit now follows the planned work: the output
seconds at the profile's expected speed (video) or at ``AUDIO_SPEED`` (sound), plus a cost per
input opened (open, probe, seek, decode from the keyframe before the cut), all times ``SLACK``
for a machine shared with other work. Hangs are not the limit's job: the runner's stall watchdog
(``stall_seconds``) ends a pass whose progress has not moved for that long.
"""

from __future__ import annotations

from fractions import Fraction

from engines.model.timebase import parse_fps

from .render_plan import RenderPlan

BASE_SECONDS = 30.0     # process start, graph setup, the file's trailer
SLACK = 4.0             # a loaded machine (the bench ran with a load of 10 on 2 cores)
AUDIO_SPEED = 20.0      # output seconds of sound made per second, at the least (measured ~200)
INPUT_SECONDS = 0.5     # per input: open, probe, seek, decode up to the cut (measured ~0.1 at 720p)
STALL_SECONDS = 60.0    # no progress for this long, once inputs are open: a hang


def output_seconds(plan: RenderPlan) -> float:
    return float(Fraction(plan.frames) / parse_fps(plan.fps))


def pass_timeout(plan: RenderPlan, speed_factor: float) -> float:
    """Seconds a pass running ``plan`` may take (``speed_factor``: the profile's expected encode
    speed, output seconds per second on one core)."""
    seconds = output_seconds(plan)
    video = 0.0 if plan.streams == "audio" else seconds / max(speed_factor, 0.01)
    sound = 0.0 if plan.streams == "video" else seconds / AUDIO_SPEED
    return BASE_SECONDS + SLACK * (video + sound + INPUT_SECONDS * len(plan.inputs))


def stall_seconds(plan: RenderPlan) -> float:
    """No progress for this long is a hang; opening many inputs comes before the first progress."""
    return STALL_SECONDS + SLACK * INPUT_SECONDS * len(plan.inputs)
