"""Exceptions with messages that say what failed and what to do about it."""

from __future__ import annotations

from pathlib import Path


class MmragError(Exception):
    """Base class for every error mmrag raises on purpose."""


class InvalidArgument(MmragError, ValueError):
    """An option or argument is out of range or of the wrong kind; the message
    names it, what was given and what is accepted. A ``ValueError`` too, so
    callers that catch ``ValueError`` keep working."""


class LoaderError(MmragError):
    """A file could not be read; the message names the file and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class RenderTooLargeError(LoaderError):
    """A page is too large to render within the pixel cap at any legible scale."""


class UnsupportedFileError(LoaderError):
    """No loader handles this file's content."""


class CorruptFileError(LoaderError):
    """The file is damaged: a broken zip, a missing part, XML that does not parse."""


class EncryptedFileError(LoaderError):
    """The file is password-protected; it must be saved without a password to be read."""


class UnknownEncodingError(LoaderError):
    """The file's text encoding cannot be told; re-save it as UTF-8."""


class UnsafeFileError(LoaderError):
    """The file is refused for safety: XML that declares entities (billion laughs,
    external entities)."""


class MailLoopError(LoaderError):
    """A mail attaches a message that already contains it (a Message-ID repeated
    down its chain of attachments)."""


class ModelMismatchError(MmragError):
    """A collection was built with other embedding models than the ones in use."""


class ModelLoadError(MmragError):
    """A model could not be loaded; the message names the model and what to do."""

    def __init__(self, model: str, problem: str) -> None:
        self.model = model
        self.problem = problem
        super().__init__(f"model {model!r}: {problem}")


class StoreError(MmragError):
    """The vector store refused an operation or an option is invalid."""


class FilterError(StoreError, InvalidArgument):
    """A metadata filter has an invalid key, operator or value (an ``InvalidArgument`` too)."""


class MissingDependencyError(MmragError, ImportError):
    """An optional dependency is needed for this feature."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        super().__init__(
            f"{feature} needs the '{package}' package: pip install 'mmrag[{extra}]'"
        )
