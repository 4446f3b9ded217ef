"""Public face (named by the spec): the ffmpeg runner lives in ``engines.ffmpeg.runner``."""

from engines.errors import FFmpegError
from engines.ffmpeg.runner import FFmpegRunner, HardwareReport, detect_hardware, find_ffmpeg

__all__ = ["FFmpegRunner", "FFmpegError", "HardwareReport", "detect_hardware", "find_ffmpeg"]
