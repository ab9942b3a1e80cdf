"""Contract scan: endpoints the backends provide, calls the frontends make, and the drift.

Public API: `scan`, `select_paths`, `render`; the command is `app.contracts.cli.main`.
"""

from .engine import scan
from .formats import render
from .selection import select_paths

__all__ = ["render", "scan", "select_paths"]
