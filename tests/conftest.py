"""Shared fixtures: small synthesized media (lavfi), project builders and output measurements."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from engines.ffmpeg import samples
from engines.ffmpeg.probe import probe
from engines.ffmpeg.runner import FFmpegRunner
from engines.video_render.service import RenderService

CLI = [sys.executable, "-m", "engines.cli"]  # the `cutlite` command, as a subprocess

# API keys of the suite: one per tenant, env and role, with secrets made from a random seed of this
# session; `serve` stores their hashes in each server's database before it starts (keys_for).
SUITE_TENANTS = ("acme", "globex")
_KEY_SEED = os.urandom(16)


def key_secret(tenant: str, env: str = "dev", role: str = "admin") -> str:
    import hashlib
    import hmac

    return "cl_" + hmac.new(_KEY_SEED, f"{tenant}:{env}:{role}".encode(), hashlib.sha256).hexdigest()


def auth(tenant: str, env: str = "dev", role: str = "admin", *, scope_headers: bool = True) -> dict[str, str]:
    """Request headers of a suite key: its bearer secret (and the X-Tenant/X-Env it matches)."""
    headers = {"Authorization": f"Bearer {key_secret(tenant, env, role)}"}
    return {**headers, "X-Tenant": tenant, "X-Env": env} if scope_headers else headers


def keys_for(database_url: str, tenants: tuple[str, ...] = SUITE_TENANTS) -> None:
    """The suite's keys (every role, dev and staging) in the database at ``database_url``; once per database."""
    from engines.access.keys import ROLES, KeyStore, hash_secret

    store = KeyStore(database_url)
    from sqlalchemy import select

    from engines.access.tables import api_keys
    with store.engine.connect() as conn:
        have = set(conn.execute(select(api_keys.c.secret_hash)).scalars())
    for tenant in tenants:
        for env in ("dev", "staging"):
            for role in ROLES:
                secret = key_secret(tenant, env, role)
                if hash_secret(secret) not in have:
                    store.create(tenant, env, role=role, name=f"suite {role}", secret=secret)


def database_of(env: dict[str, str]) -> str:
    url = env.get("CUTLITE_DATABASE_URL") or os.environ.get("CUTLITE_DATABASE_URL")
    if url:
        return "postgresql+psycopg://" + url.removeprefix("postgresql://") if url.startswith("postgresql://") else url
    home = Path(env.get("CUTLITE_HOME") or os.environ.get("CUTLITE_HOME") or ".cutlite").resolve()
    return f"sqlite:///{home / 'cutlite.db'}"


A = auth("acme")     # request headers of tenant acme (dev), an admin key
B = auth("globex")   # ... and of another tenant

# The real-world corpus (phone footage, HDR, DV, VFR, ...: see its MANIFEST.md) is not part of the
# repository: CUTLITE_REAL_MEDIA names its folder (holding video/ and audio/); the default is the
# shared folder beside the checkout. Tests that need it skip with one message saying where it was looked for.
REAL_MEDIA = Path(os.environ.get("CUTLITE_REAL_MEDIA")
                  or Path(__file__).resolve().parents[2] / "shared" / "media" / "real").resolve()
REAL_MEDIA_MISSING = f"needs the real-media corpus at {REAL_MEDIA} (set CUTLITE_REAL_MEDIA to its folder)"


def needs_corpus(part: str) -> pytest.MarkDecorator:
    """Skip unless the corpus's ``part`` folder (video, audio, timeline) has files, with the one message."""
    folder = REAL_MEDIA / part
    return pytest.mark.skipif(not (folder.is_dir() and any(folder.iterdir())), reason=REAL_MEDIA_MISSING)


# Debian's chromium, headless as root on a closed network (no background connections, no GPU)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]

needs_real_media = needs_corpus("video")
needs_real_audio = needs_corpus("audio")
needs_real_timelines = needs_corpus("timeline")


@pytest.fixture(scope="session", autouse=True)
def cutlite_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite's own state folder (database, object store), inherited by subprocesses."""
    home = tmp_path_factory.mktemp("cutlite-home")
    os.environ["CUTLITE_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def runner() -> FFmpegRunner:
    return FFmpegRunner()


@pytest.fixture(scope="session")
def service(runner: FFmpegRunner) -> RenderService:
    return RenderService(runner)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory, runner: FFmpegRunner) -> dict[str, Path]:
    """Small sources, made once per test session."""
    d = tmp_path_factory.mktemp("media")
    m: dict[str, Path] = {}
    m["red"] = samples.make_video(d / "red.mp4", seconds=4, color="red", tone_hz=440, runner=runner)
    m["blue"] = samples.make_video(d / "blue.mp4", seconds=4, color="blue", tone_hz=880, runner=runner)
    m["green_silent"] = samples.make_video(d / "green_silent.mp4", seconds=3, color="green", tone_hz=None,
                                           runner=runner)
    m["counter"] = samples.make_video(d / "counter.mp4", seconds=4, pattern="testsrc2", tone_hz=None,
                                      runner=runner)
    m["logo"] = samples.make_image(d / "logo.png", width=64, height=64, color="lime", runner=runner)
    m["tone"] = samples.make_tone(d / "tone.m4a", seconds=6, tone_hz=220, runner=runner)
    # top half red, bottom half blue, stored landscape with "turn 90 clockwise to display"
    runner.run(["-y", "-f", "lavfi", "-i", "color=c=red:s=160x96:r=30:d=2", "-vf",
                "drawbox=x=0:y=48:w=160:h=48:color=blue:t=fill,format=yuv420p",
                "-c:v", "libx264", "-preset", "ultrafast", str(d / "halves.mp4")], stage="fixture")
    m["rotated"] = samples.set_rotation(d / "halves.mp4", d / "rotated.mp4", 90, runner)
    m["vfr"] = samples.make_video(d / "vfr.mp4", seconds=3, pattern="testsrc2", tone_hz=440, vfr=True,
                                  runner=runner)
    # odd size: not encodable as 4:2:0 H.264, so lossless FFV1 in Matroska
    runner.run(["-y", "-f", "lavfi", "-i", "color=c=yellow:s=321x241:r=25:d=2", "-c:v", "ffv1",
                str(d / "odd.mkv")], stage="fixture")
    m["odd"] = d / "odd.mkv"
    m["tenbit"] = samples.make_video(d / "tenbit.mp4", seconds=2, color="blue", pix_fmt="yuv420p10le",
                                     codec="libx265", tone_hz=None, runner=runner)
    return m


def project(tracks: list[dict[str, Any]], assets: dict[str, Any], *, width: int = 160, height: int = 120,
            fps: Any = 30, background: str = "#000000", **extra: Any) -> dict[str, Any]:
    """A project document with small defaults."""
    doc = {"schema_version": 1, "id": "test", "tenant": "acme", "env": "dev",
           "settings": {"width": width, "height": height, "fps": fps, "background": background},
           "assets": {k: {"path": str(v)} for k, v in assets.items()}, "tracks": tracks}
    doc.update(extra)
    return doc


def write_project(folder: Path, doc: dict[str, Any], name: str = "project.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(doc))
    return path


@dataclass
class Measured:
    frames: int
    width: int
    height: int
    fps: Fraction
    video_seconds: Fraction
    audio_samples: int | None
    sample_rate: int | None
    audio_channels: int | None
    pictures: list[np.ndarray]
    rotation: int  # display matrix left in the file (0: players show the pixels as they are)

    def rgb(self, frame: int, x: int, y: int) -> tuple[int, int, int]:
        return tuple(int(c) for c in self.pictures[frame][y, x])  # type: ignore[return-value]


def measure(path: str | Path, decode: bool = True) -> Measured:
    """Frame count, size, rate and (decoded) pictures of a render; audio sample count."""
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        pictures = [f.to_ndarray(format="rgb24") for f in c.decode(vs)] if decode else []
        frames = len(pictures) if decode else vs.frames
        video_seconds = vs.duration * vs.time_base if vs.duration else Fraction(0)
        w, h, fps = vs.codec_context.width, vs.codec_context.height, Fraction(vs.average_rate)
    audio_samples = sample_rate = channels = None
    with av.open(str(path)) as c:
        if c.streams.audio:
            a = c.streams.audio[0]
            sample_rate, channels = a.sample_rate, a.channels
            audio_samples = sum(f.samples for f in c.decode(a))
    rotation = probe(path).video.rotation
    return Measured(frames, w, h, fps, video_seconds, audio_samples, sample_rate, channels, pictures, rotation)


def lossless(plan):
    """The same plan encoded losslessly (x264 qp 0): the true pictures, to measure others against."""
    args = list(plan.output_args)
    i = args.index("-crf")
    args[i:i + 2] = ["-qp", "0"]
    j = args.index("-profile:v")
    del args[j:j + 2]
    return plan.model_copy(update={"output_args": args})


def psnr(x: np.ndarray, y: np.ndarray) -> float:
    mse = ((x.astype(float) - y.astype(float)) ** 2).mean()
    return 99.0 if mse == 0 else float(10 * np.log10(255 ** 2 / mse))


def close(rgb: tuple[int, int, int], want: tuple[int, int, int], tol: int = 12) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(rgb, want))


@pytest.fixture
def render(service: RenderService, tmp_path: Path):
    """Plan and render a project document; returns (plan, Measured)."""
    def _render(doc: dict[str, Any], profile: str = "draft_480p", decode: bool = True):
        proj = write_project(tmp_path, doc)
        plan = service.plan_project(proj, profile, "cpu")
        out = tmp_path / "out.mp4"
        service.render(plan, out)
        return plan, measure(out, decode)
    return _render


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(env: dict[str, str]):
    """``cutlite serve`` in a subprocess on a free loopback port; yields its base URL."""
    import httpx

    port = free_port()
    keys_for(database_of(env))
    # the suite's load and fuzz tests send hundreds of requests a second with one key; the rate limit
    # has its own test (test_access.py)
    env = {"CUTLITE_RATE_LIMIT": "100000", **env}
    proc = subprocess.Popen([sys.executable, "-m", "engines.cli", "serve", "--port", str(port)],
                            env=dict(os.environ, **env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/openapi.json", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the server did not start: " + proc.stderr.read().decode()[-2000:])
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def make_damaged(d: Path, runner: FFmpegRunner) -> dict[str, Path]:
    """A clean 6 s source (a keyframe every second, moov first) and three damaged copies of it:
    20 KB of flipped bytes mid-file, the last 30 % cut off, the keyframe at 3 s zeroed."""
    clean = d / "clean.mp4"
    runner.run(["-y", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=6", "-f", "lavfi", "-i", "sine=f=440:d=6",
                "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac",
                "-shortest", "-movflags", "+faststart", str(clean)], stage="fixture")
    data = clean.read_bytes()
    flipped = bytearray(data)
    mid = len(flipped) // 2
    flipped[mid:mid + 20_000] = bytes(b ^ 0xFF for b in flipped[mid:mid + 20_000])
    (d / "flipped.mp4").write_bytes(bytes(flipped))
    (d / "truncated.mp4").write_bytes(data[: int(len(data) * 0.7)])
    with av.open(str(clean)) as c:
        key = next(p for p in c.demux(c.streams.video[0]) if p.is_keyframe and p.pts and p.pts * p.time_base >= 3)
        pos, size = key.pos, key.size
    nokey = bytearray(data)
    nokey[pos:pos + size] = bytes(size)
    (d / "nokey.mp4").write_bytes(bytes(nokey))
    return {name: d / f"{name}.mp4" for name in ("clean", "flipped", "truncated", "nokey")}


def server_paths(text: str, *roots: str | Path) -> list[str]:
    """The server paths in a response: anything under the temp folder (an upload's spool), the
    home folder, the given roots (the server's CUTLITE_HOME), or the object store's folder."""
    import re
    import tempfile

    places = {tempfile.gettempdir(), str(Path.home()), *(str(r) for r in roots)}
    found = [p for p in places if p and p != "/" and p in text]
    found += re.findall(r"(?:cutlite-upload-|cutlite-job-|cutlite-chunk-)[^\s\"']*|[^\s\"']*/objects/tenants/[^\s\"']*",
                        text)
    return found


S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@contextlib.contextmanager
def moto_s3(bucket: str = "cutlite"):
    """A real S3-compatible server (moto) on a free loopback port with ``bucket``; (client, endpoint)."""
    import boto3
    from botocore.config import Config

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            env=dict(os.environ, **S3_ENV), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                          region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    deadline = time.monotonic() + 30
    while True:
        try:
            client.create_bucket(Bucket=bucket)
            break
        except Exception:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.2)
    try:
        yield client, endpoint
    finally:
        proc.terminate()
        proc.wait(10)


def service_for(home: Path, runner: FFmpegRunner | None = None) -> RenderService:
    """A render service whose registry and object store live under ``home`` (a test's own state)."""
    from engines.media_v2.library import MediaLibrary
    from engines.media_v2.registry import Registry
    from engines.media_v2.storage import LocalStore

    library = MediaLibrary(Registry(f"sqlite:///{home / 'cutlite.db'}"), stores={"dev": LocalStore(home / "objects")})
    return RenderService(runner or FFmpegRunner(), library=library)


def running_encodes(*markers: bytes) -> list[int]:
    """Live (not zombie) ffmpeg processes whose command line contains every one of ``markers``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"ffmpeg" in cmd and all(m in cmd for m in markers) and state != "Z":
            pids.append(int(proc.name))
    return pids


@pytest.fixture(scope="session")
def ours(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A marker of this test session's own ffmpeg runs: every input they read lies below this folder
    (other test sessions on the same machine have their own)."""
    return str(tmp_path_factory.getbasetemp()).encode()
