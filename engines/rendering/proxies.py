"""The proxy ladder: low-resolution copies of video assets for fast previews and scrubbing.

- ``plan_proxy`` is pure: the ffmpeg arguments that turn one source into a proxy for one rung
  (profile): upright (rotation applied, deinterlaced, HDR tone-mapped), square pixels, the
  profile's short side without upscaling, the source's rate over a whole divisor under the
  profile's fps cap (``proxy_fps``), a short closed GOP, audio kept.
- ``ProxyLadder.ensure`` reuses a proxy by cache key (asset id + profile) after checking that
  its object really exists with the registered size, otherwise generates it under a lease in
  the registry, so concurrent requests (threads, processes, machines) generate it once.
  The proxy becomes visible only when complete: encode into a temporary file, verify, store
  atomically, then register the artifact.
"""

from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from engines.errors import AssetError, Cancelled, CutliteError
from engines.ffmpeg.damage import scan_damage
from engines.ffmpeg.hardware import HardwareDecision
from engines.ffmpeg.probe import MediaInfo, count_video_frames, probe
from engines.ffmpeg.profiles import RenderProfile, fps_divisor, get_profile, nearest_even, resolve_encoder
from engines.ffmpeg.threads import encoder_threads, with_threads
from engines.media_v2 import keys
from engines.media_v2.library import MediaLibrary, registered_facts
from engines.media_v2.models import Artifact, Asset, utc_now
from engines.model.project import Project
from engines.model.timebase import fraction_text, parse_time, snap_to_frame
from engines.model.timeline import place_project
from engines.owners import lease_owner
from engines.planning.color import BT709_TAGS, pinned_format, to_bt709
from engines.planning.output_args import container_args
from engines.planning.reading import NO_ROTATION, upright_filters

from .renderer import ProjectInput, Renderer

LADDER = ("draft_360p", "draft_480p", "preview_720p")  # rungs, smallest first


@dataclass(frozen=True)
class ProxyPlan:
    args: list[str]  # ffmpeg arguments before the output path
    width: int
    height: int
    fps: Fraction


PROXY_RATE_SLACK = Fraction(21, 20)


def proxy_fps(source_fps: Fraction, profile: RenderProfile) -> Fraction:
    """A proxy keeps only source frames: the source's rate over a whole divisor, as previews do
    (``RenderProfile.output_fps``), with 5% slack over the cap so that a variable rate averaging a
    little above it (30.47 fps) is kept, not halved."""
    cap = profile.fps_cap * PROXY_RATE_SLACK if profile.fps_cap is not None else None
    return source_fps / fps_divisor(source_fps, cap)


def plan_proxy(info: MediaInfo, profile: RenderProfile, hw: HardwareDecision) -> ProxyPlan:
    v = info.video
    if v is None:
        raise AssetError(f"{Path(info.path).name} has no picture to make a proxy of", stage="proxy")
    dw, dh = v.display_size
    short = min(dw, dh)
    f = min(Fraction(1), Fraction(profile.short_side, short))
    width, height = nearest_even(dw * f), nearest_even(dh * f)
    fps = proxy_fps(v.fps or profile.fps_cap or Fraction(30), profile)
    enc = resolve_encoder(profile, hw.family, fps)
    working = "yuv420p10le" if profile.pix_fmt.endswith("10le") else "yuv420p"
    vf = [*upright_filters(v), f"fps={fraction_text(fps)}", f"scale={width}:{height}{to_bt709(v)}",
          "setsar=1", pinned_format(working), BT709_TAGS, enc.filter_tail]
    args = ["-y", *enc.global_args, *NO_ROTATION, "-i", info.path, "-map", f"0:{v.index}"]
    if info.audio is not None:
        args += ["-map", f"0:{info.audio.index}", *profile.audio_args, "-ar", "48000"]
    args += ["-vf", ",".join(x for x in vf if x), "-c:v", enc.encoder, *enc.codec_args, *container_args(fps)]
    return ProxyPlan(args, width, height, fps)


@dataclass
class ProxyOutcome:
    asset: str           # the project's name for the asset
    asset_id: str | None
    status: str          # "reused" | "created" | "failed" | "not_needed"
    key: str | None = None
    seconds: float = 0.0
    detail: str = ""
    error: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ProxyLadder:
    def __init__(self, service: Renderer, library: MediaLibrary | None = None, *, max_parallel: int = 2,
                 lease_wait: float = 600.0) -> None:
        self.service = service  # runner and hardware decisions
        self.library = library or MediaLibrary()
        self.max_parallel = max(1, max_parallel)
        self.lease_wait = lease_wait

    # ------------------------------------------------------------------ project level

    def ensure_for_project(self, project: Project, base_dir: Path, profile: RenderProfile, *,
                           hw: str | None = None, start: Fraction | None = None, end: Fraction | None = None,
                           cancel: threading.Event | None = None) -> list[ProxyOutcome]:
        names = assets_in_window(project, start, end)
        resolved: list[tuple[str, Asset | None, ProxyOutcome | None]] = []
        for name in names:
            try:
                resolved.append((name, self.resolve(project, base_dir, name), None))
            except CutliteError as exc:
                resolved.append((name, None, ProxyOutcome(name, None, "failed", detail=exc.message,
                                                          error=exc.to_dict())))
        decision = self.service.decide(profile, hw)
        work = [(n, a) for n, a, o in resolved if a is not None and a.kind == "video"]
        with ThreadPoolExecutor(max_workers=self.max_parallel, thread_name_prefix="proxy") as pool:
            futures = {n: pool.submit(self.ensure, a, profile, decision, name=n, cancel=cancel) for n, a in work}
        outcomes = []
        for name, asset, failed in resolved:
            if failed is not None:
                outcomes.append(failed)
            elif asset is not None and asset.kind != "video":
                outcomes.append(ProxyOutcome(name, asset.id, "not_needed",
                                             detail=f"{asset.kind} assets are used as they are"))
            else:
                outcomes.append(futures[name].result())
        return outcomes

    def resolve(self, project: Project, base_dir: Path, name: str) -> Asset:
        """The registered asset behind a project asset: local paths register on first use."""
        from .sources import local_paths_allowed

        ref = project.assets[name]
        if ref.asset_id is not None:
            return self.library.get_asset(project.tenant, project.env, ref.asset_id)
        if not local_paths_allowed(project):
            raise AssetError(f"assets.{name}.path: local file paths are allowed in dev only", stage="proxy")
        asset, _ = self.library.register_file(project.tenant, project.env, (base_dir / (ref.path or "")).resolve())
        return asset

    # ------------------------------------------------------------------ one proxy

    def ensure(self, asset: Asset, profile: RenderProfile, decision: HardwareDecision, *, name: str = "",
               cancel: threading.Event | None = None) -> ProxyOutcome:
        key = keys.proxy_key(asset.tenant, asset.env, asset.id, profile.name)
        started = time.monotonic()
        owner = lease_owner()
        lease = f"proxy:{key}"
        deadline = started + self.lease_wait
        waiter = cancel or threading.Event()
        waited = False
        try:
            while True:
                found = self.existing(asset, key)
                if found is not None:
                    detail = "generated by a concurrent request" if waited else "cache hit (asset id + profile)"
                    return ProxyOutcome(name, asset.id, "reused", key, time.monotonic() - started, detail,
                                        meta=found.meta)
                ttl = generation_timeout(asset, profile) + 30
                if self.library.registry.acquire_lease(lease, owner, ttl):
                    try:
                        if self.existing(asset, key) is None:
                            art = self.generate(asset, profile, decision, key, cancel)
                            return ProxyOutcome(name, asset.id, "created", key, time.monotonic() - started,
                                                f"{art.meta['width']}x{art.meta['height']}", meta=art.meta)
                    finally:
                        self.library.registry.release_lease(lease, owner)
                    continue
                if time.monotonic() > deadline:
                    raise AssetError(f"waited {self.lease_wait:.0f} s for another request to make {key}",
                                     stage="proxy", key=key, retryable=True)
                waited = True
                if waiter.wait(0.2):
                    raise Cancelled("cancelled while waiting for a proxy", stage="proxy")
        except CutliteError as exc:
            return ProxyOutcome(name, asset.id, "failed", key, time.monotonic() - started, exc.message,
                                error=exc.to_dict())

    def existing(self, asset: Asset, key: str) -> Artifact | None:
        art = self.library.registry.artifact_by_key(asset.tenant, asset.env, key)
        if art is None:
            return None
        if self.library.store(asset.env).size(key) != art.size:
            # registered but missing or altered in the store: not a hit; it is made again
            return None
        return art

    def generate(self, asset: Asset, profile: RenderProfile, decision: HardwareDecision, key: str,
                 cancel: threading.Event | None) -> Artifact:
        started = time.monotonic()
        source = self.library.source_path(asset)
        info = registered_facts(asset, source) or probe(source)  # facts kept at registration
        plan = plan_proxy(info, profile, decision)
        runner = self.service.runner
        with tempfile.TemporaryDirectory(prefix="cutlite-proxy-") as work:
            out = Path(work) / "proxy.mp4"
            run = runner.run(with_threads([*plan.args, str(out)], encoder_threads()), stage="proxy",
                             timeout=generation_timeout(asset, profile), cancel=cancel, asset_id=asset.id, key=key)
            frames = count_video_frames(out)
            if frames < 1:
                raise AssetError(f"the proxy of {asset.id} has no frames", stage="proxy", key=key)
            facts = probe(out).facts()  # kept: a preview reads them instead of probing the proxy again
            size, checksum = self.library.store(asset.env).put_file(key, out, move=True)
        meta = {"profile_name": profile.name, "source_asset_id": asset.id, "hw_encoder_used": decision.encoder,
                "hardware": decision.to_dict(), "ffmpeg_version": runner.version, "width": plan.width,
                "height": plan.height, "fps": fraction_text(plan.fps), "frames": frames,
                "seconds": round(time.monotonic() - started, 3), "decode_errors": run.decode_errors, "facts": facts}
        self.note_damage(asset, source, run.decode_errors)
        art = Artifact(id=keys.new_artifact_id(), tenant=asset.tenant, env=asset.env, asset_id=asset.id,
                       kind="proxy", profile=profile.name, key=key, size=size, checksum=checksum, meta=meta,
                       created_at=utc_now())
        registered = self.library.registry.put_artifact(art)
        self.service.memo.pop("still_proxies", None)  # this process's stills look for proxies again
        return registered


    def note_damage(self, asset: Asset, source: Path, decode_errors: int) -> None:
        """Proxy generation decodes the whole source: when its decoders complained, find where
        (``scan_damage``) and keep the spans in the asset's meta, for every plan that uses them."""
        if decode_errors:
            self.library.record_damage(asset, scan_damage(source), "proxy")
        elif "damage" not in asset.meta:
            self.library.record_damage(asset, [], "proxy")


def generation_timeout(asset: Asset, profile: RenderProfile) -> float:
    """Generous: a minute plus the source's duration at a quarter of the profile's expected speed."""
    duration = float(asset.probe.get("duration_seconds") or 60)
    return 60 + duration * 4 / max(profile.speed_factor, 0.05)


def assets_in_window(project: Project, start: Fraction | None, end: Fraction | None) -> list[str]:
    """Media assets used by clips visible in ``[start, end)`` seconds (all when no window)."""
    timeline = place_project(project)
    a = 0 if start is None else snap_to_frame(start, timeline.fps)
    b = timeline.frames if end is None else snap_to_frame(end, timeline.fps)
    return sorted({pc.clip.asset for pc in timeline.clips() if pc.clip.asset and pc.start < b and pc.end > a})


def ensure_proxies_for_project(project: ProjectInput, profile: str, *, service: Renderer, hw: str | None = None,
                               start: Any = None, end: Any = None, base_dir: Path | None = None,
                               max_parallel: int = 2, cancel: threading.Event | None = None) -> list[ProxyOutcome]:
    """Make sure every video asset the project uses (within ``[start, end)`` seconds, if given) has a
    proxy for ``profile``: reused by cache key, else generated. Returns an outcome per asset."""
    proj, folder = service.load(project)
    ladder = ProxyLadder(service, service.library, max_parallel=max_parallel)
    return ladder.ensure_for_project(proj, base_dir or folder, get_profile(profile), hw=hw,
                                     start=None if start is None else parse_time(start),
                                     end=None if end is None else parse_time(end), cancel=cancel)
