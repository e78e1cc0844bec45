"""The corpus package's exception tree; faces translate these into one line or a polite reply.

A refusal a person must understand carries a ``code`` (a key of ``REASONS``) and the ``params``
that fill it in, so a face can say it in the person's language (the bot's locales translate every
code); ``str()`` of the error is the English. Errors without a code (a broken data directory)
have only their English message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

#: Why something was refused, in English; ``{name}`` fields are the error's ``params``.
REASONS: dict[str, str] = {
    # -- documents --
    "too_large": "the file is larger than {limit_mb} MB",
    "unreadable": "cannot read the file ({detail})",
    "unsupported_type": "unsupported file type {suffix}; use one of {supported}",
    "empty": "the file is empty",
    "binary": "looks like a binary file, not text",
    "not_utf8": "is not UTF-8 text (bad byte at offset {offset})",
    "no_text": "no text found in the document",
    "text_too_long": "the text is longer than {limit} characters",
    "too_many_passages": "the text would make more than {limit} passages",
    "yaml": "front matter is not valid YAML",
    "yaml_at": "front matter is not valid YAML at line {line}",
    "front_matter": "front matter must be a YAML mapping of fields",
    "no_article": "no article text could be extracted from the HTML",
    "boilerplate": (
        "no article text could be extracted from the HTML, only navigation or other "
        "boilerplate ({sentences} full sentences, at least {minimum} needed)"
    ),
    "pdf_unreadable": "is not a readable PDF ({detail})",
    "pdf_encrypted": "is an encrypted PDF; send it without a password",
    "pdf_limit": "the PDF is too large or too complex to read safely ({detail})",
    "pdf_pages": "the PDF has {count} pages; at most {limit} are accepted",
    "unknown_field": "unknown metadata field {field!r}; known fields: {known}",
    "missing": "missing required metadata: {fields}",
    "date_format": "published must be a date like 2025-09-24 or 2025-09, got {value!r}",
    "date_unreal": "published must be a real date, got {value!r}",
    "date_future": "published is in the future ({value}; today is {today})",
    "url": "url must start with http:// or https://, got {value!r}",
    "url_credentials": "url must not hold a user name or password",
    "language": "language must be an ISO 639-1 code like en, got {value!r}",
    "cites": "cites must be a list of source names",
    "field_empty": "{field} is empty",
    "field_long": "{field} is longer than {limit} characters",
    # -- links --
    "scheme": "only http and https links can be added, not {scheme}",
    "no_host": "the link has no host",
    "credentials": "links with a user name or password are refused",
    "bad_url": "the link is not a valid URL ({detail})",
    "bad_host": "{host} is not a valid host name or IP address",
    "unresolvable": "cannot resolve {host}: no such host name",
    "private": (
        "{host} is a private, loopback, link-local or reserved address; such targets are refused"
    ),
    "refused": "could not connect to {host}: the connection was refused or it is unreachable",
    "connect_timeout": "{host} did not accept a connection within {seconds} s",
    "read_timeout": "the server sent nothing for {seconds} s",
    "deadline": "the download took longer than {seconds} s",
    "no_response": "the server closed the connection without answering",
    "bad_length": "the server sent an invalid Content-Length header",
    "short_body": "the server closed the connection before sending the whole body",
    "protocol": "the server's reply is not valid HTTP",
    "broken": "the connection to the server broke off",
    "http_status": "the server answered HTTP {status}",
    "no_location": "a redirect without a Location header",
    "redirects": "more than {limit} redirects",
    "content_type": (
        "unsupported content type {kind}; I can read HTML, PDF, plain text and Markdown"
    ),
    "inflated_too_large": "the file is larger than {limit_mb} MB once decompressed",
    "encoding": "the server compressed the body with {encoding}, which I cannot read",
    "encodings": "the body is compressed {count} times; at most {limit} are accepted",
    "corrupt_encoding": "the compressed body is corrupt or incomplete ({encoding})",
    "fetch_failed": "the download failed ({detail})",
    # -- the store --
    "unknown_source": "no source with id {source_id!r}",
    "busy": (
        "the database is busy: another process has held its write lock for more than "
        "{seconds} s; try again"
    ),
}


class CorpusError(Exception):
    """Base class of every error the corpus package raises on purpose."""

    def __init__(
        self, message: str, *, code: str | None = None, params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        #: The reason (a key of ``REASONS``), or None for an error with only a message.
        self.code = code
        self.params: Mapping[str, object] = dict(params or {})

    @classmethod
    def because(cls, code: str, /, **params: object) -> Self:
        """The error for reason ``code`` (its English message filled in from ``params``)."""
        return cls(REASONS[code].format(**params), code=code, params=params)


class DocumentError(CorpusError):
    """A document cannot be accepted: unreadable, binary, empty, unsupported or bad metadata."""

    def __init__(
        self, name: str, code: str, /, *, missing: tuple[str, ...] = (), **params: object
    ) -> None:
        problem = REASONS[code].format(**params)
        super().__init__(f"{name}: {problem}", code=code, params=params)
        self.name = name
        #: The reason in English, without the file name.
        self.problem = problem
        #: Required metadata fields that are absent (a face may ask for them).
        self.missing = missing


class FetchError(CorpusError):
    """The link cannot or must not be fetched."""


class SourceNotFound(CorpusError):
    """No source has the given id."""

    def __init__(self, source_id: str) -> None:
        super().__init__(
            REASONS["unknown_source"].format(source_id=source_id),
            code="unknown_source",
            params={"source_id": source_id},
        )
        self.source_id = source_id


class StoreError(CorpusError):
    """The data directory cannot be used (permissions, a newer schema, corruption, a lock)."""
