"""Errors raised by tei-ingest.

Exception tree::

    IngestError                 root: the CLI catches this one type
    ├── SourceError             a source file cannot be read or decoded
    ├── ConfigError             the project configuration is missing or wrong
    ├── SchemaError             a schema is missing or cannot be compiled
    ├── OutputError             the output folder cannot be written
    └── CorpusError             a written corpus cannot be read back, or fails its fixity check

Every error carries one or more :class:`Issue` records (code, path, line, message),
so a stage can collect all its problems and raise once.
"""

from __future__ import annotations

from typing import NamedTuple

#: Exit codes of every command: all good, some documents failed, usage, could not run.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CANNOT_RUN = 3


class Issue(NamedTuple):
    """One problem found in one file: a stable dotted code, where, and what to do."""

    code: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: [{self.code}] {self.message}"


class IngestError(Exception):
    """Root of every error tei-ingest raises on purpose."""

    def __init__(self, *issues: Issue) -> None:
        if not issues:
            raise ValueError("an IngestError needs at least one Issue")
        self.issues: tuple[Issue, ...] = issues
        super().__init__("\n".join(str(i) for i in issues))


class SourceError(IngestError):
    """A source file cannot be read or decoded."""


class ConfigError(IngestError):
    """The project configuration is missing or wrong."""


class SchemaError(IngestError):
    """A schema is missing or cannot be compiled."""


class OutputError(IngestError):
    """The output folder cannot be written."""


class CorpusError(IngestError):
    """A written corpus cannot be read back (manifest missing or invalid, files changed)."""
