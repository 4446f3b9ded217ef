"""Render profiles and how each maps onto an encoder family.

A profile says what the output must be (size rule, fps rule, codec, pix_fmt, quality, GOP,
audio, threading); ``resolve_encoder`` maps it onto one encoder family (CPU or a GPU API) with
explicit, documented rules so that a GPU render is the same deliverable, not a surprise.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from engines.errors import ValidationError
from engines.model.timebase import fraction_text

FPS_RULE = ("fps/n <= cap: the project's rate divided by the smallest whole n that meets the cap "
            "(60 -> 30, 50 -> 25, 30000/1001 and 24 stay under a 30 cap), so every output frame is a timeline frame")

GPU_FAMILIES = ("nvenc", "videotoolbox", "vaapi", "qsv")  # also the auto-detection order
FAMILIES = ("cpu",) + GPU_FAMILIES
GPU_CODECS = ("h264", "hevc")  # codecs with a GPU encoder mapping; the delivery formats' others are CPU only


@dataclass(frozen=True)
class RenderProfile:
    name: str
    role: str                 # "draft" | "preview" | "delivery"
    short_side: int           # the output's shorter side in pixels
    upscale: bool             # may the output be larger than the project canvas?
    fps_cap: Fraction | None  # output fps = project fps / n, the smallest whole n that keeps it <= cap
    codec: str | None         # "h264" | "hevc" | "vp9" | "prores" | "gif"; None: no picture (audio only)
    pix_fmt: str
    crf: int                  # CPU quality (x264/x265 CRF); GPU quality is mapped from it
    preset: str               # x264/x265 preset
    gop_seconds: Fraction     # keyframe interval
    audio_bitrate: str
    threads: int              # encoder threads (0 = ffmpeg decides)
    filter_threads: int       # filter graph threads (0 = ffmpeg decides)
    speed_factor: float       # expected encode speed relative to real time on one core, for timeouts
    container: str = "mp4"    # the output's file extension and muxer: mp4 | webm | mov | gif | m4a
    audio_codec: str | None = "aac"  # "aac" | "opus" | "pcm_s24le"; None: no sound (gif)

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The project canvas scaled so its short side is ``short_side`` (even numbers)."""
        short = min(width, height)
        target = self.short_side if (self.upscale or self.short_side < short) else short
        if target == short:
            return width, height
        f = Fraction(target, short)
        return nearest_even(width * f), nearest_even(height * f)

    def output_fps(self, project_fps: Fraction) -> Fraction:
        """The project's rate divided by the smallest whole number that brings it under the cap.

        Only a whole divisor keeps every output frame a frame of the timeline (60 -> 30,
        50 -> 25, 30000/1001 stays, 120 -> 30 under a 30 cap): a cap taken as it is (30 -> 24)
        would show pictures between timeline frames and judder unevenly.
        """
        return project_fps / fps_divisor(project_fps, self.fps_cap)

    @property
    def audio_args(self) -> tuple[str, ...]:
        """The sound's encoder arguments, stereo. AAC at the profile's bitrate: drafts and previews
        use ffmpeg's fast AAC coder (0.56x the default (twoloop) coder's time on 30 s of stereo,
        measured, for sound heard while editing); deliverables keep twoloop. Opus (WebM) at 48 kHz,
        the only rate of its own it keeps; PCM (ProRes masters) uncompressed."""
        if self.audio_codec == "opus":
            return ("-c:a", "libopus", "-b:a", self.audio_bitrate, "-ar", "48000", "-ac", "2")
        if self.audio_codec == "pcm_s24le":
            return ("-c:a", "pcm_s24le", "-ac", "2")
        if self.audio_codec is None:
            return ("-an",)
        fast = ("-aac_coder", "fast") if self.role in ("draft", "preview") else ()
        return ("-c:a", "aac", "-b:a", self.audio_bitrate, *fast, "-ac", "2")

    @property
    def has_video(self) -> bool:
        return self.codec is not None

    @property
    def chunked(self) -> bool:
        """Whether jobs render it in chunks. A GIF is one pass: its palette is made from every frame
        (chunks would each make their own, and colours would jump at the seams); an audio-only
        output is the job's sound pass itself."""
        return self.codec not in (None, "gif")

    @property
    def audio_file(self) -> str:
        """The name a job gives its whole-timeline sound, a container that holds the profile's codec."""
        return {"aac": "audio.m4a", "opus": "audio.webm", "pcm_s24le": "audio.wav"}.get(self.audio_codec or "",
                                                                                      "audio.m4a")

    def gop_frames(self, fps: Fraction) -> int:
        return max(1, round(fps * self.gop_seconds))

    def to_row(self) -> dict[str, str]:
        audio = {None: "-", "pcm_s24le": "pcm 24-bit"}.get(self.audio_codec, f"{self.audio_codec} {self.audio_bitrate}")
        return {"profile": self.name, "role": self.role, "container": self.container,
                "size": "-" if not self.has_video else f"{self.short_side}p" + (" (upscales)" if self.upscale else ""),
                "fps": "-" if not self.has_video else
                f"fps/n <= {fraction_text(self.fps_cap)}" if self.fps_cap else "project",
                "codec": self.codec or "-", "pix_fmt": self.pix_fmt if self.has_video else "-",
                "crf": str(self.crf) if self.codec in ("h264", "hevc", "vp9") else "-",
                "preset": self.preset if self.has_video else "-",
                "gop": f"{fraction_text(self.gop_seconds)} s" if self.codec in ("h264", "hevc", "vp9") else "-",
                "audio": audio + (" (fast coder)" if "-aac_coder" in self.audio_args else ""),
                "threads": str(self.threads or "auto")}


def fps_divisor(project_fps: Fraction, cap: Fraction | None) -> int:
    """The smallest whole n with project_fps / n <= cap (1 without a cap)."""
    if cap is None or project_fps <= cap:
        return 1
    return -(-project_fps // cap)  # ceiling, exact on Fractions


def nearest_even(x: Fraction | int) -> int:
    """Pixel sizes for 4:2:0 video: the nearest even number, at least 2."""
    return max(2, 2 * round(Fraction(x) / 2))


# Presets and CRFs are chosen by measurement (bench/bench_presets.py, docs/presets.md): drafts and
# previews take the least encoder time that holds their quality, deliverables the knee of quality per bit.
PROFILES: dict[str, RenderProfile] = {p.name: p for p in (
    # draft_360p: one filter thread: the graph of a 640x360 preview window from proxies ran 0.92x
    # the time with 1 than with 2 (thread hand-offs cost more than 360p filters), a whole 30 s draft
    # render the same (0.995x)
    RenderProfile("draft_360p", "draft", 360, False, Fraction(30), "h264", "yuv420p", 32, "ultrafast",
                  Fraction(1, 2), "64k", 2, 1, 8.0),
    # draft_480p: ultrafast held its quality in one pass, but chunked its seams came out 1 dB worse
    # than the single pass (tests/test_jobs.py); superfast kept
    RenderProfile("draft_480p", "draft", 480, False, Fraction(30), "h264", "yuv420p", 30, "superfast",
                  Fraction(1, 2), "96k", 2, 2, 4.0),
    RenderProfile("preview_720p", "preview", 720, False, Fraction(30), "h264", "yuv420p", 26, "superfast",
                  Fraction(1), "128k", 0, 0, 1.5),
    RenderProfile("social_1080p", "delivery", 1080, True, Fraction(60), "h264", "yuv420p", 21, "faster",
                  Fraction(2), "160k", 0, 0, 0.5),
    # master_4k: superfast 16, measured at 720p (3 sources) and at 2160p (the edit, a phone's own 4K)
    RenderProfile("master_4k", "delivery", 2160, True, None, "hevc", "yuv420p10le", 16, "superfast",
                  Fraction(2), "256k", 0, 0, 0.05),
    # the delivery formats (CPU encoders only: no GPU mapping for VP9, ProRes or GIF here)
    # web_1080p_webm: VP9 constant quality (crf 32, -b:v 0), libvpx's "good" deadline at cpu-used 4 with
    # row multithreading; Opus sound
    RenderProfile("web_1080p_webm", "delivery", 1080, True, Fraction(60), "vp9", "yuv420p", 32, "good/4",
                  Fraction(2), "128k", 0, 0, 0.15, container="webm", audio_codec="opus"),
    # gif_480p: 15 fps at most, one palette made from every frame (stats of what changes), Bayer dither
    RenderProfile("gif_480p", "delivery", 480, False, Fraction(15), "gif", "pal8", 0, "palette",
                  Fraction(0), "0", 0, 0, 0.5, container="gif", audio_codec=None),
    # prores_master: ProRes 422 HQ (prores_ks profile 3), 10-bit 4:2:2, intra-only; 24-bit PCM
    RenderProfile("prores_master", "delivery", 1080, True, None, "prores", "yuv422p10le", 0, "hq",
                  Fraction(0), "0", 0, 0, 0.3, container="mov", audio_codec="pcm_s24le"),
    # audio_m4a: the mix alone, AAC
    RenderProfile("audio_m4a", "delivery", 0, False, None, None, "-", 0, "-", Fraction(0), "192k", 0, 0, 5.0,
                  container="m4a"),
)}


STILL_PROFILE = "social_1080p"  # stills (`cutlite still`) default to the delivery size: thumbnails, posters


def get_profile(name: str) -> RenderProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValidationError([f"profile: unknown profile \"{name}\"; known: {', '.join(PROFILES)}"]) from None


@dataclass(frozen=True)
class EncoderSettings:
    """How one profile is encoded by one family: argv pieces, never a shell string."""

    family: str
    encoder: str
    pix_fmt: str                  # the format the graph hands to the encoder
    global_args: tuple[str, ...]  # before the inputs (hardware device set-up)
    filter_tail: str | None       # appended to the video graph (e.g. upload to the GPU)
    codec_args: tuple[str, ...]   # quality, GOP, profile


_ENCODER_NAMES = {
    ("cpu", "h264"): "libx264", ("cpu", "hevc"): "libx265",
    ("cpu", "vp9"): "libvpx-vp9", ("cpu", "prores"): "prores_ks", ("cpu", "gif"): "gif", ("cpu", None): "none",
    ("nvenc", "h264"): "h264_nvenc", ("nvenc", "hevc"): "hevc_nvenc",
    ("videotoolbox", "h264"): "h264_videotoolbox", ("videotoolbox", "hevc"): "hevc_videotoolbox",
    ("vaapi", "h264"): "h264_vaapi", ("vaapi", "hevc"): "hevc_vaapi",
    ("qsv", "h264"): "h264_qsv", ("qsv", "hevc"): "hevc_qsv",
}

# x264/x265 preset -> NVENC preset (p1 fastest .. p7 best) and QSV preset.
_NVENC_PRESET = {"ultrafast": "p1", "superfast": "p2", "veryfast": "p3", "faster": "p3",
                 "fast": "p4", "medium": "p5", "slow": "p6", "slower": "p7"}
_QSV_PRESET = {"ultrafast": "veryfast", "superfast": "veryfast", "veryfast": "veryfast",
               "faster": "faster", "fast": "fast", "medium": "medium", "slow": "slow", "slower": "slower"}


def encoder_name(family: str, codec: str | None) -> str:
    return _ENCODER_NAMES[(family, codec)]


def resolve_encoder(profile: RenderProfile, family: str, fps: Fraction) -> EncoderSettings:
    """Map a profile onto an encoder family. The rules:

    - GOP: ``gop_seconds`` at the output fps, a closed GOP, no scene-cut keyframes (so chunk
      boundaries and proxies seek predictably), on every family.
    - quality: CPU uses CRF; NVENC constant-quality ``cq = crf + 1``; VAAPI/QSV ``qp``/
      ``global_quality = crf``; VideoToolbox ``q:v = 105 - 2*crf`` (1..100, higher is better).
    - 10-bit profiles hand ``p010le`` to GPU encoders and ``yuv420p10le`` to x265.
    """
    if family not in FAMILIES:
        raise ValidationError([f"hw: unknown hardware family \"{family}\"; known: {', '.join(FAMILIES)}"])
    if profile.codec not in GPU_CODECS:
        if family != "cpu":
            raise ValidationError([f"hw: {profile.name} ({profile.codec or 'audio only'}) has no {family} encoder; "
                                   "it renders on the CPU"])
        return _cpu_only_encoder(profile, fps)
    enc = encoder_name(family, profile.codec)
    g = str(profile.gop_frames(fps))
    gop = ("-g", g, "-keyint_min", g)
    ten_bit = profile.pix_fmt.endswith("10le")
    if family == "cpu":
        if profile.codec == "h264":
            args = ("-preset", profile.preset, "-crf", str(profile.crf), "-profile:v", "high",
                    *gop, "-sc_threshold", "0", "-flags", "+cgop")
        else:
            args = ("-preset", profile.preset, "-crf", str(profile.crf), "-tag:v", "hvc1",
                    "-x265-params", f"keyint={g}:min-keyint={g}:scenecut=0:open-gop=0:log-level=error")
        if profile.threads:
            args += ("-threads", str(profile.threads))
        return EncoderSettings(family, enc, profile.pix_fmt, (), None, args)
    gpu_fmt = "p010le" if ten_bit else "nv12"
    if family == "nvenc":
        args = ("-preset", _NVENC_PRESET[profile.preset], "-tune", "hq", "-rc", "vbr",
                "-cq", str(profile.crf + 1), "-b:v", "0", *gop, "-forced-idr", "1", "-no-scenecut", "1")
        return EncoderSettings(family, enc, gpu_fmt, (), None, args)
    if family == "videotoolbox":
        q = max(1, min(100, 105 - 2 * profile.crf))
        args = ("-q:v", str(q), "-allow_sw", "0", *gop)
        if profile.codec == "hevc":
            args += ("-tag:v", "hvc1")
        return EncoderSettings(family, enc, gpu_fmt, (), None, args)
    if family == "vaapi":
        return EncoderSettings(family, enc, gpu_fmt, ("-vaapi_device", "/dev/dri/renderD128"),
                               f"format={gpu_fmt},hwupload", ("-rc_mode", "CQP", "-qp", str(profile.crf), *gop))
    # qsv
    return EncoderSettings(family, enc, gpu_fmt, ("-init_hw_device", "qsv=hw", "-filter_hw_device", "hw"),
                           f"format={gpu_fmt},hwupload=extra_hw_frames=64",
                           ("-preset", _QSV_PRESET[profile.preset], "-global_quality", str(profile.crf), *gop))


def _cpu_only_encoder(profile: RenderProfile, fps: Fraction) -> EncoderSettings:
    """The delivery formats' encoders (CPU only).

    - VP9: constant quality (``-crf`` with ``-b:v 0``), a fixed keyframe interval without automatic
      keyframes (``-auto-alt-ref`` stays on: hidden frames ride in superframes, one packet per shown
      frame, so chunks cut and join by stream copy like H.264's closed GOPs).
    - ProRes: prores_ks profile 3 (422 HQ), vendor ``apl0`` (what Apple's decoders expect); every
      frame a keyframe. With alpha (a ``transparent`` background) the planner asks for 4444 (profile 4).
    - GIF: the palette is made in the graph (``paletteuse``); the encoder writes what it is given.
    """
    enc = encoder_name("cpu", profile.codec)
    if profile.codec == "vp9":
        deadline, cpu_used = profile.preset.split("/")
        g = str(profile.gop_frames(fps))
        args: tuple[str, ...] = ("-crf", str(profile.crf), "-b:v", "0", "-deadline", deadline, "-cpu-used", cpu_used,
                                 "-row-mt", "1", "-g", g, "-keyint_min", g)
    elif profile.codec == "prores":
        args = ("-profile:v", "3", "-vendor", "apl0")
    else:  # gif, or no picture
        args = ()
    if profile.threads:
        args += ("-threads", str(profile.threads))
    return EncoderSettings("cpu", enc, profile.pix_fmt, (), None, args)
