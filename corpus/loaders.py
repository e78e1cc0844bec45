"""A file (or the bytes of an upload) -> a document: its text and the metadata to cite it.

Markdown carries YAML front matter; ``.txt`` takes its metadata from the caller; HTML is reduced
to its main text with trafilatura; PDF text comes from pypdf page by page so citations keep pages.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from corpus.errors import DocumentError
from corpus.language import detect_language
from corpus.models import BadDate, Span, earliest_day, parse_published

if TYPE_CHECKING:
    from trafilatura.settings import Document as Extraction

#: Telegram bots can download at most 20 MB; the command line and links use the same ceiling.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: A document's text, once extracted: about 1,000 pages of a report. Longer texts are refused
#: before anything is chunked or embedded (a 2-million-character text takes minutes to embed).
MAX_TEXT_CHARS = 2_000_000
#: Pages of a PDF read at most (text extraction costs time per page even when a page is empty).
MAX_PDF_PAGES = 2_000
#: What one PDF stream may inflate to, and all of a PDF's page contents together: a compressed
#: stream can expand a thousandfold, and pypdf keeps what it decoded.
MAX_PDF_STREAM_BYTES = 20 * 1024 * 1024
MAX_PDF_CONTENT_BYTES = 200 * 1024 * 1024
#: Control characters (other than tab, newlines, form feed) tolerated per 1,000 of text.
MAX_CONTROLS_PER_1000 = 1
#: A page's extracted text must hold this many full sentences (at least this many words, ending
#: in a full stop, question or exclamation mark) to be an article, not navigation or banners:
#: chosen on trafilatura's evaluation pages (README, Documents; bench/boilerplate.py).
MIN_ARTICLE_SENTENCES = 3
MIN_SENTENCE_WORDS = 5
#: A title or publisher longer than this is not one.
MAX_FIELD_CHARS = 500
#: A publication date may lie this far ahead of today in UTC (a day has begun somewhere).
FUTURE_TOLERANCE = timedelta(days=1)
SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
REQUIRED_FIELDS = ("title", "published")
KNOWN_FIELDS = ("title", "published", "url", "publisher", "language", "cites")

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# A full sentence ends in terminal punctuation, perhaps followed by closing quotes or brackets.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”»)\]]*\s+")
_WORD = re.compile(r"\w*[^\W\d_]\w*")


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
            raise DocumentError(name, "too_large", limit_mb=MAX_FILE_BYTES // (1024 * 1024))
        with open(path, "rb") as handle:
            # Never more than the cap, even if the file grows between stat and read.
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DocumentError(name, "unreadable", detail=exc.strerror or str(exc)) from exc
    return load_bytes(data, name, overrides)


def load_bytes(data: bytes, name: str, overrides: Mapping[str, Any] | None = None) -> Document:
    """Load a document from bytes named ``name`` (its suffix decides the format)."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            name,
            "unsupported_type",
            suffix=suffix or "(none)",
            supported=", ".join(SUPPORTED_SUFFIXES),
        )
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(name, "too_large", limit_mb=MAX_FILE_BYTES // (1024 * 1024))
    if not data.strip():
        raise DocumentError(name, "empty")
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
        raise DocumentError(name, "no_text")
    if len(text) > MAX_TEXT_CHARS:
        raise DocumentError(name, "text_too_long", limit=MAX_TEXT_CHARS)
    clean = _validate(name, merged, text)
    identity = clean.get("url") or name
    return Document(name=name, identity=identity, text=text, metadata=clean, pages=pages)


def _decode_text(name: str, data: bytes) -> str:
    # The whole file is looked at: binary content after a text preamble is still binary.
    if b"\x00" in data:
        raise DocumentError(name, "binary")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(name, "not_utf8", offset=exc.start) from exc
    allowed = 8 + len(text) * MAX_CONTROLS_PER_1000 // 1000
    for count, _ in enumerate(_CONTROL.finditer(text), start=1):
        if count > allowed:
            raise DocumentError(name, "binary")
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
        if mark is not None:
            raise DocumentError(name, "yaml_at", line=mark.line + 2) from exc
        raise DocumentError(name, "yaml") from exc
    if not isinstance(metadata, dict):
        raise DocumentError(name, "front_matter")
    return metadata, text[match.end() :]


def extract_html(markup: str) -> Extraction | None:
    """trafilatura's reading of a page (main text and metadata), or None if it finds no text."""
    import trafilatura  # imported here: it is slow to import and only HTML needs it

    doc = trafilatura.bare_extraction(
        markup,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
    )
    assert not isinstance(doc, dict)  # a dict only with as_dict=True
    return doc if doc is not None and (doc.text or "").strip() else None


def _html(name: str, markup: str) -> tuple[dict[str, Any], str]:
    doc = extract_html(markup)
    if doc is None or doc.text is None:  # (extract_html returns only pages with text)
        raise DocumentError(name, "no_article")
    text = doc.text
    sentences = full_sentences(text)
    if sentences < MIN_ARTICLE_SENTENCES:
        raise DocumentError(name, "boilerplate", sentences=sentences, minimum=MIN_ARTICLE_SENTENCES)
    metadata = {
        "title": doc.title,
        "published": doc.date,
        "url": doc.url,
        "publisher": doc.sitename,
        "language": doc.language,
    }
    return {k: v for k, v in metadata.items() if v}, text


def _pdf(name: str, data: bytes) -> tuple[dict[str, Any], str, tuple[Span, ...]]:
    # pypdf's exceptions are translated here and nowhere else.
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PyPdfError

    limits = {key: MAX_PDF_STREAM_BYTES for key in _PYPDF_LIMITS}
    texts: list[str] = []
    with _pdf_warnings() as warnings, apply_configuration(None, **limits):
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise DocumentError(name, "pdf_encrypted")
            count = len(reader.pages)
            if count > MAX_PDF_PAGES:
                raise DocumentError(name, "pdf_pages", count=count, limit=MAX_PDF_PAGES)
            decoded = length = 0
            for page in reader.pages:
                contents = page.get_contents()
                decoded += len(contents.get_data()) if contents is not None else 0
                if decoded > MAX_PDF_CONTENT_BYTES:
                    raise DocumentError(
                        name,
                        "pdf_limit",
                        detail=f"page contents beyond {MAX_PDF_CONTENT_BYTES // 2**20} MB",
                    )
                texts.append((page.extract_text() or "").strip())
                length += len(texts[-1])
                if length > MAX_TEXT_CHARS:
                    raise DocumentError(name, "text_too_long", limit=MAX_TEXT_CHARS)
            info: Mapping[str, Any] = reader.metadata or {}
        except DocumentError:
            raise
        except FileNotDecryptedError as exc:
            raise DocumentError(name, "pdf_encrypted") from exc
        except LimitReachedError as exc:
            raise DocumentError(name, "pdf_limit", detail=_detail(exc)) from exc
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
            # pypdf often says what is wrong in a warning before failing with something vaguer.
            detail = warnings[0] if warnings else _detail(exc)
            raise DocumentError(name, "pdf_unreadable", detail=detail) from exc
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


#: pypdf's output limits (pypdf.Configuration), each set to ``MAX_PDF_STREAM_BYTES``.
_PYPDF_LIMITS = (
    "maximum_declared_stream_length",
    "array_based_stream_maximum_output_length",
    "jbig2_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "zlib_maximum_output_length",
    "image_maximum_buffer_size",
)


def _detail(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


class _ThreadWarnings(logging.Handler):
    """Collects pypdf's warnings logged by one thread (documents load on several)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(" ".join(record.getMessage().split())[:200])


@contextmanager
def _pdf_warnings() -> Iterator[list[str]]:
    """pypdf's warnings while reading, kept for the error message instead of printed."""
    logger = logging.getLogger("pypdf")
    handler = _ThreadWarnings()
    logger.addHandler(handler)
    # pypdf's warnings belong in our error message, not on standard error.
    logger.propagate = False
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def full_sentences(text: str) -> int:
    """How many sentences of ``text`` have ``MIN_SENTENCE_WORDS`` words and end like one."""
    count = 0
    for piece in _SENTENCE_END.split(text.strip() + " "):
        piece = piece.strip()
        if piece and piece[-1] in ".!?…" and len(_WORD.findall(piece)) >= MIN_SENTENCE_WORDS:
            count += 1
    return count


def _validate(name: str, metadata: Mapping[str, Any], text: str) -> dict[str, Any]:
    unknown = sorted(set(metadata) - set(KNOWN_FIELDS))
    if unknown:
        raise DocumentError(name, "unknown_field", field=unknown[0], known=", ".join(KNOWN_FIELDS))
    missing = tuple(f for f in REQUIRED_FIELDS if not str(metadata.get(f) or "").strip())
    if missing:
        raise DocumentError(name, "missing", missing=missing, fields=", ".join(missing))
    clean: dict[str, Any] = {"title": _one_line(name, "title", metadata["title"])}
    try:
        clean["published"] = parse_published(metadata["published"])
    except BadDate as exc:
        raise DocumentError(name, exc.code, value=exc.value) from exc
    today = datetime.now(UTC).date()
    if earliest_day(clean["published"]) > today + FUTURE_TOLERANCE:
        raise DocumentError(name, "date_future", value=clean["published"], today=today.isoformat())
    url = metadata.get("url")
    if url:
        url = str(url).strip()
        if not _URL.match(url):
            raise DocumentError(name, "url", value=url)
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            # The URL is shown with every answer: it must not carry a login.
            raise DocumentError(name, "url_credentials")
        clean["url"] = url
    if metadata.get("publisher"):
        clean["publisher"] = _one_line(name, "publisher", metadata["publisher"])
    language = str(metadata.get("language") or "").strip().lower()
    if language and not _LANGUAGE.match(language):
        raise DocumentError(name, "language", value=language)
    clean["language"] = language or detect_language(text)
    cites = metadata.get("cites") or ()
    if isinstance(cites, str):
        cites = [c.strip() for c in cites.split(";")]
    if not isinstance(cites, list | tuple) or not all(isinstance(c, str) for c in cites):
        raise DocumentError(name, "cites")
    clean["cites"] = tuple(c.strip() for c in cites if c.strip())
    return clean


def _one_line(name: str, key: str, value: Any) -> str:
    text = " ".join(str(value).split())
    if not text:
        raise DocumentError(name, "field_empty", missing=(key,), field=key)
    if len(text) > MAX_FIELD_CHARS:
        raise DocumentError(name, "field_long", field=key, limit=MAX_FIELD_CHARS)
    return text
