"""Output arguments: the encoder's and the muxer's flags, pinned for every file the engine writes."""

from __future__ import annotations

from fractions import Fraction

from engines.ffmpeg.profiles import EncoderSettings, RenderProfile

ALPHA_ARGS = {  # the encoders that keep a transparent canvas's alpha, and how (options given later win)
    "prores": ["-profile:v", "4", "-pix_fmt", "yuva444p10le", "-alpha_bits", "16"],  # ProRes 4444, not 422 HQ
    "vp9": ["-pix_fmt", "yuva420p"],  # VP9 with an alpha plane in WebM
}


def output_args(profile: RenderProfile, enc: EncoderSettings, fps: Fraction, streams: str,
                alpha: bool = False) -> list[str]:
    if profile.codec == "gif":  # the composed frames, lossless: the palette is chosen from them after
        return ["-map", "[vout]", "-c:v", "ffv1", "-level", "3", "-an", *container_args(fps, "mkv")]
    alpha_args = ALPHA_ARGS.get(profile.codec or "", []) if alpha else []
    video = ["-map", "[vout]", "-c:v", enc.encoder, *enc.codec_args, *alpha_args]
    audio = ["-map", "[aout]", *profile.audio_args]
    picked = {"both": video + audio, "video": video + ["-an"], "audio": audio + ["-vn"]}[streams]
    return picked + container_args(fps, profile.container)


def video_timescale(fps: Fraction) -> int:
    """An mp4 timescale with an exact tick count per frame (e.g. 3003 ticks at 30000/1001)."""
    return fps.numerator * max(1, 90000 // fps.numerator)


MUXERS = {"mp4": "mp4", "m4a": "mp4", "mov": "mov", "webm": "webm", "gif": "gif", "mkv": "matroska"}


def container_args(fps: Fraction, container: str = "mp4") -> list[str]:
    """Muxer flags pinned for every file the engine writes (renders and proxies), by container."""
    return [
        # the graph already made every frame: no duplication or dropping by the muxer
        "-fps_mode", "passthrough",
        *(["-video_track_timescale", str(video_timescale(fps))] if container in ("mp4", "mov") else []),
        *(["-movflags", "+faststart"] if container in ("mp4", "mov", "m4a") else []),
        *(["-loop", "0"] if container == "gif" else []),  # a GIF plays on, as chats and pages expect
        # the muxer named, not guessed from a file name (work files and partial outputs end in .mp4)
        *([] if container == "mp4" else ["-f", MUXERS[container]]),
        # the same plan gives the same bytes: no encoder version strings or dates
        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        # every picture was brought to BT.709 limited range (setparams tags the frames too); a GIF is RGB
        *(["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]
          if container in ("mp4", "mov", "webm", "mkv") else []),
    ]
