"""Shared pieces of the command modules: the command registry, argument types and line I/O."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

__all__ = ["command", "commands", "parse_input_shape", "positive_int", "read_lines", "emit"]

_COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


def command(name: str, help: str):
    """Register ``func(args) -> exit code`` as a subcommand; ``configure(parser)`` adds its options."""

    def wrap(configure):
        def register(run):
            _COMMANDS[name] = (configure, run, help)  # type: ignore[assignment]
            return run

        return register

    return wrap


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """``"3,28,28"`` → ``(3, 28, 28)``; argparse reports a ``ValueError`` as a usage error."""
    try:
        shape = tuple(int(p) for p in text.replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"input shape must be C,H,W integers, e.g. 3,28,28; got {text!r}") from None
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"input shape must be three positive integers C,H,W; got {text!r}")
    return shape  # type: ignore[return-value]


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def read_lines(path: str) -> Iterator[tuple[int, str]]:
    """Non-empty, non-comment lines of FILE (or stdin for ``-``), with 1-based line numbers."""
    stream: TextIO = sys.stdin if path == "-" else open(path, encoding="utf-8")
    try:
        for i, line in enumerate(stream, 1):
            text = line.strip()
            if text and not text.startswith("#"):
                yield i, text
    finally:
        if stream is not sys.stdin:
            stream.close()


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")




def commands() -> dict:
    """The registered commands: name -> (configure, run, help)."""
    return _COMMANDS
