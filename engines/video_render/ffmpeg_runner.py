"""Public face (named by the spec): the ffmpeg runner lives in ``engines.ffmpeg.runner``."""

from engines.ffmpeg.runner import FFmpegRunner, HardwareReport, detect_hardware, find_ffmpeg
from engines.errors import FFmpegError

__all__ = ["FFmpegRunner", "FFmpegError", "HardwareReport", "detect_hardware", "find_ffmpeg"]
