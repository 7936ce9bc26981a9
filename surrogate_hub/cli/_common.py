"""Shared pieces of the command modules: the command registry, the CLI's error voice, argument
types and line I/O.

Error voice
    A command reports a user error by raising: :class:`~surrogate_hub.errors.UserError` (or
    :class:`CommandError`, its alias here) with a message, or any library exception whose type is in
    :data:`USER_ERRORS`. :func:`surrogate_hub.cli.main` turns those into one ``error: <message>``
    line on stderr and a non-zero exit status (``err.status`` or 1), with the traceback only under
    ``-v``. Anything else is a bug and keeps its traceback. Register more types with
    :func:`user_error` (as ``"module:Class"``, so nothing is imported to check them).
    Option errors (argparse) are one ``error: --opt ...`` line with status 2.
"""

from __future__ import annotations

import argparse
import codecs
import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from ..errors import UserError

__all__ = [
    "USER_ERRORS",
    "CommandError",
    "Line",
    "Parser",
    "command",
    "commands",
    "emit",
    "is_user_error",
    "nonnegative_int",
    "parse_input_shape",
    "positive_int",
    "read_lines",
    "user_error",
]

_COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]] = {}

#: Exception types that are the user's fault, as ``"module:Class"``; a type counts only once its
#: module has been imported (an error can only come from an imported module), so checking never
#: imports anything. Subclasses count too.
USER_ERRORS: list[str] = [
    "surrogate_hub.errors:UserError",
    "surrogate_hub.space.errors:ArchitectureError",
    "surrogate_hub.surrogates.errors:SurrogateError",
    "surrogate_hub.tasks.base:TaskError",
    "surrogate_hub.corpus.config:ConfigError",
    "huggingface_hub.errors:HfHubHTTPError",  # e.g. RepositoryNotFoundError, RevisionNotFoundError
    "huggingface_hub.errors:LocalEntryNotFoundError",
    "huggingface_hub.errors:OfflineModeIsEnabled",
    "builtins:FileNotFoundError",
    "builtins:IsADirectoryError",
    "builtins:NotADirectoryError",
    "builtins:PermissionError",
]

CommandError = UserError  #: what a command raises for a user error: ``CommandError(msg, status=1)``


def user_error(spec: str) -> str:
    """Register an exception type (``"module:Class"``) as a user error; returns ``spec``."""
    if ":" not in spec:
        raise ValueError(f"expected 'module:Class', got {spec!r}")
    if spec not in USER_ERRORS:
        USER_ERRORS.append(spec)
    return spec


def is_user_error(err: BaseException) -> bool:
    """Whether ``err`` is an instance of a type in :data:`USER_ERRORS` (imported modules only)."""
    for spec in USER_ERRORS:
        module, _, name = spec.partition(":")
        mod = sys.modules.get(module)
        cls = getattr(mod, name, None) if mod is not None else None
        if isinstance(cls, type) and isinstance(err, cls):
            return True
    return False


def error_message(err: BaseException) -> str:
    """One line for ``err``: its message (or type name), newlines folded."""
    text = str(err).strip()
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        text = f"{err.filename}: {err.strerror}"
    if isinstance(err, KeyError) and len(err.args) == 1 and isinstance(err.args[0], str):
        text = err.args[0]
    return " ".join(text.split()) or type(err).__name__


# ------------------------------------------------------------------------------------- argparse
_ARG_PREFIX = re.compile(r"^argument ([^:]+): ")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line: ``error: --n must be ...``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        m = _ARG_PREFIX.match(message)
        if m:  # "argument --n: must be ..." -> "--n must be ..."
            opt = m.group(1).split("/")[-1]
            rest = message[m.end():]
            message = f"{opt} {rest}" if rest.startswith(("must", "expected")) else f"{opt}: {rest}"
        cmd = self.prog.split(" ", 1)[1] + " " if " " in self.prog else ""
        sys.stderr.write(f"error: {message} (see surrogate-hub {cmd}--help)\n")
        raise SystemExit(2)


def command(name: str, help: str):
    """Register ``run(args) -> exit code`` as a subcommand; ``configure(parser)`` adds its options.

    Use as ``command(name, help)(configure)(run)`` or as a decorator on ``run``.
    """

    def wrap(configure):
        def register(run):
            _COMMANDS[name] = (configure, run, help)
            return run

        return register

    return wrap


def commands() -> dict:
    """The registered commands: name -> (configure, run, help)."""
    return _COMMANDS


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """``"3,28,28"`` → ``(3, 28, 28)``; argparse reports the error as a usage error."""
    try:
        shape = tuple(int(p) for p in text.replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be C,H,W integers, e.g. 3,28,28; got {text!r}") from None
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"must be three positive integers C,H,W; got {text!r}")
    return shape  # type: ignore[return-value]


def _integer(text: str, what: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1 (error: ``--n must be a positive integer, got '0'``)."""
    return _integer(text, "a positive integer", 1)


def nonnegative_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    return _integer(text, "a non-negative integer", 0)


def integer(text: str) -> int:
    """An argparse type: any integer, with a one-line error naming the option."""
    return _integer(text, "an integer", -(2**63))


# ------------------------------------------------------------------------------------------ I/O
class Line(NamedTuple):
    """One input line: 1-based ``number``, stripped ``text``, and ``error`` when it is unreadable
    (not UTF-8); then ``text`` holds the line with the bad bytes replaced."""

    number: int
    text: str
    error: str | None = None


def read_lines(path: str) -> Iterator[Line]:
    """Non-empty, non-comment lines of FILE (or stdin for ``-``), as :class:`Line` tuples.

    Files and stdin are read the same way, as bytes: a UTF-8 byte-order mark at the start is
    dropped, and a line that is not UTF-8 is yielded with an ``error`` (the others still count).
    A missing file raises ``FileNotFoundError`` (a user error).
    """
    stream: Any = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    try:
        for i, raw in enumerate(stream, 1):
            if i == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            try:
                text = raw.decode("utf-8").strip()
                error = None
            except UnicodeDecodeError as err:
                text = raw.decode("utf-8", errors="replace").strip()
                error = f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1}); save the file as UTF-8"
            if text and not text.startswith("#"):
                yield Line(i, text, error)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def emit(obj: dict) -> None:
    """Write ``obj`` as one line of strict JSON (NaN and infinities become ``null``)."""
    sys.stdout.write(json.dumps(_json_safe(obj), allow_nan=False) + "\n")
