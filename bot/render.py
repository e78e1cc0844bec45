"""Answers -> Telegram HTML that Telegram always accepts.

Every piece of user or document text is escaped; messages stay under Telegram's length limit
(counted as Telegram counts: UTF-16 code units of the text after entity parsing), cut only at
sentence boundaries around the answering sentence.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram.constants import InlineQueryLimit, MessageLimit

from bot.i18n import t
from corpus.models import Hit, Source

_TAG = re.compile(r"<[^>]+>")
# Room kept free under the limit for the navigation line and a safety margin.
_MESSAGE_BUDGET = MessageLimit.MAX_TEXT_LENGTH - 96
#: Passages on one page of an answer.
PER_PAGE = 3


def esc(text: str) -> str:
    """Escape text for Telegram HTML (quotes too: it also goes into attributes)."""
    return html.escape(text, quote=True)


def visible_length(markup: str) -> int:
    """Length of ``markup`` as Telegram counts it: UTF-16 code units after entity parsing."""
    return len(html.unescape(_TAG.sub("", markup)).encode("utf-16-le")) // 2


def plain(markup: str) -> str:
    """The text of ``markup`` without tags (the fallback when Telegram refuses the HTML)."""
    return html.unescape(_TAG.sub("", markup))


def citation(source: Source, language: str, *, page: int | None = None) -> str:
    """Title (linked when there is a URL), publisher, date; the sources it relies on."""
    title = esc(source.title)
    if source.url:
        title = f'<a href="{esc(source.url)}">{title}</a>'
    parts = [f"📄 {title}"]
    if source.publisher:
        parts.append(esc(source.publisher))
    parts.append(esc(t(language, "published", date=source.published)))
    if page:
        parts.append(esc(t(language, "page", page=page)))
    line = " · ".join(parts)
    if source.cites:
        line += "\n<i>" + esc(t(language, "relies_on", cites=", ".join(source.cites))) + "</i>"
    return line


def quote(hit: Hit, *, budget: int) -> str:
    """The passage in a blockquote with the answering sentence in bold, within ``budget``.

    When the whole passage does not fit, whole sentences around the answering one are kept
    (following ones first) and the cuts are marked with an ellipsis.
    """
    text = hit.passage.text
    start, end = hit.highlight.start, hit.highlight.end
    pieces = [(s.start, s.end) for s in hit.passage.sentences] or [(0, len(text))]
    home = next((i for i, (s, e) in enumerate(pieces) if s <= start and end <= e), 0)

    def build(lo: int, hi: int) -> str:
        body = (
            esc(text[pieces[lo][0] : start])
            + "<b>"
            + esc(text[start:end])
            + "</b>"
            + esc(text[end : pieces[hi][1]])
        )
        prefix = "… " if lo > 0 else ""
        suffix = " …" if hi < len(pieces) - 1 else ""
        return f"<blockquote>{prefix}{body}{suffix}</blockquote>"

    low = high = home
    best = build(low, high)
    if visible_length(best) > budget:
        return _cut_sentence(text[start:end], budget)
    while True:
        for lo, hi in ((low, high + 1), (low - 1, high)):
            if lo >= 0 and hi < len(pieces):
                candidate = build(lo, hi)
                if visible_length(candidate) <= budget:
                    low, high, best = lo, hi, candidate
                    break
        else:
            return best


def _cut_sentence(sentence: str, budget: int) -> str:
    """A single sentence longer than the budget: cut at a word boundary."""
    room = max(budget - 20, 10)
    cut = sentence[:room]
    if " " in cut[room // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return f"<blockquote><b>{esc(cut)}</b> …</blockquote>"


def hit_block(hit: Hit, language: str, *, budget: int) -> str:
    """One passage and its citation."""
    cite = citation(hit.source, language, page=hit.passage.page)
    room = budget - visible_length(cite) - 2
    return quote(hit, budget=room) + "\n" + cite


@dataclass(frozen=True, slots=True)
class Page:
    """One page of an answer: its HTML and which hits it shows."""

    html: str
    first: int
    count: int


def answer_page(hits: Sequence[Hit], language: str, *, start: int = 0) -> Page:
    """Up to ``PER_PAGE`` passages from ``start`` that fit in one message."""
    blocks: list[str] = []
    used = 0
    for hit in hits[start : start + PER_PAGE]:
        remaining = _MESSAGE_BUDGET - used - 2
        # The first passage may use the whole message; later ones only what is left.
        block = hit_block(hit, language, budget=remaining if blocks else _MESSAGE_BUDGET)
        size = visible_length(block) + 2
        if blocks and used + size > _MESSAGE_BUDGET:
            break
        blocks.append(block)
        used += size
    return Page(html="\n\n".join(blocks), first=start, count=len(blocks))


def inline_title(hit: Hit) -> str:
    """The answering sentence, shortened for an inline result's title."""
    return shorten(hit.highlight_text, 120)


def inline_description(hit: Hit, language: str) -> str:
    """Source and date, for an inline result's description."""
    parts = [hit.source.publisher or hit.source.title, hit.source.published]
    return shorten(" · ".join(p for p in parts if p), 200)


def inline_message(hit: Hit, language: str) -> str:
    """The message an inline result posts: the passage and its citation."""
    return hit_block(hit, language, budget=_MESSAGE_BUDGET)


def shorten(text: str, limit: int) -> str:
    """Cut plain text at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut + "…"


#: Results per inline page (Telegram allows up to ``InlineQueryLimit.RESULTS``).
INLINE_PER_PAGE = min(10, InlineQueryLimit.RESULTS)
