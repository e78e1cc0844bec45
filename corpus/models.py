"""The core data types: frozen pydantic models shared by every layer."""

from __future__ import annotations

import re
from datetime import date

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
        default=0.0, description="How well the answering sentence matches (what is thresholded)."
    )

    @property
    def highlight_text(self) -> str:
        """The answering sentence itself."""
        return self.passage.text[self.highlight.start : self.highlight.end].strip()


class Answer(_Frozen):
    """The result of asking: the best hits, or none when nothing is reliable."""

    question: str
    answered: bool
    hits: tuple[Hit, ...] = ()
    language: str | None = None

    def to_json(self) -> dict[str, object]:
        """The public JSON shape of an answer (documented in the README)."""
        return {
            "question": self.question,
            "answered": self.answered,
            "hits": [
                {
                    "passage": h.passage.text,
                    "highlight": h.highlight_text,
                    "score": round(h.score, 4),
                    "source": {
                        "id": h.source.id,
                        "title": h.source.title,
                        "url": h.source.url,
                        "publisher": h.source.publisher,
                        "published": h.source.published,
                    },
                }
                for h in self.hits
            ],
        }
