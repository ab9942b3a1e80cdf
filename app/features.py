"""The feature modules that the service dispatches to, in one place."""

from __future__ import annotations

from app.dispatch import Features
from app.handlers import checks, tickets

FEATURES = Features(routers=[tickets.router, checks.router], sweeps=[tickets.sweep, checks.sweep])
