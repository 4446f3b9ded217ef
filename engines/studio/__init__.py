"""The studio page: a browser client of the engine's own API (timeline, filmstrip, waveform,
HLS previews, renders), served by ``cutlite serve`` at ``/studio``."""
