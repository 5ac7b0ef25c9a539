"""What the CLI shows on a terminal: a failure as one sentence and an exit code
(the traceback only with ``--debug``), and stored text with its control
characters neutralised, so a file name or a chunk holding ESC sequences cannot
drive the user's terminal."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import typer

from mmrag.errors import MmragError

F = TypeVar("F", bound=Callable[..., Any])

INPUT_PROBLEM = 2  # a bad option, argument or store path: the user can fix the command
FAILED = 1  # the command ran and something went wrong (also: some files failed to ingest)

# C0 and C1 controls and DEL (newline and tab are layout, kept), and the bidi
# overrides that reorder what a terminal shows ("Trojan Source").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Settings:
    debug: bool = False  # --debug / MMRAG_DEBUG=1: let the traceback through


settings = Settings()


def printable(text: str) -> str:
    """``text`` with each control character shown as its escape (``\\x1b``), never sent raw."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def sentence(exc: BaseException) -> tuple[str, int]:
    """The message and exit code for an exception that ended a command."""
    if isinstance(exc, (MmragError, ValueError)):  # mmrag's own, and InvalidArgument's ValueError kin
        return f"error: {exc}", INPUT_PROBLEM
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"error: {where}{exc.strerror or exc}", FAILED
    return (
        f"error: unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback, and please report it)",
        FAILED,
    )


def sentences(command: F) -> F:
    """Run ``command``; a failure prints one sentence on stderr and exits with its
    code. With ``settings.debug`` the exception goes on to typer, which shows
    the traceback. The one place the CLI turns exceptions into words."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter, KeyboardInterrupt):
            raise
        except Exception as exc:
            if settings.debug:
                raise
            message, code = sentence(exc)
            print(printable(message), file=sys.stderr)
            raise typer.Exit(code) from None

    return run  # type: ignore[return-value]
