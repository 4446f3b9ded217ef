"""Running a render job: chunks on a local pool, audio once, a stream-copy join, an artifact.

- The job is claimed QUEUED -> RUNNING by an owner (``host:pid:token``) that heartbeats every
  second; a job whose owner is gone is found stale and can be resumed.
- Audio for the whole timeline is rendered once (no AAC priming at seams); each chunk's video is
  a windowed plan (frames identical to a single pass) encoded as closed GOPs, verified (frame
  count) and stored content-addressed: a chunk with the same content hash — its slice of the
  plan, its sources' identities, profile and encoder — is reused, by this job on resume or by
  any job of the tenant after an edit elsewhere in the timeline.
- Each pass has a timeout from its planned work (``engines.planning.budget``) and a stall
  watchdog against hangs; each chunk has up to
  ``MAX_ATTEMPTS`` attempts with exponential backoff; the last failure (stage, chunk, stderr
  tail) is the job's error.
- Cancel (a flag in the database, seen by the heartbeat) ends every running ffmpeg of the job
  and removes the job's partial objects. The job always ends COMPLETED, FAILED or CANCELED.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from engines.errors import Cancelled, CutliteError, FFmpegError, JobError, StorageError
from engines.faults import failpoint
from engines.ffmpeg.hardware import HardwareDecision
from engines.ffmpeg.probe import count_video_frames
from engines.ffmpeg.profiles import RenderProfile, get_profile
from engines.media_v2 import keys
from engines.media_v2.models import Artifact, utc_now
from engines.media_v2.storage import ObjectStore
from engines.model.project import load_project
from engines.model.timebase import parse_fps, to_ffmpeg_seconds
from engines.owners import lease_owner
from engines.planning.audio_passes import plan_audio_windows
from engines.planning.budget import pass_timeout, stall_seconds
from engines.planning.chunks import chunk_frames_of
from engines.planning.loudness import Measurement, Target, loudness_target
from engines.planning.output_args import video_timescale
from engines.planning.plan import build_plan
from engines.planning.render_plan import RenderPlan, hash_plan, source_identities
from engines.redaction import redact, redact_paths
from engines.rendering.audio import render_sound
from engines.rendering.loudness import measure_file, meter_reading, metered
from engines.rendering.renderer import Renderer, decode_warnings

from .records import Chunk, ChunkState, Job, JobState
from .repository import RIDER, JobRepository, Limits

# pinned for every stream-copied file (chunk cuts and the join): no dates or versions in the bytes
REMUX_ARGS = ["-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact"]


def remux_args(container: str) -> list[str]:
    """``REMUX_ARGS`` for ``container`` (WebM has no ``movflags``)."""
    return REMUX_ARGS if container in ("mp4", "mov", "m4a") else REMUX_ARGS[2:]
MAX_ATTEMPTS = 3
DECODE_EVENT = "decode_errors"  # a pass met damaged input: the job's result says so
BACKOFF = 0.5  # seconds, doubled per attempt
Progress = Callable[[float, dict[str, Any]], None]


def chunk_hash(plan: RenderPlan, identities: dict[str, str]) -> str:
    """Exactly what makes a chunk's pixels: its slice of the graph, its inputs and encoder settings."""
    doc = {"graph": plan.filter_graph, "files": plan.files, "links": sorted(v.rsplit("/", 1)[-1] for v in plan.links),
           "inputs": [{"args": i.args, "source": identities.get(i.path, i.path)} for i in plan.inputs],
           "global": plan.global_args, "output": plan.output_args, "size": [plan.width, plan.height],
           "fps": plan.fps, "frames": plan.frames, "encoder": plan.meta["encoder"]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def source_identity(path: str) -> str:
    """A file's identity for caching: size and modification time (content-addressed store keys
    already carry their content)."""
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}"


class JobRunner:
    def __init__(self, service: Renderer, repo: JobRepository) -> None:
        self.service = service  # planning, rendering, the library
        self.repo = repo

    def run(self, job_id: str, *, progress: Progress | None = None, cancel: threading.Event | None = None,
            workers: int | None = None, limits: Limits | None = None, rider: bool = False) -> Job:
        """Claim the QUEUED job and render it here. ``rider``: a batch row run inside the running slot
        its batch already holds (``RIDER``: not counted against the limits again)."""
        owner = lease_owner() + (RIDER if rider else "")
        if not self.repo.claim(job_id, owner, limits):
            job = self.repo.get(job_id)
            raise JobError(f"job {job_id} is {job.state.value}, not QUEUED", stage="run", job_id=job_id)
        cancel = cancel or threading.Event()
        state = {"progress": 0.0}
        stop = start_heartbeat(self.repo, job_id, owner, cancel, lambda: state["progress"])
        started = time.monotonic()
        try:
            job = self.repo.get(job_id)
            result = self._execute(job, owner, cancel, state, progress, workers)
            failpoint("job.before_complete")
            timings = dict(result["timings"], total=round(time.monotonic() - started, 3))
            done = self.repo.transition(job_id, JobState.COMPLETED, owner=owner, progress=1.0,
                                        output_key=result["key"], timings=timings)
        except Cancelled:
            self.cleanup(job_id, partial=True)
            return self.repo.transition(job_id, JobState.CANCELED, owner=owner)
        except CutliteError as exc:
            return self.repo.transition(job_id, JobState.FAILED, owner=owner, error=error_record(exc))
        except Exception as exc:  # an engine bug must still end the job, never leave it RUNNING
            self.repo.transition(job_id, JobState.FAILED, owner=owner, error=error_record(exc, "run"))
            raise
        finally:
            stop()
        # the user's copy appears only once the job is COMPLETED (a failure here leaves the job
        # COMPLETED and its artifact in the store: `cutlite render` again copies it out)
        output = job.params.get("output")
        if output:
            copy_out(self.service.library.store(job.env).local_path(result["key"]), Path(output))
        if progress:
            progress(1.0, {"stage": "done"})
        return done

    # ------------------------------------------------------------------ the work

    def context(self, job: Job) -> "JobContext":
        """Everything a chunk or the join needs, rebuilt from the job's row (any process, any machine)."""
        svc = self.service
        params = job.params
        project = load_project(params["project"])
        base_dir = Path(params["base_dir"])
        profile = get_profile(job.profile)
        options = params.get("options", {})
        sources = svc.gather(project, base_dir, slate_missing=bool(options.get("slate_missing")))
        if sources.problems:
            raise JobError("the job's sources changed: " + "; ".join(sources.problems), stage="plan",
                           problems=sources.problems, hint="fix the assets and submit again")
        decision = svc.decide(profile, params.get("hw"))
        if params.get("hw_family") and decision.family != params["hw_family"]:
            # the family chosen at submission, so every worker plans the same job (a GPU worker
            # must not turn a CPU job into an NVENC one, nor a CPU worker the reverse)
            decision = svc.decide(profile, params["hw_family"])
        chunk_frames = chunk_frames_of(options.get("chunk_seconds"), profile.output_fps(project.settings.fps))

        def plan(**kw: Any) -> RenderPlan:
            return build_plan(project, sources, profile, decision, chunk_frames=chunk_frames, **kw)

        full = plan()
        named = source_identities(project)
        portable = params.get("portable_plan_hash")
        if (hash_plan(full, named) if portable else full.plan_hash) != (portable or job.plan_hash):
            raise JobError("the plan changed since the job was submitted (sources or hardware differ)",
                           stage="plan", hint="submit the project again for a new job")
        # registered sources are named by asset id (content-addressed: the same on every machine)
        identities = {info.path: (named[name] if not named[name].startswith("path:") else source_identity(info.path))
                      for name, info in sources.media.items()}
        return JobContext(job, profile, decision, plan, full, parse_fps(full.fps), full.frames, identities,
                          svc.library.store(job.env), options, loudness_target(project, profile),
                          tuple(plan_audio_windows(project, full)))

    def render_audio(self, ctx: "JobContext", cancel: threading.Event) -> float:
        """The whole timeline's sound, once (no AAC priming at chunk seams), in windows when the
        timeline is long (``engines.rendering.audio``); seconds it took."""
        t = time.monotonic()
        job = ctx.job
        if ctx.profile.audio_codec is None:  # a GIF: no sound
            return 0.0
        audio_key = keys.render_key(job.tenant, job.env, job.id, ctx.profile.audio_file)
        if not ctx.store.exists(audio_key):
            with tempfile.TemporaryDirectory(prefix="cutlite-job-") as work:
                target = Path(work) / ctx.profile.audio_file
                self._note_decode_errors(job.id, render_sound(
                    self.service, ctx.plan, list(ctx.audio_windows), target, audio_args=ctx.profile.audio_args,
                    timeout=lambda p: self._timeout(p, ctx.profile.speed_factor, ctx.options, "audio"),
                    stall_timeout=stall_seconds(ctx.full), cancel=cancel, stage="audio", job_id=job.id,
                    loudness=ctx.loudness))  # the whole mix measured once, one gain for every chunk
                ctx.store.put_file(audio_key, target, move=True)
        return round(time.monotonic() - t, 3)

    def _execute(self, job: Job, owner: str, cancel: threading.Event, state: dict[str, float],
                 progress: Progress | None, workers: int | None) -> dict[str, Any]:
        ctx = self.context(job)
        job_id, total, store = job.id, ctx.total, ctx.store
        timings: dict[str, float] = {}
        done_frames = {"n": 0}
        lock = threading.Lock()

        def report(stage: str, extra: int = 0) -> None:
            with lock:
                done_frames["n"] += extra
                state["progress"] = 0.95 * done_frames["n"] / max(1, total)
            if progress:
                progress(state["progress"], {"stage": stage, "frames_done": done_frames["n"], "frames": total})

        # chunks on the local pool, the sound beside them: one light, mostly single-threaded ffmpeg
        # that fills the cores the chunks leave idle (the last chunk alone, cuts, process starts)
        failpoint("job.before_chunks")
        t = time.monotonic()
        single = self.one_pass_chunk(ctx)
        if single is not None:  # one chunk: picture and sound in one pass, straight into the output
            return self.finalise(ctx, cancel, timings, one_pass=(single, owner, report))
        pending = []
        for c in self.repo.chunks(job_id):
            if c.state == ChunkState.DONE and c.key and store.exists(c.key):
                report("chunks", c.end_frame - c.start_frame)
            else:
                pending.append(c)
        n_workers = max(1, int(workers or ctx.options.get("workers") or 1))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sound") as side, \
                ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="chunk") as pool:
            sound = side.submit(self.render_audio, ctx, cancel)
            futures = [sound, *(pool.submit(self.render_chunk, ctx, c, cancel, report, owner) for c in pending)]
            finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in finished if f.exception() is not None]
            if failed:
                cancel.set()  # stop the other chunks (and the sound) at once
                wait(futures)
                exc = failed[0].exception()
                assert exc is not None
                raise exc
            timings["audio"] = sound.result()
        timings["chunks"] = round(time.monotonic() - t, 3)
        if cancel.is_set():
            raise Cancelled("cancelled", stage="chunks")
        return self.finalise(ctx, cancel, timings)

    def one_pass_chunk(self, ctx: "JobContext") -> Chunk | None:
        """The job's only chunk when the job renders in one pass: picture and sound together straight
        into the output, no separate sound pass, cut or join (a 10 s draft row was five ffmpeg runs).

        Only when nothing is lost by it: one chunk, not already stored (a resumed job keeps what it
        has) nor in the tenant's chunk cache (an edit of the sound alone reuses the picture), no
        loudness target (drafts and previews: the mix is never measured before the encode) and the
        sound in one window. Every other job takes the chunked path."""
        profile = ctx.profile
        if not profile.chunked or not profile.has_video or profile.audio_codec is None or ctx.loudness is not None \
                or len(ctx.audio_windows) > 1:
            return None
        chunks = self.repo.chunks(ctx.job.id)
        if len(chunks) != 1:
            return None
        (c,) = chunks
        if c.state == ChunkState.DONE and c.key and ctx.store.exists(c.key):
            return None
        start, end = padded_window(c, profile, ctx.fps, ctx.total)
        window = ctx.plan(window=(start, end), streams="video", keyframe_at=c.start_frame - start)
        cached = self.repo.cached_chunk(ctx.job.tenant, ctx.job.env, chunk_hash(window, ctx.identities))
        if cached and ctx.store.exists(cached["key"]):
            return None
        return c

    def _one_pass(self, ctx: "JobContext", c: Chunk, owner: str, report: Callable[..., None], target: Path,
                  cancel: threading.Event) -> tuple[float, Measurement | None]:
        """The whole plan, picture and sound, encoded into ``target`` and verified, its mix measured
        in the same pass; the chunk row says so (no key: nothing is cached). Up to ``max_attempts``
        tries with backoff, as a chunk. (seconds, the loudness measured or None)"""
        job, full, frames = ctx.job, ctx.full, c.end_frame - c.start_frame
        sent = {"n": 0}  # frames reported so far (taken back if an attempt fails)

        def on_progress(fraction: float, _block: dict[str, str]) -> None:
            n = min(frames, int(fraction * frames))
            if n > sent["n"]:
                report("render", n - sent["n"])
                sent["n"] = n

        while True:
            attempts = self.repo.start_chunk(job.id, c.idx, owner, full.plan_hash) or c.attempts + 1
            t = time.monotonic()
            try:
                run = self.service.encode(metered(full) or full, target, cancel=cancel, stage="render", job_id=job.id,
                                          timeout=self._timeout(full, ctx.profile.speed_factor, ctx.options),
                                          stall_timeout=stall_seconds(full), progress=on_progress)
                self._note_decode_errors(job.id, decode_warnings("render", run))
                seconds = round(time.monotonic() - t, 3)
                self.repo.update_chunk(job.id, c.idx, state=ChunkState.DONE, key=None, reused=False, seconds=seconds,
                                       attempts=attempts, error=None)
                report("render", frames - sent["n"])
                return seconds, meter_reading(run.stderr_tail)
            except Cancelled:
                self.repo.update_chunk(job.id, c.idx, state=ChunkState.PENDING, attempts=attempts)
                raise
            except FFmpegError as exc:
                report("render", -sent["n"])
                sent["n"] = 0
                err = error_record(exc)
                if attempts >= max_attempts(ctx.options):
                    self.repo.update_chunk(job.id, c.idx, state=ChunkState.FAILED, attempts=attempts, error=err)
                    raise
                self.repo.update_chunk(job.id, c.idx, state=ChunkState.PENDING, attempts=attempts, error=err)
                if cancel.wait(BACKOFF * 2 ** (attempts - 1)):
                    raise Cancelled("cancelled", stage="render", chunk_index=c.idx) from None

    def finalise(self, ctx: "JobContext", cancel: threading.Event, timings: dict[str, float], *,
                 one_pass: tuple[Chunk, str, Callable[..., None]] | None = None) -> dict[str, Any]:
        """Make the output (chunks joined by stream copy with the audio; the whole plan in one pass
        for a job of one chunk, ``one_pass``: its chunk, owner and progress report; a GIF in one
        pass; the sound pass itself for an audio-only profile), verify, store and register it."""
        svc, job, store, total, profile, decision, full = (self.service, ctx.job, ctx.store, ctx.total, ctx.profile,
                                                           ctx.decision, ctx.full)
        tenant, env, job_id = job.tenant, job.env, job.id
        audio_key = keys.render_key(tenant, env, job_id, profile.audio_file)
        failpoint("job.before_join")
        t = time.monotonic()
        chunks = self.repo.chunks(job_id)
        out_key = keys.render_key(tenant, env, job_id, f"output.{profile.container}")
        with tempfile.TemporaryDirectory(prefix="cutlite-job-") as work:
            target = Path(work) / f"output.{profile.container}"
            measured = None
            if one_pass is not None:
                timings["render"], measured = self._one_pass(ctx, *one_pass, target, cancel)
            elif profile.chunked:  # join by stream copy, with the audio
                listing = Path(work) / "chunks.txt"
                fps = parse_fps(full.fps)
                listing.write_text("".join(f"file '{_concat_quote(str(store.local_path(c.key)))}'\n" for c in chunks))
                timescale = ["-video_track_timescale", str(video_timescale(fps))] if profile.container != "webm" else []
                svc.runner.run(["-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-i",
                                str(store.local_path(audio_key)), "-map", "0:v", "-map", "1:a", "-c", "copy",
                                *timescale, *remux_args(profile.container), str(target)],
                               stage="join", cancel=cancel, job_id=job_id, timeout=120 + total / 100)
            elif profile.has_video:  # one pass (a GIF: one palette from every frame)
                self._note_decode_errors(job_id, decode_warnings("render", svc.encode(
                    full, target, cancel=cancel, stage="render", job_id=job_id,
                    timeout=self._timeout(full, profile.speed_factor, ctx.options), stall_timeout=stall_seconds(full))))
            else:  # sound only: the job's sound pass is the output
                shutil.copyfile(store.local_path(audio_key), target)
            frames = count_video_frames(target) if profile.has_video else total
            if frames != total:
                raise FFmpegError(f"the joined output has {frames} frames, the plan {total}", stage="verify",
                                  job_id=job_id, hint="resume the job; if it repeats, report it")
            loudness = None
            if profile.audio_codec is not None:
                measured = measured or measure_file(svc.runner, target, cancel=cancel, job_id=job_id)
                loudness = dict(measured.to_dict(), target_lufs=ctx.loudness.integrated_lufs if ctx.loudness else None)
            failpoint("job.after_join")
            size, checksum = store.put_file(out_key, target, move=True)
            failpoint("job.after_store")
            sidecars = store_sidecars(svc, ctx, Path(work), out_key)
        timings["join"] = round(time.monotonic() - t, 3)
        meta = {"profile_name": profile.name, "hw_encoder_used": decision.encoder, "hardware": decision.to_dict(),
                "plan_hash": full.plan_hash, "chunk_count": len(chunks), "frames": total, "duration": full.duration,
                "reused_chunks": sum(1 for c in chunks if c.reused), "timings": timings,
                # damaged sources the plan knew of, and decode errors ffmpeg reported while rendering
                "warnings": [*full.meta.get("warnings", []), *self._decode_errors_noted(job_id)],
                "ffmpeg_version": svc.runner.version, "job_id": job_id, "loudness": loudness,
                **({"sidecars": sidecars} if sidecars else {})}
        svc.library.registry.put_artifact(Artifact(
            id=keys.new_artifact_id(), tenant=tenant, env=env, asset_id=None, kind="render", profile=profile.name,
            key=out_key, size=size, checksum=checksum, meta=meta, created_at=utc_now()))
        self.cleanup(job_id, partial=False)
        return {"key": out_key, "timings": timings}

    def render_chunk(self, ctx: "JobContext", c: Chunk, cancel: threading.Event, report: Callable[..., None],
               owner: str, *, single_attempt: bool = False) -> None:
        """Render chunk ``c`` (or reuse it by content hash), verified, into the store.

        Locally, up to ``max_attempts`` tries with backoff. With ``single_attempt`` (a Celery task:
        the broker redelivers, attempts are counted in the database), one try; a failure that may
        be retried raises ``RetryChunk``."""
        job, plan, fps, total, identities, store, options = (ctx.job, ctx.plan, ctx.fps, ctx.total, ctx.identities,
                                                             ctx.store, ctx.options)
        job_id, idx = job.id, c.idx
        frames = c.end_frame - c.start_frame  # the chunk's own frames (its encode is padded)
        if cancel.is_set():
            raise Cancelled("cancelled", stage="chunk", chunk_index=idx)
        profile = get_profile(job.profile)
        start, end = padded_window(c, profile, fps, total)
        window = plan(window=(start, end), streams="video", keyframe_at=c.start_frame - start)
        digest = chunk_hash(window, identities)
        key = keys.chunk_key(job.tenant, job.env, digest, profile.container)
        cached = self.repo.cached_chunk(job.tenant, job.env, digest)
        if cached and store.exists(cached["key"]):
            self.repo.update_chunk(job_id, idx, state=ChunkState.DONE, content_hash=digest, key=cached["key"],
                                   checksum=cached["checksum"], reused=True, seconds=0.0, worker=owner,
                                   attempts=c.attempts)
            report("chunks", frames)
            return
        while True:
            started = self.repo.start_chunk(job_id, idx, owner, digest)
            if started is None:
                report("chunks", frames)
                return  # another copy of this chunk finished it meanwhile
            attempts = started
            t = time.monotonic()
            try:
                with tempfile.TemporaryDirectory(prefix="cutlite-chunk-") as work:
                    padded = Path(work) / f"padded_{idx:05d}.{profile.container}"
                    run = self.service.encode(window, padded, cancel=cancel, stage="chunk", job_id=job_id,
                                              chunk_index=idx, timeout=self._timeout(window, profile.speed_factor, options),
                                              stall_timeout=stall_seconds(window))
                    self._note_decode_errors(job_id, decode_warnings(f"chunk {idx}", run))
                    target = Path(work) / f"chunk_{idx:05d}.{profile.container}"
                    self._cut(padded, target, c.start_frame - start, frames, fps, cancel, job_id, idx)
                    _, checksum = store.put_file(key, target, move=True)
                self.repo.cache_chunk(job.tenant, job.env, digest, key, checksum, frames)
                self.repo.update_chunk(job_id, idx, state=ChunkState.DONE, key=key, checksum=checksum, reused=False,
                                       seconds=round(time.monotonic() - t, 3), attempts=attempts, error=None)
                report("chunks", frames)
                return
            except Cancelled:
                self.repo.update_chunk(job_id, idx, state=ChunkState.PENDING, attempts=attempts)
                raise
            except FFmpegError as exc:
                err = error_record(exc)
                if attempts >= max_attempts(options):
                    self.repo.update_chunk(job_id, idx, state=ChunkState.FAILED, attempts=attempts, error=err)
                    raise
                self.repo.update_chunk(job_id, idx, state=ChunkState.PENDING, attempts=attempts, error=err)
                if single_attempt:
                    raise RetryChunk(BACKOFF * 2 ** (attempts - 1)) from exc
                if cancel.wait(BACKOFF * 2 ** (attempts - 1)):
                    raise Cancelled("cancelled", stage="chunk", chunk_index=idx) from None

    def _cut(self, padded: Path, target: Path, lead: int, frames: int, fps: Fraction, cancel: threading.Event,
             job_id: str, idx: int) -> None:
        """Drop the pre-roll and post-roll by stream copy: seek to the chunk's first keyframe and keep
        exactly its frames (closed GOPs: they are the first packets in decode order from there)."""
        self.service.runner.run(["-y", "-ss", to_ffmpeg_seconds(lead / fps), "-i", str(padded), "-map", "0:v",
                                 "-c", "copy", "-frames:v", str(frames), *remux_args(target.suffix[1:]), str(target)],
                                stage="chunk", cancel=cancel, job_id=job_id, chunk_index=idx, timeout=60)
        got = count_video_frames(target)
        if got != frames:
            raise FFmpegError(f"chunk {idx} has {got} frames after the cut, not {frames}", stage="verify",
                              job_id=job_id, chunk_index=idx, retryable=True)

    def _note_decode_errors(self, job_id: str, warnings: list[str]) -> None:
        """Kept as job events: the join reads them back, whichever worker rendered the pass."""
        if warnings:
            self.repo.note(job_id, DECODE_EVENT, {"warnings": warnings})

    def _decode_errors_noted(self, job_id: str) -> list[str]:
        seen: dict[str, None] = {}  # in order, once (a retried chunk meets them again)
        for event in self.repo.events(job_id):
            if event["kind"] == DECODE_EVENT:
                seen.update(dict.fromkeys(event["data"].get("warnings", [])))
        return list(seen)

    @staticmethod
    def _timeout(plan: RenderPlan, speed_factor: float, options: dict[str, Any], kind: str = "chunk") -> float:
        """From the pass's planned work (``engines.planning.budget``), unless the job sets one."""
        given = options.get(f"{kind}_timeout")
        return float(given) if given else pass_timeout(plan, speed_factor)

    def cleanup(self, job_id: str, *, partial: bool) -> None:
        """Remove the job's intermediates (audio; the output too when cancelled)."""
        job = self.repo.get(job_id)
        store = self.service.library.store(job.env)
        profile = get_profile(job.profile)
        names = [profile.audio_file] + ([f"output.{profile.container}"] if partial else [])
        for name in names:
            try:
                store.delete(keys.render_key(job.tenant, job.env, job_id, name))
            except CutliteError:
                pass


def store_sidecars(svc: Renderer, ctx: "JobContext", work: Path, out_key: str) -> dict[str, str]:
    """The plan's caption sidecars (``captions.srt``, ``captions.vtt``) stored beside the output and
    registered as ``captions`` artifacts; format -> key."""
    job = ctx.job
    keys_by_format: dict[str, str] = {}
    for name, text in sorted(ctx.full.meta.get("sidecars", {}).items()):
        key = keys.render_key(job.tenant, job.env, job.id, name)
        file = work / name
        file.write_text(text, encoding="utf-8")
        size, checksum = ctx.store.put_file(key, file, move=True)
        fmt = name.rsplit(".", 1)[-1]
        svc.library.registry.put_artifact(Artifact(
            id=keys.new_artifact_id(), tenant=job.tenant, env=job.env, asset_id=None, kind="captions",
            profile=ctx.profile.name, key=key, size=size, checksum=checksum,
            meta={"format": fmt, "job_id": job.id, "output_key": out_key}, created_at=utc_now()))
        keys_by_format[fmt] = key
    return keys_by_format


@dataclass(frozen=True)
class JobContext:
    """A job's plan and surroundings, rebuilt from its row: what chunks and the join work from."""
    job: Job
    profile: RenderProfile
    decision: HardwareDecision
    plan: Callable[..., RenderPlan]   # the job's plan with keyword overrides (window, streams, ...)
    full: RenderPlan
    fps: Fraction
    total: int
    identities: dict[str, str]        # source path -> identity (chunk cache keys)
    store: ObjectStore
    options: dict[str, Any]
    loudness: Target | None = None    # the profile's loudness target (None: the mix as it is)
    audio_windows: tuple[tuple[int, int], ...] = ()  # output frames the sound is rendered in


class RetryChunk(Exception):
    """A chunk attempt failed and may be tried again after ``delay`` seconds (single-attempt mode)."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay:.1f} s")
        self.delay = delay


def max_attempts(options: dict[str, Any]) -> int:
    return int(options.get("max_attempts") or MAX_ATTEMPTS)


def error_record(exc: Exception, stage: str = "run") -> dict[str, Any]:
    """What a job or chunk row keeps of a failure: the error's JSON without its argv (long, and
    full of server paths); anything that is not a CutliteError is an engine bug, ``internal``."""
    if isinstance(exc, CutliteError):
        err = exc.to_dict()
        err["context"].pop("argv", None)
        err["context"].pop("path", None)
        return redact(err)  # served to clients: stderr lines name server files
    return {"code": "internal", "message": redact_paths(f"{type(exc).__name__}: {exc}"), "stage": stage,
            "hint": None, "context": {}}


def start_heartbeat(repo: JobRepository, job_id: str, owner: str, cancel: threading.Event,
                    progress: Callable[[], float | None] = lambda: None) -> Callable[[], None]:
    """Refresh the job's lease every second from a thread, setting ``cancel`` when a cancel is
    requested; returns the function that stops it."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(1.0):
            try:
                if repo.heartbeat(job_id, owner, progress()):
                    cancel.set()
            except Exception:  # a busy database must not end the work; the next beat retries
                continue

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(5)
    return halt


# the presets' rc-lookahead: the frames after a chunk that a single pass would have seen (x264's,
# and x265's, which are shorter and never 0)
LOOKAHEAD = {"ultrafast": 0, "superfast": 0, "veryfast": 10, "faster": 20, "fast": 30, "medium": 40,
             "slow": 50, "slower": 60}
LOOKAHEAD_X265 = {"ultrafast": 5, "superfast": 10, "veryfast": 15, "faster": 15, "fast": 15, "medium": 20,
                  "slow": 25, "slower": 40}
PREROLL_FRAMES = int(os.environ.get("CUTLITE_CHUNK_PREROLL") or 15)


def padded_window(chunk: Chunk, profile: RenderProfile, fps: Fraction, total: int) -> tuple[int, int]:
    """The frames a chunk's encode covers: a short pre-roll and the preset's lookahead around it.

    A single pass reaches a chunk boundary with its rate control warm and its lookahead full; a
    chunk encoded cold came out up to 2.6 dB worse in its first GOP and 2 dB worse in its last
    frames (measured). The chunk's first frame is forced to a keyframe, so the pre-roll and
    post-roll are cut off exactly by stream copy (``JobRunner._cut``).
    """
    if profile.codec == "prores":  # intra-only, no rate control across frames: nothing to warm up
        return chunk.start_frame, chunk.end_frame
    start = max(0, chunk.start_frame - PREROLL_FRAMES)
    # libvpx's own lookahead (lag-in-frames) is 25 frames in "good" mode
    lookahead = 25 if profile.codec == "vp9" else \
        (LOOKAHEAD_X265 if profile.codec == "hevc" else LOOKAHEAD).get(profile.preset, 40)
    end = min(total, chunk.end_frame + lookahead)
    return start, end


def copy_out(src: Path, dest: Path) -> None:
    """Copy a finished output to a user's path atomically."""
    import shutil

    dest = dest.resolve()
    tmp = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        raise StorageError(f"cannot write the output to {dest}: {exc.strerror}", stage="output",
                           hint="free space or choose another output path; the completed render stays in the "
                                "store and `cutlite render` again copies it out") from None
    finally:
        tmp.unlink(missing_ok=True)


def _concat_quote(path: str) -> str:
    """The concat demuxer's quoting: a single quote ends, is escaped, and reopens."""
    return path.replace("'", "'\\''")
