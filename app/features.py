"""The feature modules that the service dispatches to, in one place."""

from __future__ import annotations

from app.dispatch import Features

FEATURES = Features(routers=[], sweeps=[])
