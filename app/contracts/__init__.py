"""Contract scan: endpoints the backends provide, calls the frontends make, and the drift.

Public API: `scan`, `scan_pair`, `select_paths`, `render`, `openapi_export`; the command is
`app.contracts.cli.main`.
"""

from .engine import scan, scan_pair
from .export import openapi_export
from .formats import render
from .selection import select_paths

__all__ = ["openapi_export", "render", "scan", "scan_pair", "select_paths"]
