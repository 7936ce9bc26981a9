"""The ``surrogate-hub`` command line: one module per command group, registered with
`command`. ``main(argv)`` is testable with an argument list; heavy libraries are imported inside
the commands that need them.

Every user error ends a command with one ``error: ...`` line on stderr and a non-zero exit status
(see :mod:`._common` for how a command or library error qualifies); ``-v`` (before or after the
command name) adds the traceback and more logging. A closed stdout (``... | head``) ends the
command quietly with status 141, as for other Unix tools killed by SIGPIPE.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ._common import (
    Parser,
    command,
    commands,
    error_message,
    is_user_error,
    parse_input_shape,
    user_error,
)

__all__ = ["build_parser", "command", "main", "parse_input_shape", "user_error"]

#: command-group modules, imported for their registrations (order = order in --help)
_GROUPS = ("space", "train", "corpus", "fit", "rank", "evaluate", "search", "finetune")


def _load_groups() -> None:
    import importlib

    for name in _GROUPS:
        importlib.import_module(f"{__name__}.{name}")


def _command_in(argv: list[str]) -> str | None:
    """The command name in ``argv``: its first word that is not an option (the global options take
    no values), or None."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser. With ``argv``, only the command it names is configured (the others are listed
    with their help line), so starting one command never imports what another needs."""
    from .. import __version__

    _load_groups()
    chosen = None if argv is None else _command_in(argv)

    parser = Parser(
        prog="surrogate-hub",
        description="Pretrained performance predictors for the einspace architecture search space.",
    )
    parser.add_argument("--version", action="version", version=f"surrogate-hub {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more logging and tracebacks on errors (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for name, (configure, _run, help_text) in commands().items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("-v", "--verbose", dest="verbose_after", action="count", default=0, help=argparse.SUPPRESS)
        if chosen is None or chosen == name or chosen not in commands():
            configure(p)
    return parser


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so Python's exit flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``surrogate-hub`` console script; returns the exit code."""
    if argv is None:
        argv = sys.argv[1:]
    args = build_parser(argv).parse_args(argv)
    verbose = args.verbose + getattr(args, "verbose_after", 0)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    _configure, run, _help = commands()[args.command]
    try:
        return run(args)
    except BrokenPipeError:
        _quiet_stdout()
        return 141
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except Exception as err:
        if not is_user_error(err):
            raise
        if verbose:
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"error: {error_message(err)}\n")
        return int(getattr(err, "status", 1) or 1)
