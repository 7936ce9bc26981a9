"""The ``surrogate-hub`` command line: one module per command group, registered with
`command`. ``main(argv)`` is testable with an argument list; heavy libraries are imported inside
the commands that need them.
"""

from __future__ import annotations

import argparse
import logging

from ._common import command, commands, parse_input_shape

__all__ = ["main", "build_parser", "command", "parse_input_shape"]

#: command-group modules, imported for their registrations (order = order in --help)
_GROUPS = ("space", "train", "corpus", "rank", "search")


def _load_groups() -> None:
    import importlib

    for name in _GROUPS:
        importlib.import_module(f"{__name__}.{name}")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    _load_groups()

    parser = argparse.ArgumentParser(
        prog="surrogate-hub",
        description="Pretrained performance predictors for the einspace architecture search space.",
    )
    parser.add_argument("--version", action="version", version=f"surrogate-hub {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (configure, _run, help_text) in commands().items():  # type: ignore[misc]
        configure(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``surrogate-hub`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    _configure, run, _help = commands()[args.command]  # type: ignore[misc]
    return run(args)
