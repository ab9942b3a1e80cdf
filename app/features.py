"""The features the service runs, in the order they handle one delivery.

Tickets first: they merge a delivery's news into the status comment, which the checks then
read. This list is the only place that knows both the service and the features.
"""

from __future__ import annotations

from app.checks import routes as checks
from app.service.dispatch import Features
from app.tickets import routes as tickets

FEATURES = Features(routers=[tickets.router, checks.router], sweeps=[tickets.sweep, checks.sweep])
