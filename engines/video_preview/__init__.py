"""Previews: strategy-driven, proxy-first renders of a project or a window of it."""
