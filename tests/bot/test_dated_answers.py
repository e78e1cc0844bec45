"""Figures over time in the chat: the newest figure leads with its date and source, older ones
under Earlier, disagreeing sources side by side; inline results carry the date. The corpus:
tests/data/dated (English newest, Russian and Belarusian older, two sources for June 2026)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.services import Services
from corpus.loaders import load_path
from tests.bot.conftest import MakeBot, RunningBot
from tests.documents import ROOT

CORPUS = ROOT / "tests" / "data" / "dated" / "documents"


async def dated_bot(make_bot: MakeBot, services: Services) -> RunningBot:
    services.ingest([load_path(p) for p in sorted(CORPUS.glob("*.md"))])
    return await make_bot(services)


async def test_the_newest_figure_leads_and_the_older_ones_follow(
    make_bot: MakeBot, make_services: Callable[..., Services]
) -> None:
    bot = await dated_bot(make_bot, make_services())
    fake = bot.fake
    fake.send_message("Сколько политзаключённых остаётся в Беларуси?", user_id=2001)
    text = (await fake.wait_for("sendMessage", chat_id=2001, timeout=30)).text
    # The lead, in bold, before the quote: the figure, its date, the source.
    lead = re.search(r"<b>([^<]*)</b>", text)
    assert lead is not None
    assert "1,105 political prisoners" in lead.group(1)
    assert "1 September 2026" in lead.group(1) and "Minsk Rights Monitor" in lead.group(1)
    assert text.index(lead.group(0)) < text.index("<blockquote>")
    # Earlier figures, newest first, each with its date and source.
    assert "Earlier:" in text
    earlier = text[text.index("Earlier:") :]
    assert earlier.index("1 March 2026") < earlier.index("1 September 2025")
    assert "1 150" in earlier and "1 190" in earlier
    # The citation links to the quoted sentence.
    assert "monitor.example.org/2026-09#:~:text=" in text
    assert fake.errors == []


async def test_two_sources_for_one_month_are_shown_side_by_side(
    make_bot: MakeBot, make_services: Callable[..., Services]
) -> None:
    bot = await dated_bot(make_bot, make_services())
    fake = bot.fake
    fake.send_message(
        "How many political prisoners were there in Belarus in June 2026?",
        user_id=2002,
        language_code="ru",
    )
    text = (await fake.wait_for("sendMessage", chat_id=2002, timeout=30)).text
    assert "Источники расходятся:" in text
    assert "1,128" in text and "1 187" in text
    assert fake.errors == []


async def test_inline_results_carry_the_date(
    make_bot: MakeBot, make_services: Callable[..., Services]
) -> None:
    bot = await dated_bot(make_bot, make_services())
    fake = bot.fake
    fake.send_inline_query("how many political prisoners remain in Belarus")
    results = (await fake.wait_for("answerInlineQuery", timeout=30)).params["results"]
    assert results
    assert "as of 1 September 2026" in results[0]["title"]
    assert "1,105" in results[0]["title"]
    assert fake.errors == []
