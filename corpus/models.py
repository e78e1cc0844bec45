"""The core data types: frozen pydantic models shared by every layer."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from corpus.errors import REASONS

_PUBLISHED = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


class BadDate(ValueError):
    """A publication date that is not one; ``code`` is its reason in ``corpus.errors.REASONS``."""

    def __init__(self, code: str, value: str) -> None:
        super().__init__(REASONS[code].format(value=value))
        self.code = code
        self.value = value


def parse_published(value: object) -> str:
    """Normalise a publication date to ``YYYY-MM-DD`` or ``YYYY-MM``; ``BadDate`` if invalid."""
    if isinstance(value, date):
        return value.isoformat()[:10]
    text = str(value).strip()
    match = _PUBLISHED.match(text)
    if not match:
        raise BadDate("date_format", text)
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        # date() validates month and day ranges, including leap years.
        date(year, month, day or 1)  # type: ignore[arg-type]
    except ValueError as exc:
        raise BadDate("date_unreal", text) from exc
    return text


def earliest_day(published: str) -> date:
    """The first day a normalised publication date can mean (``2025-09`` is 1 September)."""
    year, month, *day = (int(part) for part in published.split("-"))
    return date(year, month, day[0] if day else 1)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Frozen):
    """A document of the corpus and everything needed to cite it."""

    id: str
    identity: str = Field(
        description="URL, else file name: re-ingesting the same identity replaces."
    )
    title: str
    published: str
    url: str | None = None
    publisher: str | None = None
    language: str = "en"
    cites: tuple[str, ...] = ()
    content_hash: str = ""
    passage_count: int = 0
    added_at: str | None = None
    #: The date the document as a whole counts to ("As of 1 February 2026, ..." in its lead),
    #: else its publication date (``corpus/dating.py``).
    as_of: str | None = None

    @field_validator("published", mode="before")
    @classmethod
    def _published(cls, value: object) -> str:
        return parse_published(value)

    def citation(self) -> str:
        """One line: title, publisher, date, URL (whichever are known)."""
        parts = [self.title]
        if self.publisher:
            parts.append(self.publisher)
        parts.append(self.published)
        if self.url:
            parts.append(self.url)
        return " · ".join(parts)


class Span(_Frozen):
    """A half-open character range ``[start, end)``."""

    start: int
    end: int


class Passage(_Frozen):
    """A run of whole sentences of one source, with its place in the source text."""

    id: int
    source_id: str
    ordinal: int
    text: str
    char_start: int
    char_end: int
    page: int | None = None
    language: str = "en"
    sentences: tuple[Span, ...] = Field(
        default=(), description="Sentence ranges relative to the passage text."
    )
    dates: tuple[str | None, ...] = Field(
        default=(), description="The date each sentence states its figures as of (ISO), if any."
    )

    def sentence_texts(self) -> list[str]:
        """The passage's sentences, stripped."""
        spans = self.sentences or (Span(start=0, end=len(self.text)),)
        return [self.text[s.start : s.end].strip() for s in spans]


class Hit(_Frozen):
    """One passage returned for a question, with the sentence that answers it."""

    passage: Passage
    source: Source
    score: float
    highlight: Span = Field(description="The answering sentence, relative to the passage text.")
    confidence: float = Field(
        default=0.0, description="The calibrated probability that the passage answers."
    )
    as_of: str | None = Field(
        default=None,
        description="When the answering sentence is true (ISO: day, month, year, or an "
        "interval of two for a span or a season, 2026-01/2026-04).",
    )
    as_of_sentence: str | None = Field(
        default=None,
        description="The sentence of the passage that states ``as_of``; None when it is the "
        "document's own date.",
    )
    figure: str | None = Field(
        default=None, description="The figure the answering sentence states, as written."
    )
    attribution: str | None = Field(
        default=None,
        description='Who the document says the statement comes from ("according to ...").',
    )

    @property
    def highlight_text(self) -> str:
        """The answering sentence itself."""
        return self.passage.text[self.highlight.start : self.highlight.end].strip()

    @property
    def link(self) -> str | None:
        """The source's URL opening at the answering sentence (a text fragment)."""
        return text_fragment(self.source.url, self.highlight_text) if self.source.url else None

    def to_json(self) -> dict[str, Any]:
        """One hit in the public JSON shape (documented in the README)."""
        return {
            "passage": self.passage.text,
            "highlight": self.highlight_text,
            "score": round(self.score, 4),
            "confidence": round(self.confidence, 4),
            "as_of": self.as_of,
            "as_of_sentence": self.as_of_sentence,
            "figure": self.figure,
            "attribution": self.attribution,
            "link": self.link,
            "source": {
                "id": self.source.id,
                "title": self.source.title,
                "url": self.source.url,
                "publisher": self.source.publisher,
                "published": self.source.published,
            },
        }


#: Words of a sentence a text fragment quotes from each end (``#:~:text=start,end``).
FRAGMENT_WORDS = 4
_FRAGMENT_UNSAFE = re.compile(r"[^A-Za-z0-9_.~]")


def _fragment_part(text: str) -> str:
    # Percent-encode everything but unreserved characters: "-", "," and "&" are syntax there.
    return _FRAGMENT_UNSAFE.sub(
        lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), text
    )


def text_fragment(url: str, sentence: str) -> str:
    """``url`` with a text fragment that makes Chrome, Edge and Safari open it scrolled to
    ``sentence`` and highlight it (https://wicg.github.io/scroll-to-text-fragment/)."""
    words = [w.strip("\"'«»“”„()[]") for w in sentence.split()]
    words = [w for w in words if w]
    if not words:
        return url
    words[-1] = words[-1].rstrip(".,;:!?…")
    if len(words) <= 2 * FRAGMENT_WORDS:
        directive = _fragment_part(" ".join(words))
    else:
        start = " ".join(words[:FRAGMENT_WORDS])
        end = " ".join(words[-FRAGMENT_WORDS:])
        directive = f"{_fragment_part(start)},{_fragment_part(end)}"
    joiner = ":~:text=" if "#" in url else "#:~:text="
    return f"{url}{joiner}{directive}"


class Answer(_Frozen):
    """The result of asking: the best hits, or none when nothing is reliable."""

    question: str
    answered: bool
    hits: tuple[Hit, ...] = ()
    language: str | None = None
    #: What the question asks about time: "current", "point" or "series".
    time: str = "current"
    #: Older figures for the same thing (newest first), beside the newest one leading ``hits``.
    earlier: tuple[Hit, ...] = ()
    #: Other sources giving a different figure for the same month as the first hit.
    differs: tuple[Hit, ...] = ()
    #: When not answered: the countries the question names (ISO 3166 codes) that no passage
    #: of the corpus names, so that a reader learns that other words will not help.
    not_covered: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape of an answer (documented in the README)."""
        return {
            "question": self.question,
            "answered": self.answered,
            "time": self.time,
            "hits": [h.to_json() for h in self.hits],
            "earlier": [h.to_json() for h in self.earlier],
            "differs": [h.to_json() for h in self.differs],
            "not_covered": list(self.not_covered),
        }
