"""A GitHub stand-in on loopback: REST endpoints, state, signed deliveries, faults (SPEC 9)."""

from app.sandbox.people import Person
from app.sandbox.server import APP_ID, SandboxServer

__all__ = ["APP_ID", "Person", "SandboxServer"]
