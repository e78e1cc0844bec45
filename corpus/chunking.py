"""Text -> passages of whole sentences, each with exact character offsets into the source text."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import sentencex

from corpus.models import Span

_PARAGRAPH = re.compile(r"\n\s*\n|\n")
# A break before a lower-case letter is an abbreviation ("и др. оппозиционеры", "e.g. this").
_STARTS_LOWER = re.compile(r"^\W*[a-zа-яёіў]", re.UNICODE)
# A break after a lone capital is an initial ("А. Бяляцкі", "J. Smith").
_ENDS_WITH_INITIAL = re.compile(r"(?:^|[\s(«\"“])\w\.\s*$", re.UNICODE)


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


def chunk_text(
    text: str,
    language: str,
    *,
    pages: Sequence[Span] = (),
    options: ChunkingOptions | None = None,
) -> list[Chunk]:
    """Split a document into passages of whole sentences.

    Passages never cross a page (``pages`` are the page ranges of a PDF, numbered from 1) and only
    cross a paragraph break to carry a lone short sentence, such as a heading, into what follows.
    """
    options = options or ChunkingOptions()
    regions = list(pages) or [Span(start=0, end=len(text))]
    chunks: list[Chunk] = []
    for number, region in enumerate(regions, start=1):
        page = number if pages else None
        carried: list[Span] = []
        for paragraph in _paragraphs(text, region):
            sentences = carried + _sentences(text, paragraph, language)
            carried = []
            if len(sentences) == 1 and len(text[sentences[0].start : sentences[0].end]) < 200:
                carried = sentences
                continue
            chunks.extend(_group(text, sentences, page, options))
        if carried:
            chunks.extend(_group(text, carried, page, options))
    return chunks


def _paragraphs(text: str, region: Span | None = None) -> list[Span]:
    start, end = (region.start, region.end) if region else (0, len(text))
    spans: list[Span] = []
    cursor = start
    for match in _PARAGRAPH.finditer(text, start, end):
        spans.append(Span(start=cursor, end=match.start()))
        cursor = match.end()
    spans.append(Span(start=cursor, end=end))
    return [s for s in (_strip(text, s) for s in spans) if s.end > s.start]


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
        piece = chunk[span.start : span.end]
        if merged and (
            _STARTS_LOWER.match(piece)
            or _ENDS_WITH_INITIAL.search(chunk[merged[-1].start : merged[-1].end])
        ):
            merged[-1] = Span(start=merged[-1].start, end=span.end)
        else:
            merged.append(span)
    if not merged:
        merged = [Span(start=0, end=len(chunk))]
    return [Span(start=s.start + paragraph.start, end=s.end + paragraph.start) for s in merged]


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
