"""Synthetic media made with ffmpeg's lavfi sources: the demo's, the tests' and the bench's inputs.

Solid colours make pixel checks exact; a tone makes audio measurable; options produce the
awkward cases a real library must handle (rotation, VFR, odd sizes, 10-bit, no audio).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from engines.model.timebase import fraction_text, to_ffmpeg_seconds

from .runner import FFmpegRunner


def make_video(path: str | Path, *, seconds: Fraction | int = 2, width: int = 320, height: int = 240,
               fps: Fraction | int = 30, color: str | None = "red", pattern: str | None = None,
               tone_hz: int | None = 440, sample_rate: int = 48000, pix_fmt: str = "yuv420p",
               codec: str = "libx264", rotation: int = 0, vfr: bool = False,
               runner: FFmpegRunner | None = None) -> Path:
    """A clip of solid ``color`` (or a lavfi ``pattern`` such as ``testsrc2``) with an optional tone.

    ``rotation`` stores a display matrix (clockwise degrees to show it upright), as phones do;
    ``vfr`` drops frames irregularly and keeps the gaps (variable frame rate).
    """
    runner = runner or FFmpegRunner()
    out = Path(path)
    dur = to_ffmpeg_seconds(Fraction(seconds))
    src = f"{pattern}=" if pattern else f"color=c={color}:"
    args = ["-y", "-f", "lavfi", "-i", f"{src}s={width}x{height}:r={fraction_text(Fraction(fps))}:d={dur}"]
    if tone_hz:
        args += ["-f", "lavfi", "-i", f"sine=f={tone_hz}:r={sample_rate}:d={dur}"]
    # BT.709 limited range, converted and tagged, as a camera would write it
    vf = ["scale=out_color_matrix=bt709:out_range=tv", "format=" + pix_fmt]
    if vfr:
        # keep frames whose index is not 2 or 3 mod 5: irregular gaps, original timestamps kept
        vf.insert(0, "select='not(between(mod(n\\,5)\\,2\\,3))'")
    args += ["-vf", ",".join(vf)]
    if vfr:
        args += ["-fps_mode", "vfr"]
    args += ["-c:v", codec, "-pix_fmt", pix_fmt, "-colorspace", "bt709", "-color_primaries", "bt709",
             "-color_trc", "bt709", "-color_range", "tv"]
    if codec == "libx264":
        args += ["-preset", "ultrafast"]
    if codec == "libx265":
        args += ["-preset", "ultrafast", "-x265-params", "log-level=error"]
    if tone_hz:
        args += ["-c:a", "aac", "-shortest"]
    if not rotation:
        runner.run(args + [str(out)], stage="samples")
        return out
    plain = out.with_name(out.stem + ".plain" + out.suffix)
    runner.run(args + [str(plain)], stage="samples")
    set_rotation(plain, out, rotation, runner)
    plain.unlink()
    return out


def set_rotation(src: Path, out: Path, rotation: int, runner: FFmpegRunner) -> Path:
    """Copy ``src`` with a display matrix saying "turn ``rotation`` degrees clockwise to show"."""
    # -display_rotation is an input option, counter-clockwise; the streams are copied untouched
    runner.run(["-y", "-display_rotation:v:0", str(-rotation % 360), "-i", str(src), "-c", "copy", str(out)],
               stage="samples")
    return out


def make_image(path: str | Path, *, width: int = 64, height: int = 64, color: str = "green",
               alpha: float | None = None, runner: FFmpegRunner | None = None) -> Path:
    """A PNG of one colour (with an alpha channel when ``alpha`` is given)."""
    runner = runner or FFmpegRunner()
    out = Path(path)
    c = color if alpha is None else f"{color}@{alpha}"
    fmt = "rgba" if alpha is not None else "rgb24"
    runner.run(["-y", "-f", "lavfi", "-i", f"color=c={c}:s={width}x{height},format={fmt}", "-frames:v", "1",
                "-update", "1", str(out)], stage="samples")
    return out


def make_tone(path: str | Path, *, seconds: Fraction | int = 4, tone_hz: int = 220, sample_rate: int = 44100,
              runner: FFmpegRunner | None = None) -> Path:
    runner = runner or FFmpegRunner()
    out = Path(path)
    runner.run(["-y", "-f", "lavfi", "-i", f"sine=f={tone_hz}:r={sample_rate}:d={to_ffmpeg_seconds(Fraction(seconds))}",
                "-c:a", "aac", str(out)], stage="samples")
    return out
