"""The corpus package's exception tree; faces translate these into one line or a polite reply."""

from __future__ import annotations


class CorpusError(Exception):
    """Base class of every error the corpus package raises on purpose."""


class DocumentError(CorpusError):
    """A document cannot be accepted: unreadable, binary, empty, unsupported or bad metadata."""

    def __init__(self, name: str, problem: str, *, missing: tuple[str, ...] = ()) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem
        #: Required metadata fields that are absent (a face may ask for them).
        self.missing = missing


class SourceNotFound(CorpusError):
    """No source has the given id."""

    def __init__(self, source_id: str) -> None:
        super().__init__(f"no source with id {source_id!r}")
        self.source_id = source_id


class StoreError(CorpusError):
    """The data directory cannot be used (permissions, a newer schema, corruption)."""
