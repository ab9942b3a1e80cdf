"""Contract scan: endpoints the backends provide, calls the frontends make, and the drift.

Public API: `scan`, `scan_pair`, `select_paths`, `render`; the command is `app.contracts.cli.main`.
"""

from .engine import scan, scan_pair
from .formats import render
from .selection import select_paths

__all__ = ["render", "scan", "scan_pair", "select_paths"]
