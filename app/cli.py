"""`baton serve | demo | scan | mcp`: the command line (SPEC 1)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.contracts.cli import main as scan_main
from app.demo import main as demo_main
from app.features import FEATURES
from app.mcp.server import main as mcp_main
from app.service.logs import setup_logging
from app.service.server import serve
from app.service.settings import SettingsError, load_settings


def _serve() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"baton: {problem}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_format)
    asyncio.run(serve(settings, features=FEATURES))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="baton", description=__doc__)
    parser.add_argument("command", choices=["serve", "demo", "scan", "mcp"])
    if not args or args[0] not in ("serve", "demo", "scan", "mcp"):
        parser.print_usage(sys.stderr)
        print("baton: choose one of serve, demo, scan, mcp", file=sys.stderr)
        return 2
    command, rest = args[0], args[1:]
    if command == "scan":
        return scan_main(rest)
    if command == "mcp":
        return mcp_main(rest)
    if rest:
        print(f"baton {command}: takes no arguments", file=sys.stderr)
        return 2
    if command == "serve":
        return _serve()
    return demo_main()
