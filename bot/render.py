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

from babel import Locale, UnknownLocaleError
from telegram.constants import InlineQueryLimit, MessageLimit

from bot.i18n import t
from corpus.models import Answer, Hit, Source
from corpus.periods import Period

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


def citation(
    source: Source,
    language: str,
    *,
    page: int | None = None,
    link: str | None = None,
    attribution: str | None = None,
) -> str:
    """Title (linked, at the quoted sentence when ``link`` has a text fragment), publisher (and
    who the document says the statement comes from), date; the sources it relies on."""
    title = esc(source.title)
    href = link or source.url
    if href:
        title = f'<a href="{esc(href)}">{title}</a>'
    parts = [f"📄 {title}"]
    who = source_line(source, attribution, language)
    if who:
        parts.append(esc(who))
    parts.append(esc(t(language, "published", date=source.published)))
    if page:
        parts.append(esc(t(language, "page", page=page)))
    line = " · ".join(parts)
    if source.cites:
        line += "\n<i>" + esc(t(language, "relies_on", cites=", ".join(source.cites))) + "</i>"
    return line


def source_line(source: Source, attribution: str | None, language: str) -> str | None:
    """The publisher, or "AP, via Example News" when the document attributes the statement."""
    if attribution and source.publisher:
        return t(language, "via", who=attribution, publisher=source.publisher)
    return attribution or source.publisher


def date_label(hit: Hit, language: str) -> str:
    """When the hit's answering sentence is true, as a reader says it ("1 November 2026")."""
    iso = hit.as_of or hit.source.published
    try:
        return Period.from_iso(iso).label(language)
    except ValueError:
        return iso


#: Words after a figure that say what it counts ("1,080 political prisoners").
_FIGURE_WORDS = 3
#: Words a figure's phrase never ends with ("1,080 political prisoners in").
_TRAILING = frozenset(
    [
        "in",
        "of",
        "on",
        "at",
        "for",
        "by",
        "from",
        "to",
        "and",
        "or",
        "the",
        "a",
        "an",
        "в",
        "во",
        "на",
        "по",
        "у",
        "ў",
        "з",
        "за",
        "и",
        "і",
        "а",
        "да",
        "ад",
        "до",
        "от",
        "для",
    ]
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


def figure_phrase(hit: Hit) -> str | None:
    """The figure of the answering sentence with the words after it that say what it counts,
    up to the next punctuation: "1,080 political prisoners", "1 080 палітвязняў"."""
    if not hit.figure:
        return None
    sentence = hit.highlight_text
    at = sentence.find(hit.figure)
    if at < 0:
        return hit.figure
    end = at + len(hit.figure)
    words: list[str] = []
    for match in _WORD.finditer(sentence, end):
        gap = sentence[end : match.start()]
        if gap.strip() or len(words) >= _FIGURE_WORDS:
            break
        words.append(match.group())
        end = match.end()
    while words and words[-1].lower() in _TRAILING:
        words.pop()
    return " ".join([hit.figure, *words])


def _source_name(hit: Hit) -> str:
    return hit.source.publisher or hit.source.title


def headline(hit: Hit, language: str) -> str | None:
    """The figure, its date and its source, in bold: what a reader must not miss."""
    phrase = figure_phrase(hit)
    if phrase is None:
        return None
    text = t(
        language, "lead", figure=phrase, date=date_label(hit, language), source=_source_name(hit)
    )
    return f"<b>{esc(text)}</b>"


def time_blocks(earlier: Sequence[Hit], differs: Sequence[Hit], language: str) -> str:
    """ "Sources differ" (each other source's figure for the same month) and "Earlier" (older
    figures, newest first), one line each."""
    blocks = []
    if differs:
        lines = [f"<b>{esc(t(language, 'differs_title'))}</b>"]
        for hit in differs:
            lines.append(
                esc(
                    t(
                        language,
                        "differs_line",
                        figure=figure_phrase(hit) or hit.highlight_text,
                        source=_source_name(hit),
                        date=date_label(hit, language),
                    )
                )
            )
        blocks.append("\n".join(lines))
    if earlier:
        lines = [f"<b>{esc(t(language, 'earlier_title'))}</b>"]
        for hit in earlier:
            lines.append(
                esc(
                    t(
                        language,
                        "earlier_line",
                        date=date_label(hit, language),
                        figure=figure_phrase(hit) or shorten(hit.highlight_text, 80),
                        source=_source_name(hit),
                    )
                )
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


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


def hit_block(hit: Hit, language: str, *, budget: int, lead: bool = False) -> str:
    """One passage and its citation; a ``lead`` passage opens with its figure and date."""
    cite = citation(
        hit.source,
        language,
        page=hit.passage.page,
        link=hit.link,
        attribution=hit.attribution,
    )
    top = headline(hit, language) if lead else None
    room = budget - visible_length(cite) - 2 - (visible_length(top) + 1 if top else 0)
    block = quote(hit, budget=room) + "\n" + cite
    return f"{top}\n{block}" if top else block


@dataclass(frozen=True, slots=True)
class Page:
    """One page of an answer: its HTML and which hits it shows."""

    html: str
    first: int
    count: int


def answer_page(
    hits: Sequence[Hit],
    language: str,
    *,
    start: int = 0,
    earlier: Sequence[Hit] = (),
    differs: Sequence[Hit] = (),
) -> Page:
    """Up to ``PER_PAGE`` passages from ``start`` that fit in one message. The first page
    leads with the first passage's figure and date, then "Sources differ" and "Earlier"."""
    blocks: list[str] = []
    used = 0
    times = time_blocks(earlier, differs, language) if start == 0 else ""
    reserved = visible_length(times) + 2 if times else 0
    for hit in hits[start : start + PER_PAGE]:
        remaining = _MESSAGE_BUDGET - used - 2 - reserved
        first = not blocks
        # The first passage may use the whole message; later ones only what is left.
        block = hit_block(
            hit,
            language,
            budget=remaining if blocks else _MESSAGE_BUDGET - reserved,
            lead=first and start == 0,
        )
        size = visible_length(block) + 2
        if blocks and used + size > _MESSAGE_BUDGET:
            break
        blocks.append(block)
        used += size
        if first and times:
            blocks.append(times)
    count = len(blocks) - (1 if times and blocks else 0)
    return Page(html="\n\n".join(blocks), first=start, count=count)


def country_names(codes: Sequence[str], language: str) -> str:
    """ISO 3166 codes as country names in ``language`` (CLDR, through Babel), comma-separated."""
    try:
        names = Locale.parse(language).territories
    except (UnknownLocaleError, ValueError):
        names = Locale.parse("en").territories
    return ", ".join(names.get(code, code) for code in codes)


def no_answer(answer: Answer, language: str) -> str:
    """Why nothing is shown (HTML): that no document names the country asked about, when none
    does (other words will not help), else that no passage is reliable enough."""
    if answer.not_covered:
        places = esc(country_names(answer.not_covered, language))
        return t(language, "no_answer_not_covered", places=places)
    return t(language, "no_answer")


def inline_title(hit: Hit, language: str) -> str:
    """The figure and its date when the sentence states one, else the answering sentence,
    shortened for an inline result's title (the date first: a reader picks by it)."""
    phrase = figure_phrase(hit)
    date = t(language, "as_of", date=date_label(hit, language))
    text = f"{phrase}, {date}" if phrase else f"{date}: {hit.highlight_text}"
    return shorten(text, 120)


def inline_description(hit: Hit, language: str) -> str:
    """The answering sentence and the source, for an inline result's description."""
    parts = [hit.highlight_text, _source_name(hit)]
    return shorten(" · ".join(p for p in parts if p), 200)


def inline_message(hit: Hit, language: str) -> str:
    """The message an inline result posts: the passage, led by its figure and date."""
    return hit_block(hit, language, budget=_MESSAGE_BUDGET, lead=True)


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
