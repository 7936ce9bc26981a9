"""Errors raised for bad architectures: both are ``ValueError`` subclasses."""

from __future__ import annotations

__all__ = ["ArchitectureError", "ParseError", "ShapeError"]


class ArchitectureError(ValueError):
    """An architecture string or value that cannot be used."""


class ParseError(ArchitectureError):
    """Malformed text: carries the 1-based ``line`` and ``column`` of the problem."""

    def __init__(self, message: str, *, line: int, column: int) -> None:
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"line {line}, column {column}: {message}")


class ShapeError(ArchitectureError):
    """A well-formed architecture that is invalid for an input shape.

    ``path`` addresses the offending node (see :data:`~.tree.Path`), ``op`` is its text, and ``shapes``
    the tensor shapes (without batch) that it received.
    """

    def __init__(self, message: str, *, path: tuple = (), op: str = "", shapes: tuple = ()) -> None:
        self.path = path
        self.op = op
        self.shapes = shapes
        self.message = message
        where = "/".join(str(p) for p in path) or "<root>"
        got = ", ".join(str(list(s)) for s in shapes)
        super().__init__(f"{op} at {where}: {message} (input shapes: {got})")
