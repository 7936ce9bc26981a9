"""The base class of errors caused by the caller's input (light: no imports).

Library errors that a user can fix (a bad argument, a missing file, an unknown name) either derive
from :class:`UserError` or are listed in :data:`surrogate_hub.cli._common.USER_ERRORS`; the command
line prints both as one ``error: ...`` line with a non-zero exit status instead of a traceback.
"""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """An error the user can fix; the message says what is wrong, where, and how to fix it.

    ``status`` is the exit status the command line ends with (default 1).
    """

    status: int = 1

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
