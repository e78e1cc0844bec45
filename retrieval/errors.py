"""The retrieval package's exception tree."""

from __future__ import annotations


class RetrievalError(Exception):
    """Base class of every error the retrieval package raises on purpose."""


class IndexMismatch(RetrievalError):
    """The saved index was built with another model or dimension than the configuration names."""


class IndexMissing(RetrievalError):
    """There is no usable index yet (nothing ingested, or it must be rebuilt)."""


class ModelUnavailable(RetrievalError):
    """The configured embedding model cannot be loaded."""


class QuestionRejected(RetrievalError):
    """The question cannot be asked as it is (empty, or too long)."""
