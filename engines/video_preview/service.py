"""The preview service: fast, predictable, honest previews of a project or a window of it.

``PreviewService.preview(project, strategy, start, end)``:
1. picks the profile from the strategy (``strategy.py``) and the window's frames;
2. decides where each asset visible in the window is read from: a video asset from its proxy
   for the profile (or the nearest smaller rung of the ladder, then a larger one); images and
   sounds as they are. A missing proxy is a warning naming the asset and its generation is
   queued; the preview then reads the full-resolution source at draft quality when
   ``allow_full_res_fallback`` (default: true in ``dev`` only; ``CUTLITE_PREVIEW_FALLBACK=0/1``
   overrides) or is refused with every such asset named. A missing source is a warning per
   asset and a slate in its pictures' place (silence for its sound), never a crash;
3. builds the windowed plan (inputs seeked close to the window, so a 5 s window of a long
   project costs what a 5 s project costs) and estimates its latency (``latency.py``);
4. with ``output``, renders it (mp4); with ``hls``, writes an HLS playlist whose segments
   appear while it encodes. Render errors propagate with their stage and stderr tail.

The service is meant to stay warm (one per server process): it caches asset resolution and
probes by file identity, so a repeated preview spends its time in ffmpeg.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, TypeVar

from engines.errors import AssetError, AssetNotReady, CutliteError, FFmpegError, FFmpegTimeout
from engines.ffmpeg.probe import MediaInfo, probe
from engines.ffmpeg.profiles import RenderProfile
from engines.media_v2 import keys
from engines.media_v2.library import known_damage, registered_facts
from engines.media_v2.models import Asset
from engines.model.project import Project
from engines.model.timebase import fraction_text, frames_to_seconds
from engines.model.timeline import Timeline, place_project
from engines.planning.plan import build_plan
from engines.planning.render_plan import RenderPlan, portable_links
from engines.rendering.caption_sources import gather_captions
from engines.rendering.proxies import LADDER, ProxyLadder
from engines.rendering.proxies import proxy_fps as proxy_fps_for
from engines.rendering.renderer import Renderer
from engines.rendering.sources import Sources, gather_effect_files, gather_fonts, local_paths_allowed

from .hls import HlsResult, encode_hls
from .latency import Estimate, LatencyModel, measure_work
from .strategy import STRATEGIES, fallback_profile, parse_window, strategy_profile, window_frames

__all__ = ["PreviewService", "PreviewResult", "AssetRead", "STRATEGIES", "FFmpegError"]

STALL_SECONDS = 10.0         # no frame for this long: ffmpeg is stuck (see FFmpegRunner.run), retried once
TIMEOUT_FLOOR_SECONDS = 60.0  # a preview never runs longer than this plus ten times its estimate
TIMEOUT_PER_ESTIMATE = 10.0
_T = TypeVar("_T")
log = logging.getLogger("cutlite.preview")


@dataclass(frozen=True)
class AssetRead:
    """Where the preview reads one asset from."""
    asset: str                 # the project's name for it
    asset_id: str | None
    kind: str                  # "video" | "image" | "audio" | "unknown"
    read_from: str             # "proxy" | "source" | "slate"
    proxy_profile: str | None = None  # the ladder rung read, for proxies
    key: str | None = None     # its object key, when registered
    detail: str = ""


@dataclass
class PreviewResult:
    strategy: str
    profile: str
    plan: RenderPlan
    start: Fraction            # the window on the project's timeline, exact seconds
    end: Fraction
    assets: list[AssetRead]
    warnings: list[str]
    estimate: Estimate
    queued_proxies: list[str] = field(default_factory=list)  # asset names whose proxy is being made
    output: str | None = None
    measured_ms: float | None = None
    hls: HlsResult | None = None
    pending_proxies: list[tuple[str, Asset, RenderProfile]] = field(default_factory=list, repr=False)
    planned_at: float = field(default_factory=time.monotonic, repr=False)  # when the plan was ready

    def to_dict(self, *, public: bool = False) -> dict[str, Any]:
        """The result as JSON; ``public`` names inputs by object key instead of server path."""
        plan = self.plan
        read = {a.asset: a for a in self.assets}
        plan_doc = plan.model_dump()
        if public:
            for inp in plan_doc["inputs"]:
                inp["path"] = read[inp["asset"]].key if inp["asset"] in read else None
            plan_doc["links"] = portable_links(plan_doc["links"])
        return {
            "strategy": self.strategy, "profile": self.profile, "encoder": plan.meta["encoder"],
            "hardware": plan.meta["hardware"], "plan_hash": plan.plan_hash,
            "window": {"start": fraction_text(self.start), "end": fraction_text(self.end),
                       "frames": plan.window, "frame_count": plan.frames},
            "size": [plan.width, plan.height], "fps": plan.fps,
            "inputs": [{"index": i.index, "clip": i.clip, "asset": i.asset, "kind": i.kind,
                        "read_from": read[i.asset].read_from if i.asset in read else "source",
                        "proxy_profile": read[i.asset].proxy_profile if i.asset in read else None,
                        "args": i.args} for i in plan.inputs],
            "assets": [asdict(a) for a in self.assets],
            "proxies_used": sorted(a.asset for a in self.assets if a.read_from == "proxy"),
            "slates": sorted(a.asset for a in self.assets if a.read_from == "slate"),
            "queued_proxies": self.queued_proxies,
            "warnings": self.warnings,
            "estimated_latency_ms": round(self.estimate.ms),
            "estimate": self.estimate.to_dict(),
            "output": None if public else self.output,
            "measured_ms": None if self.measured_ms is None else round(self.measured_ms),
            "hls": None if self.hls is None or public else self.hls.to_dict(),
            "plan": plan_doc,
        }


@dataclass
class _Reads:
    media: dict[str, MediaInfo] = field(default_factory=dict)
    reads: list[AssetRead] = field(default_factory=list)
    slates: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    no_proxy: list[tuple[str, Asset]] = field(default_factory=list)
    upgrades: list[tuple[str, Asset]] = field(default_factory=list)  # read from a stand-in rung


class PreviewService:
    def __init__(self, render: Renderer | None = None, *, allow_full_res_fallback: bool | None = None,
                 model: LatencyModel | None = None) -> None:
        self.render = render or Renderer()
        self.allow_full_res_fallback = allow_full_res_fallback
        self.model = model or LatencyModel.load(self.render.runner.version)
        self._queue = ThreadPoolExecutor(max_workers=1, thread_name_prefix="proxy-queue")
        self._queued: dict[str, Future[Any]] = {}
        self._assets: dict[tuple[str, int, int], Asset] = {}
        self._probes: dict[tuple[str, int, int], MediaInfo] = {}
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._closed = False

    # ------------------------------------------------------------------ the door

    def preview(self, project: str | Path | dict[str, Any] | Project, strategy: str = "fast",
                start: Any = None, end: Any = None, *, output: str | Path | None = None,
                hls: str | Path | None = None, hw: str | None = None, base_dir: Path | None = None,
                allow_full_res_fallback: bool | None = None,
                cancel: threading.Event | None = None) -> PreviewResult:
        """The preview plan with its latency estimate; rendered into ``output`` / ``hls`` if given."""
        rendering = output is not None or hls is not None
        # a render first, then the missing proxies: on 2 cores they would slow the preview down
        result = self.plan(project, strategy, start, end, hw=hw, base_dir=base_dir,
                           allow_full_res_fallback=allow_full_res_fallback, queue_proxies=not rendering)
        try:
            self._render(result, output, hls, cancel)
        finally:
            if rendering:
                self._queue_proxies(result.pending_proxies, hw)
        return result

    def _render(self, result: PreviewResult, output: str | Path | None, hls: str | Path | None,
                cancel: threading.Event | None) -> None:
        limits = {"cancel": cancel, "stall_timeout": STALL_SECONDS,
                  "timeout": TIMEOUT_FLOOR_SECONDS + TIMEOUT_PER_ESTIMATE * result.estimate.ms / 1000}
        if output is not None:
            t = time.monotonic()
            rendered = self._once_more(result, lambda: self.render.render(result.plan, output, **limits))
            result.measured_ms = (time.monotonic() - t) * 1000
            result.output = rendered.output
            result.warnings += rendered.warnings
        if hls is not None:
            result.hls = self._once_more(result, lambda: encode_hls(self.render, result.plan, Path(hls), **limits))
            if result.measured_ms is None:
                result.measured_ms = result.hls.total_ms

    @staticmethod
    def _once_more(result: PreviewResult, run: Callable[[], _T]) -> _T:
        """Run; after a stall (not a plain timeout), once more, with a warning saying so."""
        try:
            return run()
        except FFmpegTimeout as exc:
            if not exc.context.get("stalled"):
                raise
            result.warnings.append(f"render: {exc.message}; rendered again")
            return run()

    def plan(self, project: str | Path | dict[str, Any] | Project, strategy: str = "fast", start: Any = None,
             end: Any = None, *, hw: str | None = None, base_dir: Path | None = None,
             allow_full_res_fallback: bool | None = None, queue_proxies: bool = True) -> PreviewResult:
        """The preview plan and its estimate; missing proxies are queued (or left to the caller)."""
        proj, folder = self.render.load(project)
        folder = base_dir or folder
        profile = strategy_profile(strategy)
        t0, t1 = parse_window(start, end)
        timeline = self._window(proj, profile, t0, t1)[0]
        reads = self._reads(proj, folder, profile, timeline, hw)
        pending = [(name, asset, profile) for name, asset in reads.no_proxy + reads.upgrades]
        allowed = self.fallback_allowed(proj, allow_full_res_fallback)
        if queue_proxies or (reads.no_proxy and not allowed):
            self._queue_proxies(pending, hw)
            pending = []
        if reads.no_proxy:
            if not allowed:
                names = [n for n, _ in reads.no_proxy]
                raise AssetNotReady(f"no proxy for {', '.join(names)} and full-resolution fallback is off "
                                 f"(env {proj.env}); their generation is queued",
                                 stage="preview", retryable=True,
                                 problems=[f"assets.{n}: no proxy for {profile.name}" for n in names],
                                 hint=f"retry when the proxies are ready, or run `cutlite proxies PROJECT "
                                      f"--profile {profile.name}`")
            drafted = fallback_profile(profile)
            if drafted.name != profile.name:
                reads.warnings.append(f"profile: {profile.name} lowered to {drafted.name}: full-resolution "
                                      f"sources are previewed at draft quality")
                profile = drafted
        timeline, window = self._window(proj, profile, t0, t1)
        decision = self.render.decide(profile, hw)
        fonts = Sources()
        gather_fonts(proj, folder, fonts)
        gather_captions(proj, folder, fonts, self.render.asset_lookup)
        warnings = reads.warnings + [f"{p} (using DejaVu Sans)" for p in fonts.problems] + fonts.warnings
        looks = Sources()
        gather_effect_files(proj, folder, looks, self.render.asset_lookup)  # LUTs: checked, never probed
        if looks.problems:
            raise AssetError(f"{len(looks.problems)} blocking problem(s): " + "; ".join(looks.problems),
                             stage="preview", problems=looks.problems, hint="fix or register the listed assets")
        gathered = Sources(media=reads.media, fonts=fonts.fonts, text_faces=fonts.text_faces, warnings=warnings, captions=fonts.captions,
                           slates=reads.slates, files={**fonts.files, **looks.files})
        plan = build_plan(proj, gathered, profile, decision, window=window)
        work = measure_work(timeline, reads.media, plan.width, plan.height, len(plan.inputs),
                            captions=sum(1 for name in plan.files if name.startswith("captions_")))
        fps = profile.output_fps(proj.settings.fps)
        return PreviewResult(strategy, profile.name, plan, frames_to_seconds(window[0], fps),
                             frames_to_seconds(window[1], fps), reads.reads, list(plan.meta["warnings"]),
                             self.model.estimate(work, profile.name, str(plan.meta["encoder"])),
                             queued_proxies=[n for n, _ in reads.no_proxy + reads.upgrades], pending_proxies=pending)

    def fallback_allowed(self, project: Project, override: bool | None = None) -> bool:
        for choice in (override, self.allow_full_res_fallback):
            if choice is not None:
                return choice
        env = os.environ.get("CUTLITE_PREVIEW_FALLBACK")
        if env in ("0", "1"):
            return env == "1"
        return project.env == "dev"

    # ------------------------------------------------------------------ proxies queued

    def wait_for_proxies(self, timeout: float | None = None) -> list[Any]:
        """Block until the queued proxy generations end; their outcomes (cancelled ones left out)."""
        with self._lock:
            futures = list(self._queued.values())
        wait(futures, timeout=timeout)
        return [f.result() for f in futures if f.done() and not f.cancelled()]

    def queued_count(self) -> int:
        """Proxy generations queued or running."""
        with self._lock:
            return sum(1 for f in self._queued.values() if not f.done())

    def close(self, *, cancel: bool = False) -> None:
        """Stop taking proxy work; with ``cancel``, drop what is queued and end what runs."""
        self._closed = True
        if cancel:
            self._cancel.set()
        self._queue.shutdown(wait=True, cancel_futures=cancel)

    def _queue_proxies(self, assets: list[tuple[str, Asset, RenderProfile]], hw: str | None) -> None:
        if self._closed or not assets:
            return
        ladder = ProxyLadder(self.render, self.render.library)
        decisions = {p.name: self.render.decide(p, hw) for _, _, p in assets}  # may probe: outside the lock
        with self._lock:
            self._queued = {k: f for k, f in self._queued.items() if not f.done()}
            for name, asset, profile in assets:
                key = keys.proxy_key(asset.tenant, asset.env, asset.id, profile.name)
                if key not in self._queued:
                    self._queued[key] = self._queue.submit(self._make_proxy, ladder, asset, profile,
                                                           decisions[profile.name], name)

    def _make_proxy(self, ladder: ProxyLadder, asset: Asset, profile: RenderProfile, decision: Any,
                    name: str) -> Any:
        outcome = ladder.ensure(asset, profile, decision, name=name, cancel=self._cancel)
        if outcome.status == "failed":
            log.warning("queued proxy %s of %s failed: %s", profile.name, asset.id, outcome.detail)
        return outcome

    # ------------------------------------------------------------------ where each asset is read from

    def _window(self, project: Project, profile: RenderProfile, start: Fraction | None,
                end: Fraction | None) -> tuple[Timeline, tuple[int, int]]:
        fps = profile.output_fps(project.settings.fps)
        full = place_project(project).at_rate(fps)
        a, b = window_frames(start, end, fps, full.frames)
        return full.window(a, b)[0], (a, b)

    def _reads(self, project: Project, folder: Path, profile: RenderProfile, timeline: Timeline,
               hw: str | None) -> _Reads:
        out = _Reads()
        used: dict[str, set[str]] = {}
        for pc in timeline.clips():
            if pc.clip.asset:
                used.setdefault(pc.clip.asset, set()).add(pc.track_kind)
            canvas_asset = getattr(pc.clip.canvas, "asset", None)  # an image canvas is read like media
            if canvas_asset:
                used.setdefault(canvas_asset, set()).add(pc.track_kind)
        for name in sorted(used):
            try:
                asset = self._resolve(project, folder, name)
            except CutliteError as exc:
                self._slate(out, name, None, "unknown", used[name], exc.message)
                continue
            if asset.kind == "video" and self._read_proxy(out, name, asset, profile, timeline.fps):
                continue
            try:
                source = self.render.library.source_path(asset)
            except CutliteError as exc:
                self._slate(out, name, asset, asset.kind, used[name], exc.message)
                continue
            try:
                info = registered_facts(asset, source) or self._probe(source)
            except CutliteError:  # its message names the server's file: say it without the path
                self._slate(out, name, asset, asset.kind, used[name], "the source is not readable media")
                continue
            if asset.kind == "video":
                out.warnings.append(f"assets.{name}: no proxy for {profile.name}; its generation is queued")
                out.no_proxy.append((name, asset))
            out.media[name] = replace(info, damage=known_damage(asset))  # plans warn where it is used
            detail = "full-resolution fallback (no proxy)" if asset.kind == "video" else "used as it is"
            out.reads.append(AssetRead(name, asset.id, asset.kind, "source", key=asset.source_key, detail=detail))
            if asset.kind == "video":
                out.warnings.append(f"assets.{name}: read from the full-resolution source")
        return out

    def _read_proxy(self, out: _Reads, name: str, asset: Asset, profile: RenderProfile, fps: Fraction) -> bool:
        """Read ``asset`` from the best proxy there is: the profile's rung, smaller ones, then larger."""
        ladder = ProxyLadder(self.render, self.render.library)
        i = LADDER.index(profile.name) if profile.name in LADDER else len(LADDER) - 1
        for rung in [*reversed(LADDER[: i + 1]), *LADDER[i + 1:]]:
            key = keys.proxy_key(asset.tenant, asset.env, asset.id, rung)
            found = ladder.existing(asset, key)
            if found is None:
                continue
            try:
                path = self.render.library.store(asset.env).local_path(key)
                # its facts were kept when it was made (and existing() checked its size); older
                # proxies are probed
                info = MediaInfo.from_facts(found.meta["facts"], str(path)) if "facts" in found.meta \
                    else self._probe(path)
            except CutliteError:
                continue
            # The proxy covers the whole source on the same clock; the source's duration stands
            # (a proxy may end a fraction of a frame earlier, and clips hold their last frame).
            source_duration = asset.probe.get("duration")
            if source_duration is not None and info.duration is not None:
                info = replace(info, duration=max(info.duration, Fraction(str(source_duration))))
            out.media[name] = replace(info, damage=known_damage(asset))  # plans warn where it is used
            exact = "" if rung == profile.name else f" (nearest rung; its {profile.name} proxy is queued)"
            out.reads.append(AssetRead(name, asset.id, "video", "proxy", rung, key, f"proxy {rung}{exact}"))
            if rung != profile.name:
                out.upgrades.append((name, asset))  # made in the background, read next time
                proxy_fps = info.video.fps if info.video else None
                source_fps = (asset.probe.get("video") or {}).get("fps")
                # only when the profile's own proxy will have more frames (every rung keeps the
                # source's frames over a whole divisor under its cap: often the same rate)
                own_fps = proxy_fps_for(Fraction(str(source_fps)), profile) if source_fps else fps
                if proxy_fps is not None and proxy_fps < min(fps, own_fps):
                    out.warnings.append(f"assets.{name}: its {rung} proxy has {fraction_text(proxy_fps)} fps, the "
                                        f"preview {fraction_text(fps)}: frames repeat until the {profile.name} "
                                        f"proxy is made (queued)")
            return True
        return False

    @staticmethod
    def _slate(out: _Reads, name: str, asset: Asset | None, kind: str, tracks: set[str], why: str) -> None:
        out.slates[name] = f"MEDIA MISSING\n{name}"
        shown = "shown as a slate" if tracks - {"audio"} else "its sound is left out"
        out.warnings.append(f"assets.{name}: {why}; {shown}")
        out.reads.append(AssetRead(name, asset.id if asset else None, kind, "slate", detail=why))

    def _resolve(self, project: Project, folder: Path, name: str) -> Asset:
        """The registered asset behind a project asset (``ProxyLadder.resolve``), with local files
        remembered by identity: a warm service does not hash them again for every preview."""
        ref = project.assets[name]
        ident = None
        if ref.asset_id is None and local_paths_allowed(project):
            path = (folder / (ref.path or "")).resolve()
            try:
                st = path.stat()
            except OSError:
                raise AssetError(f"file not found: {ref.path}", stage="preview", asset=name) from None
            ident = (f"{project.tenant}/{project.env}/{path}", st.st_size, st.st_mtime_ns)
            with self._lock:
                cached = self._assets.get(ident)
            if cached is not None:
                return cached
        asset = ProxyLadder(self.render, self.render.library).resolve(project, folder, name)
        if ident is not None:
            with self._lock:
                self._assets[ident] = asset
        return asset

    def _probe(self, path: Path) -> MediaInfo:
        try:
            st = path.stat()
        except OSError:
            raise AssetError(f"file not found: {path.name}", stage="preview") from None
        ident = (str(path), st.st_size, st.st_mtime_ns)
        with self._lock:
            info = self._probes.get(ident)
        if info is None:
            info = probe(path)
            with self._lock:
                self._probes[ident] = info
        return info
