"""Optional dependencies: imported on first use, or a ``MissingDependency`` naming the extra.

A feature behind an extra (Celery scale-out, the Postgres driver, S3, the interchange adapters)
fails with a clear error (exit 2, HTTP 500) when its module is not installed, never a traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from engines.errors import MissingDependency


def require(module: str, extra: str, feature: str) -> ModuleType:
    """``module`` imported, or ``MissingDependency`` saying which extra brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(module, extra, feature) from None
