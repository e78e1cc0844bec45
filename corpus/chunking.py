"""Text -> passages of whole sentences, each with exact character offsets into the source text.

No passage is longer than ``ChunkingOptions.max_chars`` (at most ``MAX_PASSAGE_CHARS``): a
sentence longer than that (text without punctuation) is cut at word boundaries, and a word
longer than that between characters. The cost is linear in the length of the text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sentencex

from corpus.errors import DocumentError
from corpus.loaders import Document
from corpus.models import Span

#: The hard ceiling on a passage's length in characters (what an encoder reads is a few hundred
#: tokens anyway; an unbounded passage made USE-m3 allocate gigabytes).
MAX_PASSAGE_CHARS = 2_000
#: Passages of one document at most: each is embedded with its sentences, about 50 passages a
#: second on two cores, so this is a few minutes of embedding. Checked before any embedding.
MAX_PASSAGES = 5_000

_PARAGRAPH = re.compile(r"\n\s*\n|\n")
# A break before a lower-case letter is an abbreviation ("и др. оппозиционеры", "e.g. this").
_STARTS_LOWER = re.compile(r"^\W*[a-zа-яёіў]", re.UNICODE)
# A break after a lone capital is an initial ("А. Бяляцкі", "J. Smith").
_ENDS_WITH_INITIAL = re.compile(r"(?:^|[\s(«\"“])\w\.\s*$", re.UNICODE)
_INITIAL_AT_END = re.compile(r"[\s(«\"“]\w\.\s*$", re.UNICODE)
_TAIL = 16


@dataclass(frozen=True, slots=True)
class Chunk:
    """One passage before it is stored: offsets into the document text, sentence spans inside it."""

    start: int
    end: int
    page: int | None
    sentences: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class ChunkingOptions:
    """How many sentences a passage holds, and a character ceiling for very long sentences."""

    target_sentences: int = 3
    min_sentences: int = 2
    max_sentences: int = 4
    max_chars: int = 1200

    def __post_init__(self) -> None:
        if not 1 <= self.max_chars <= MAX_PASSAGE_CHARS:
            raise ValueError(f"max_chars must be between 1 and {MAX_PASSAGE_CHARS}")


def chunk_document(document: Document, options: ChunkingOptions | None = None) -> list[Chunk]:
    """The passages of a loaded document; ``DocumentError`` if it would make too many."""
    chunks = chunk_text(
        document.text,
        document.metadata["language"],
        pages=document.pages,
        options=options,
        limit=MAX_PASSAGES,
    )
    if len(chunks) > MAX_PASSAGES:
        raise DocumentError(document.name, "too_many_passages", limit=MAX_PASSAGES)
    return chunks


def chunk_text(
    text: str,
    language: str,
    *,
    pages: Sequence[Span] = (),
    options: ChunkingOptions | None = None,
    limit: int | None = None,
) -> list[Chunk]:
    """Split a document into passages of whole sentences.

    Passages never cross a page (``pages`` are the page ranges of a PDF, numbered from 1) and only
    cross a paragraph break to carry a lone short sentence, such as a heading, into what follows.
    With ``limit``, splitting stops once there are more than ``limit`` passages.
    """
    options = options or ChunkingOptions()
    regions = list(pages) or [Span(start=0, end=len(text))]
    chunks: list[Chunk] = []
    for number, region in enumerate(regions, start=1):
        page = number if pages else None
        carried: list[Span] = []
        for paragraph in _paragraphs(text, region):
            sentences = carried + _bounded(text, _sentences(text, paragraph, language), options)
            carried = []
            if len(sentences) == 1 and len(text[sentences[0].start : sentences[0].end]) < 200:
                carried = sentences
                continue
            chunks.extend(_group(text, sentences, page, options))
            if limit is not None and len(chunks) > limit:
                return chunks
        if carried:
            chunks.extend(_group(text, carried, page, options))
    return chunks


def _paragraphs(text: str, region: Span | None = None) -> Iterator[Span]:
    # A generator: a text of short lines has as many paragraphs as lines.
    start, end = (region.start, region.end) if region else (0, len(text))
    cursor = start
    for match in _PARAGRAPH.finditer(text, start, end):
        span = _strip(text, Span(start=cursor, end=match.start()))
        if span.end > span.start:
            yield span
        cursor = match.end()
    span = _strip(text, Span(start=cursor, end=end))
    if span.end > span.start:
        yield span


def _strip(text: str, span: Span) -> Span:
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start=start, end=end)


def _sentences(text: str, paragraph: Span, language: str) -> list[Span]:
    chunk = text[paragraph.start : paragraph.end]
    raw: list[Span] = []
    cursor = 0
    for sentence in sentencex.segment(language if language else "en", chunk):
        # sentencex returns consecutive pieces of the input; find each to get exact offsets.
        found = chunk.find(sentence.strip(), cursor) if sentence.strip() else -1
        if found < 0:
            continue
        end = found + len(sentence.strip())
        raw.append(Span(start=found, end=end))
        cursor = end
    merged: list[Span] = []
    for span in raw:
        if merged and (
            _STARTS_LOWER.match(chunk[span.start : span.end])
            or _ends_with_initial(chunk, merged[-1])
        ):
            merged[-1] = Span(start=merged[-1].start, end=span.end)
        else:
            merged.append(span)
    if not merged:
        merged = [Span(start=0, end=len(chunk))]
    return [Span(start=s.start + paragraph.start, end=s.end + paragraph.start) for s in merged]


def _ends_with_initial(chunk: str, span: Span) -> bool:
    # Only the end of the sentence is looked at: a sentence grown by merging can be long, and
    # searching all of it at every merge would be quadratic.
    if span.end - span.start <= _TAIL:
        return bool(_ENDS_WITH_INITIAL.search(chunk[span.start : span.end]))
    return bool(_INITIAL_AT_END.search(chunk[span.end - _TAIL : span.end]))


def _bounded(text: str, sentences: list[Span], options: ChunkingOptions) -> list[Span]:
    """The sentences, with any longer than ``max_chars`` cut at word boundaries."""
    limit = options.max_chars
    out: list[Span] = []
    for sentence in sentences:
        start = sentence.start
        while sentence.end - start > limit:
            # The last whitespace within the limit, if any; else cut between characters.
            cut = _last_space(text, start + 1, start + limit)
            end = cut if cut > start else start + limit
            piece = _strip(text, Span(start=start, end=end))
            if piece.end > piece.start:
                out.append(piece)
            start = end
        piece = _strip(text, Span(start=start, end=sentence.end))
        if piece.end > piece.start:
            out.append(piece)
    return out


def _last_space(text: str, start: int, end: int) -> int:
    """The index of the last whitespace character in ``text[start:end]``, or -1."""
    for index in range(end - 1, start - 1, -1):
        if text[index].isspace():
            return index
    return -1


def _group(
    text: str, sentences: list[Span], page: int | None, options: ChunkingOptions
) -> list[Chunk]:
    n = len(sentences)
    groups = max(math.ceil(n / options.max_sentences), round(n / options.target_sentences), 1)
    base, extra = divmod(n, groups)
    chunks: list[Chunk] = []
    index = 0
    for g in range(groups):
        size = base + (1 if g < extra else 0)
        chunks.extend(_limit_chars(text, sentences[index : index + size], page, options))
        index += size
    return chunks


def _limit_chars(
    text: str, sentences: list[Span], page: int | None, options: ChunkingOptions
) -> list[Chunk]:
    """Split a group further while it is longer than ``max_chars`` (never inside a sentence)."""
    out: list[Chunk] = []
    current: list[Span] = []
    for sentence in sentences:
        if current and sentence.end - current[0].start > options.max_chars:
            out.append(_chunk(current, page))
            current = []
        current.append(sentence)
    if current:
        out.append(_chunk(current, page))
    return out


def _chunk(sentences: list[Span], page: int | None) -> Chunk:
    start, end = sentences[0].start, sentences[-1].end
    relative = tuple(Span(start=s.start - start, end=s.end - start) for s in sentences)
    return Chunk(start=start, end=end, page=page, sentences=relative)
