"""Public face (named by the spec): the render profiles live in ``engines.ffmpeg.profiles``."""

from engines.ffmpeg.profiles import GPU_FAMILIES, PROFILES, EncoderSettings, RenderProfile, get_profile, resolve_encoder

__all__ = ["GPU_FAMILIES", "PROFILES", "EncoderSettings", "RenderProfile", "get_profile", "resolve_encoder"]
