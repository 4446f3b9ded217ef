"""Rendering: project model, profiles, hardware policy, plans, ffmpeg runner, render service."""
