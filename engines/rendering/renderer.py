"""The renderer: planning a project and rendering a plan in one pass.

``Renderer.plan_project`` loads, validates, gathers sources, decides hardware and builds the
plan (a dry run raises with every problem listed). ``Renderer.render`` runs a plan in one
ffmpeg pass into a temporary file beside the output and renames it into place only when ffmpeg
succeeded and the file has the planned frame count: a failure or a cancel leaves no partial file.
Jobs (``engines.jobs``) and previews (``engines.video_preview``) are built on it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from engines import cache_notes
from engines.errors import AssetError, FFmpegError
from engines.ffmpeg.hardware import HardwareDecision, decide_hardware, requested_hw
from engines.ffmpeg.probe import MediaInfo, count_video_frames, probe
from engines.ffmpeg.profiles import GPU_CODECS, RenderProfile, get_profile
from engines.ffmpeg.runner import FFmpegRunner, HardwareReport, RunResult, detect_hardware
from engines.ffmpeg.threads import encoder_threads, with_threads
from engines.media_v2.identities import cheap_identity
from engines.media_v2.library import MediaLibrary
from engines.model.project import Project, load_project
from engines.model.template import FilledTemplate
from engines.planning.chunks import chunk_frames_of
from engines.planning.loudness import apply_loudness, loudness_target
from engines.planning.plan import build_plan
from engines.planning.render_plan import RenderPlan
from engines.redaction import redact_paths

from .caption_sources import gather_captions
from .gif import encode_gif
from .loudness import measure_mix
from .sources import AssetLookup, Sources, gather_sources, slate_missing_media

Progress = Callable[[float, dict[str, str]], None]
ProjectInput = str | Path | dict[str, Any] | Project | FilledTemplate


@dataclass(frozen=True)
class RenderResult:
    output: str
    frames: int
    duration: str
    elapsed: float
    plan_hash: str
    encoder: str
    warnings: tuple[str, ...] = ()  # decode errors ffmpeg met in the sources


class Renderer:
    def __init__(self, runner: FFmpegRunner | None = None, *, asset_lookup: AssetLookup | None = None,
                 hardware: HardwareReport | None = None, library: MediaLibrary | None = None) -> None:
        self.runner = runner or FFmpegRunner()
        self._library = library
        self.asset_lookup = asset_lookup or self._lookup_in_media_v2
        self._hardware = hardware
        self._probed: dict[tuple[str, int, int], MediaInfo] = {}
        self.memo: dict[str, dict[Any, Any]] = {}  # a warm process's answers, each kept by the code that asks

    def probe(self, path: str) -> MediaInfo:
        """A local file's facts, probed once while it stays the same file: kept in this process by
        size and modification time (the identity chunk caching trusts too: a batch's rows and a job's
        submission and run share them), and across processes in a note by its cheap identity (size,
        modification time and sampled hash, as registrations are found: ``media_v2.identities``), so
        a cold command does not import PyAV to probe a file it probed before."""
        try:
            st = os.stat(path)
        except OSError:
            return probe(path)  # says what is wrong with it
        key = (path, st.st_size, st.st_mtime_ns)
        info = self._probed.get(key)
        if info is None:
            info = self._probed[key] = noted_probe(path)
        return info

    @property
    def library(self) -> MediaLibrary:
        """The media_v2 library, opened on first use: projects of local paths never need it."""
        if self._library is None:
            self._library = MediaLibrary()
        return self._library

    def _lookup_in_media_v2(self, project: Project, asset_id: str) -> str | None:
        return self.library.lookup(project, asset_id)

    @property
    def hardware(self) -> HardwareReport:
        if self._hardware is None:
            self._hardware = detect_hardware(self.runner)
        return self._hardware

    # -------------------------------------------------------------- planning

    def load(self, project: ProjectInput) -> tuple[Project, Path]:
        """The validated project and the folder its relative paths resolve against."""
        if isinstance(project, Project):
            return project, Path.cwd()
        if isinstance(project, FilledTemplate):
            return load_project(project.path, project.values), Path(project.path).resolve().parent
        if isinstance(project, (str, Path)) and not str(project).lstrip().startswith("{"):
            return load_project(project), Path(project).resolve().parent
        return load_project(project), Path.cwd()

    def gather(self, project: Project, base_dir: Path, *, slate_missing: bool = False) -> Sources:
        """Every asset resolved and probed (with the damage known of registered ones); with
        ``slate_missing``, media that cannot be found is a slate with a warning instead of a
        blocking problem."""
        registered = any(r.asset_id for r in project.assets.values())
        sources = gather_sources(project, base_dir, lookup=self.asset_lookup, prober=self.probe,
                                 damage=self.library.damage_of if registered else None,
                                 facts=self.library.facts_of if registered else None)
        gather_captions(project, base_dir, sources, self.asset_lookup)  # captions tracks' files and fonts
        if slate_missing:
            slate_missing_media(project, sources)
        return sources

    def gather_all(self, project: Project, base_dir: Path, *, slate_missing: bool = False,
                   stage: str = "plan") -> Sources:
        """``gather``, raising with every blocking problem (missing or unreadable assets) at once."""
        sources = self.gather(project, base_dir, slate_missing=slate_missing)
        if sources.problems:
            raise AssetError(f"{len(sources.problems)} blocking problem(s): " + "; ".join(sources.problems),
                             stage=stage, problems=sources.problems,
                             hint="fix or register the listed assets, then plan again")
        return sources

    def decide(self, profile: RenderProfile, hw: str | None) -> HardwareDecision:
        choice = requested_hw(hw)
        # a CPU render needs no GPU probe
        needs_report = choice != "cpu" and profile.codec in GPU_CODECS
        return decide_hardware(choice, profile.codec, self.hardware if needs_report else None)

    def plan_project(self, project: ProjectInput, profile: str, hw: str | None = None, *,
                     base_dir: Path | None = None, chunk_seconds: Any = None, normalise: bool = False,
                     slate_missing: bool = False) -> RenderPlan:
        """Load -> validate -> gather -> decide -> plan. Raises with every blocking problem.

        ``normalise`` measures the mix (one audio-only pass) and brings the plan to the profile's
        loudness target, for a single-pass render (jobs measure once when they render the audio).
        ``slate_missing`` draws media that cannot be found as slates (with warnings) instead of
        refusing: imported timelines whose files did not all come along."""
        proj, folder = self.load(project)
        prof = get_profile(profile)
        sources = self.gather_all(proj, base_dir or folder, slate_missing=slate_missing)
        decision = self.decide(prof, hw)

        def plan(**kw: Any) -> RenderPlan:
            return build_plan(proj, sources, prof, decision, chunk_frames=chunk_frames_of(chunk_seconds, prof.output_fps(proj.settings.fps)), **kw)

        full = plan()
        target = loudness_target(proj, prof)
        if normalise and target is not None:
            return apply_loudness(full, measure_mix(self, plan(streams="audio")), target)
        return full

    # -------------------------------------------------------------- rendering

    def render(self, plan: RenderPlan, output: str | Path, *, progress: Progress | None = None,
               cancel: threading.Event | None = None, timeout: float | None = None,
               stall_timeout: float | None = None) -> RenderResult:
        """One ffmpeg pass into ``output``, which appears only once complete and verified."""
        out = Path(output).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        partial = out.parent / f".{out.name}.partial-{os.getpid()}-{threading.get_ident()}.mp4"
        try:
            run = self.encode(plan, partial, progress=progress, cancel=cancel, timeout=timeout,
                              stall_timeout=stall_timeout)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
        if progress is not None:
            progress(1.0, {"progress": "end"})
        return RenderResult(str(out), plan.frames, plan.duration, time.monotonic() - start, plan.plan_hash,
                            str(plan.meta.get("encoder")), tuple(decode_warnings("render", run)))

    def encode(self, plan: RenderPlan, target: Path, *, progress: Progress | None = None,
               cancel: threading.Event | None = None, timeout: float | None = None, stage: str = "render",
               stall_timeout: float | None = None, **context: Any) -> RunResult:
        """Run ``plan`` into ``target`` (in a private work folder) and check its frame count; what
        the run reported (decode errors among it)."""
        gif = get_profile(plan.profile).codec == "gif"
        with tempfile.TemporaryDirectory(prefix="cutlite-work-") as work:
            write_work_folder(plan, Path(work))

            def on_progress(block: dict[str, str]) -> None:
                if progress is not None:
                    frame = int(block.get("frame", "0") or 0)
                    progress(min(1.0, frame / plan.frames) if plan.frames else 1.0, block)

            # a GIF's plan makes lossless frames; its palette is chosen from them (``gif.py``)
            frames_file = Path(work) / "frames.mkv" if gif else target
            result = self.runner.run(with_threads(plan.argv(str(frames_file)), encoder_threads()), stage=stage,
                                     cwd=work, timeout=timeout, cancel=cancel, on_progress=on_progress,
                                     stall_timeout=stall_timeout, plan_hash=plan.plan_hash, profile=plan.profile,
                                     **context)
            if gif:
                encode_gif(self.runner, frames_file, target, width=plan.width, height=plan.height,
                           frames=plan.frames, fps=Fraction(plan.fps), cancel=cancel, **context)
        if plan.streams != "audio":
            frames = count_video_frames(target)
            if frames != plan.frames:
                raise FFmpegError(f"the output has {frames} frames, the plan {plan.frames}", stage="verify",
                                  plan_hash=plan.plan_hash, retryable=True, **context,
                                  hint="this is an engine bug if it repeats: report it with `cutlite plan --json`")
        return result


def decode_warnings(what: str, run: RunResult) -> list[str]:
    """A warning when ffmpeg's decoders reported damaged input during a pass that still succeeded."""
    if not run.decode_errors:
        return []
    return [f"{what}: ffmpeg reported {run.decode_errors} decode error(s) in the sources, e.g. "
            f"{redact_paths(run.decode_examples[0]) if run.decode_examples else 'see the log'}; "
            "the output conceals them: check the sources"]


def write_work_folder(plan: RenderPlan, work: Path) -> None:
    """The plan's graph and text files written into ``work``, its fonts linked in (ffmpeg runs there)."""
    for name, text in plan.work_files().items():
        (work / name).write_text(text, encoding="utf-8")
    for source, name in plan.links.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)  # caption fonts sit in a folder of their own
        try:
            os.symlink(source, work / name)
        except OSError:
            shutil.copyfile(source, work / name)


PROBE_NOTES = "probe-facts.json"


def noted_probe(path: str) -> MediaInfo:
    """``probe(path)``, or the facts noted when this file (its cheap identity) was probed before."""
    try:
        identity = cheap_identity(Path(path))
    except OSError:
        return probe(path)
    key = os.path.realpath(path)
    note = cache_notes.read(PROBE_NOTES).get(key)
    if isinstance(note, dict) and note.get("identity") == identity:
        try:
            return MediaInfo.from_facts(note["facts"], path)
        except (KeyError, TypeError, ValueError):
            pass  # noted by an older version: probed again
    info = probe(path)
    cache_notes.update(PROBE_NOTES, key, {"identity": identity, "facts": info.facts()})
    return info
