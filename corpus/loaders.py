"""A file (or the bytes of an upload) -> a document: its text and the metadata to cite it.

Markdown carries YAML front matter; ``.txt`` takes its metadata from the caller; HTML is reduced
to its main text with trafilatura; PDF text comes from pypdf page by page so citations keep pages.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from corpus.errors import DocumentError
from corpus.language import detect_language
from corpus.models import Span, parse_published

#: Telegram bots can download at most 20 MB; the command line uses the same ceiling.
MAX_FILE_BYTES = 20 * 1024 * 1024
SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
REQUIRED_FIELDS = ("title", "published")
KNOWN_FIELDS = ("title", "published", "url", "publisher", "language", "cites")

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_LANGUAGE = re.compile(r"^[a-z]{2}$")


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded document, validated and ready to chunk."""

    name: str
    identity: str
    text: str
    metadata: Mapping[str, Any]
    pages: tuple[Span, ...] = field(default=())

    @property
    def content_hash(self) -> str:
        """SHA-256 of the text and the citation metadata: a change to either is a new version."""
        digest = hashlib.sha256(self.text.encode("utf-8"))
        for key in KNOWN_FIELDS:
            digest.update(f"\0{key}={self.metadata.get(key)!r}".encode())
        return digest.hexdigest()


def source_id_for(identity: str) -> str:
    """The stable, short id of a source, derived from its identity (URL, else file name)."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:10]


def load_path(path: Path, overrides: Mapping[str, Any] | None = None) -> Document:
    """Load one file from disk; ``overrides`` (e.g. command-line flags) win over file metadata."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DocumentError(name, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(name, f"cannot read file ({exc.strerror or exc})") from exc
    return load_bytes(data, name, overrides)


def load_bytes(data: bytes, name: str, overrides: Mapping[str, Any] | None = None) -> Document:
    """Load a document from bytes named ``name`` (its suffix decides the format)."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            name,
            f"unsupported file type {suffix or '(none)'}; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}",
        )
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(name, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if not data.strip():
        raise DocumentError(name, "file is empty")
    pages: tuple[Span, ...] = ()
    if suffix in (".md", ".markdown"):
        metadata, text = _markdown(name, _decode_text(name, data))
    elif suffix == ".txt":
        metadata, text = {}, _decode_text(name, data)
    elif suffix in (".html", ".htm"):
        metadata, text = _html(name, _decode_text(name, data))
    else:
        metadata, text, pages = _pdf(name, data)
    merged = {**metadata, **{k: v for k, v in (overrides or {}).items() if v not in (None, "", ())}}
    text = _normalise(text) if not pages else text
    if not text.strip():
        raise DocumentError(name, "no text found in the document")
    clean = _validate(name, merged, text)
    identity = clean.get("url") or name
    return Document(name=name, identity=identity, text=text, metadata=clean, pages=pages)


def _decode_text(name: str, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise DocumentError(name, "looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(name, f"is not UTF-8 text (bad byte at offset {exc.start})") from exc
    controls = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > 8:
        raise DocumentError(name, "looks like a binary file, not text")
    return text


def _normalise(text: str) -> str:
    # Offsets are into this normalised text, which is what the store keeps.
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")


def _markdown(name: str, text: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        metadata = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise DocumentError(name, f"front matter is not valid YAML{where}") from exc
    if not isinstance(metadata, dict):
        raise DocumentError(name, "front matter must be a YAML mapping of fields")
    return metadata, text[match.end() :]


def _html(name: str, markup: str) -> tuple[dict[str, Any], str]:
    import trafilatura  # imported here: it is slow to import and only HTML needs it

    doc = trafilatura.bare_extraction(
        markup,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
    )
    if doc is None or not (doc.text or "").strip():
        raise DocumentError(name, "no article text could be extracted from the HTML")
    metadata = {
        "title": doc.title,
        "published": doc.date,
        "url": doc.url,
        "publisher": doc.sitename,
        "language": doc.language,
    }
    return {k: v for k, v in metadata.items() if v}, doc.text


def _pdf(name: str, data: bytes) -> tuple[dict[str, Any], str, tuple[Span, ...]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        texts = [(page.extract_text() or "").strip() for page in reader.pages]
        info = reader.metadata or {}
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(name, f"is not a readable PDF ({exc})") from exc
    parts: list[str] = []
    pages: list[Span] = []
    cursor = 0
    for page_text in texts:
        page_text = _normalise(page_text)
        pages.append(Span(start=cursor, end=cursor + len(page_text)))
        parts.append(page_text)
        cursor += len(page_text) + 2
    metadata: dict[str, Any] = {}
    title = info.get("/Title") if hasattr(info, "get") else None
    if title and str(title).strip():
        metadata["title"] = str(title).strip()
    return metadata, "\n\n".join(parts), tuple(pages)


def _validate(name: str, metadata: Mapping[str, Any], text: str) -> dict[str, Any]:
    unknown = sorted(set(metadata) - set(KNOWN_FIELDS))
    if unknown:
        raise DocumentError(
            name, f"unknown metadata field {unknown[0]!r}; known fields: {', '.join(KNOWN_FIELDS)}"
        )
    missing = tuple(f for f in REQUIRED_FIELDS if not str(metadata.get(f) or "").strip())
    if missing:
        raise DocumentError(
            name, f"missing required metadata: {', '.join(missing)}", missing=missing
        )
    clean: dict[str, Any] = {"title": _one_line(name, "title", metadata["title"])}
    try:
        clean["published"] = parse_published(metadata["published"])
    except ValueError as exc:
        raise DocumentError(name, str(exc)) from exc
    url = metadata.get("url")
    if url:
        url = str(url).strip()
        if not _URL.match(url):
            raise DocumentError(name, f"url must start with http:// or https://, got {url!r}")
        clean["url"] = url
    if metadata.get("publisher"):
        clean["publisher"] = _one_line(name, "publisher", metadata["publisher"])
    language = str(metadata.get("language") or "").strip().lower()
    if language and not _LANGUAGE.match(language):
        raise DocumentError(name, f"language must be an ISO 639-1 code like en, got {language!r}")
    clean["language"] = language or detect_language(text)
    cites = metadata.get("cites") or ()
    if isinstance(cites, str):
        cites = [c.strip() for c in cites.split(";")]
    if not isinstance(cites, list | tuple) or not all(isinstance(c, str) for c in cites):
        raise DocumentError(name, "cites must be a list of source names")
    clean["cites"] = tuple(c.strip() for c in cites if c.strip())
    return clean


def _one_line(name: str, key: str, value: Any) -> str:
    text = " ".join(str(value).split())
    if not text:
        raise DocumentError(name, f"{key} is empty", missing=(key,))
    if len(text) > 500:
        raise DocumentError(name, f"{key} is longer than 500 characters")
    return text
