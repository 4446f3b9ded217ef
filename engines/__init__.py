"""cutlite: render and preview engine for a CapCut-style editor backend."""
