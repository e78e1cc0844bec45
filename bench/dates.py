"""Dates: how often corpus.dates finds a sentence's as-of date and a question's time, and how fast.

Run: PYTHONPATH=. .venv/bin/python bench/dates.py [--quick]
Data: bench/data/dates.yaml (hand-written, labelled: sentences in English, Russian and Belarusian
with their true as-of date or none; questions with their true time intent; plain report text
without dates for timing). Reports, per language and per kind:

- **dateparser alone**, the naive baseline: ``dateparser.search.search_dates`` on the whole
  sentence (language given, relative base the publication date, past preferred), its first date
  at the precision ``DateDataParser`` gives it; for a question, a point in time if it finds a
  date, else the current state.
- **corpus.dates**, the pipeline (``as_of``, ``question_time``);
- **ablations**: the pipeline with one hand-written piece off (``DateOptions``), which is what
  that piece buys.
- **time per sentence**: ``as_of`` on every sentence of the timing text (no dates) and on the
  labelled sentences (with dates, dateparser's cache cleared first), median and p95.

Results are printed and written to bench/results/dates.json with the machine and load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml
from dateparser.date import DateDataParser
from dateparser.search import search_dates

from corpus import dates as dates_module
from corpus.dates import (
    DEFAULT_OPTIONS,
    DateOptions,
    TimeIntent,
    TimeKind,
    as_of,
    question_time,
)
from corpus.periods import Period

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "dates.yaml"
HELD_OUT = HERE / "data" / "dates_heldout.yaml"
RESULTS = HERE / "results"
LANGUAGES = ("en", "ru", "be")
#: Timing repeats each sentence this many times (the median of the repeats is one sample).
REPEATS = 50


@dataclass(frozen=True, slots=True)
class Sentence:
    language: str
    text: str
    published: Period
    truth: str | None  # "2026-02-01", "2026-02", "2026", "2025-04-21..2025-04-30" or None


@dataclass(frozen=True, slots=True)
class Question:
    language: str
    text: str
    today: date
    kind: TimeKind
    period: str | None


def load(path: Path) -> tuple[list[Sentence], list[Question], dict[str, list[str]]]:
    """The labelled sentences, questions and timing text of one file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    sentences = [
        Sentence(
            language,
            item["text"],
            Period.from_iso(str(item["published"])),
            None if item["as_of"] is None else str(item["as_of"]),
        )
        for language in LANGUAGES
        for item in data["sentences"][language]
    ]
    default_today = data["questions"]["today"]
    questions = [
        Question(
            language,
            item["text"],
            item.get("today", default_today),
            TimeKind(item["kind"]),
            None if item["period"] is None else str(item["period"]),
        )
        for language in LANGUAGES
        for item in data["questions"][language]
    ]
    timing = {
        language: [line.strip() for line in text.splitlines() if line.strip()]
        for language, text in data.get("timing", {}).items()
    }
    return sentences, questions, timing


def matches(found: Period | None, truth: str | None) -> bool:
    """Whether a found period is the labelled one (a range compares its days, else the iso)."""
    if truth is None or found is None:
        return truth is None and found is None
    if ".." in truth:
        first, last = truth.split("..")
        return (
            found.start == Period.from_iso(first).start and found.end == Period.from_iso(last).end
        )
    return found.iso() == truth


# -- the baseline ---------------------------------------------------------------------------------


def _settings(reference: date) -> dict[str, Any]:
    return {
        "RELATIVE_BASE": datetime(reference.year, reference.month, reference.day),
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": "DMY",
    }


def dateparser_alone(text: str, language: str, reference: date) -> Period | None:
    """The first date dateparser's search finds in the whole text, at its precision."""
    found = search_dates(text, languages=[language], settings=_settings(reference))
    if not found:
        return None
    phrase = found[0][0]
    data = DateDataParser(languages=[language], settings=_settings(reference)).get_date_data(phrase)
    value = (data.date_obj or found[0][1]).date()
    if data.period == "year":
        return Period.year(value.year)
    if data.period == "month":
        return Period.month(value.year, value.month)
    return Period.day(value)


def baseline_question(question: Question) -> TimeIntent:
    found = dateparser_alone(question.text, question.language, question.today)
    return TimeIntent(TimeKind.POINT, found) if found else TimeIntent(TimeKind.CURRENT)


# -- scoring --------------------------------------------------------------------------------------


def sentence_kind(sentence: Sentence) -> str:
    return "dated" if sentence.truth else "none"


def score_sentences(
    sentences: Sequence[Sentence], find: Callable[[Sentence], Period | None]
) -> tuple[dict[tuple[str, str], list[bool]], list[tuple[Sentence, Period | None]]]:
    """Correctness by (language, kind) and the misses."""
    scores: dict[tuple[str, str], list[bool]] = defaultdict(list)
    misses: list[tuple[Sentence, Period | None]] = []
    for sentence in sentences:
        found = find(sentence)
        right = matches(found, sentence.truth)
        scores[(sentence.language, sentence_kind(sentence))].append(right)
        scores[(sentence.language, "all")].append(right)
        if not right:
            misses.append((sentence, found))
    return scores, misses


def score_questions(
    questions: Sequence[Question], ask: Callable[[Question], TimeIntent]
) -> tuple[dict[tuple[str, str], list[bool]], list[tuple[Question, TimeIntent]]]:
    scores: dict[tuple[str, str], list[bool]] = defaultdict(list)
    misses: list[tuple[Question, TimeIntent]] = []
    for question in questions:
        intent = ask(question)
        right = intent.kind is question.kind and matches(intent.period, question.period)
        scores[(question.language, question.kind.value)].append(right)
        scores[(question.language, "all")].append(right)
        if not right:
            misses.append((question, intent))
    return scores, misses


def span(period: Period | None) -> str:
    return f"{period.start}..{period.end}" if period else "None"


def rate(values: Sequence[bool]) -> str:
    return f"{sum(values) / len(values):.3f} ({sum(values)}/{len(values)})" if values else "-"


def print_table(
    title: str, rows: dict[str, dict[tuple[str, str], list[bool]]], kinds: Sequence[str]
) -> None:
    print(f"\n{title}")
    columns = [(language, kind) for language in LANGUAGES for kind in kinds]
    header = ["method"] + [f"{language} {kind}" for language, kind in columns]
    print(" | ".join(header))
    for name, scores in rows.items():
        print(" | ".join([name] + [rate(scores.get(column, [])) for column in columns]))


# -- timing ---------------------------------------------------------------------------------------


def time_per_sentence(items: Sequence[tuple[str, str, Period]], *, cold: bool) -> dict[str, float]:
    """Median and p95 microseconds of ``as_of`` per sentence (each the median of repeats)."""
    samples: list[float] = []
    for text, language, published in items:
        if cold:
            dates_module._dateparser.cache_clear()
            start = time.perf_counter()
            as_of(text, language=language, published=published)
            samples.append((time.perf_counter() - start) * 1e6)
            continue
        repeats = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            as_of(text, language=language, published=published)
            repeats.append((time.perf_counter() - start) * 1e6)
        samples.append(statistics.median(repeats))
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return {
        "median_us": statistics.median(samples),
        "p95_us": p95,
        "mean_us": statistics.fmean(samples),
        "n": len(samples),
    }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "dateparser": version("dateparser"),
        "commit": commit,
    }


Rows = dict[str, dict[tuple[str, str], list[bool]]]


def evaluate(
    title: str,
    sentences: Sequence[Sentence],
    questions: Sequence[Question],
    *,
    ablations: bool,
    show_misses: bool,
) -> dict[str, Any]:
    """Print and return the accuracy tables of one labelled set."""

    def pipeline(options: DateOptions) -> Callable[[Sentence], Period | None]:
        return lambda s: as_of(s.text, language=s.language, published=s.published, options=options)

    def asker(options: DateOptions) -> Callable[[Question], TimeIntent]:
        return lambda q: question_time(q.text, language=q.language, today=q.today, options=options)

    sentence_rows: Rows = {}
    question_rows: Rows = {}
    sentence_rows["dateparser alone (search_dates)"], _ = score_sentences(
        sentences, lambda s: dateparser_alone(s.text, s.language, s.published.end)
    )
    question_rows["dateparser alone (search_dates)"], _ = score_questions(
        questions, baseline_question
    )
    sentence_rows["corpus.dates"], sentence_misses = score_sentences(
        sentences, pipeline(DEFAULT_OPTIONS)
    )
    question_rows["corpus.dates"], question_misses = score_questions(
        questions, asker(DEFAULT_OPTIONS)
    )
    if ablations:
        for option in fields(DateOptions):
            options = replace(DEFAULT_OPTIONS, **{option.name: False})
            sentence_rows[f"  without {option.name}"], _ = score_sentences(
                sentences, pipeline(options)
            )
            question_rows[f"  without {option.name}"], _ = score_questions(
                questions, asker(options)
            )
    print(f"\n== {title}: {len(sentences)} sentences, {len(questions)} questions")
    print_table("As-of dates of sentences (accuracy)", sentence_rows, ("all", "dated", "none"))
    print_table(
        "Time asked by questions (kind and period right)",
        question_rows,
        ("all", "current", "point", "series"),
    )
    if show_misses:
        print("\nMisses (sentences):")
        for sentence, found in sentence_misses:
            print(
                f"  [{sentence.language}] want {sentence.truth}, got {found and found.iso()} "
                f"({span(found)}): {sentence.text}"
            )
        print("Misses (questions):")
        for question, intent in question_misses:
            print(
                f"  [{question.language}] want {question.kind.value} {question.period}, got "
                f"{intent.kind.value} {span(intent.period)}: {question.text}"
            )

    def table(rows: Rows) -> dict[str, dict[str, str]]:
        return {
            name: {f"{lang} {kind}": rate(v) for (lang, kind), v in scores.items()}
            for name, scores in rows.items()
        }

    return {"sentences": table(sentence_rows), "questions": table(question_rows)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="30 items of each set, no ablations")
    parser.add_argument("--misses", action="store_true", help="print every miss of the pipeline")
    args = parser.parse_args()
    sets = {"dev set (dates.yaml, used to tune)": load(DATA), "held-out set": load(HELD_OUT)}
    timing = sets["dev set (dates.yaml, used to tune)"][2]
    info = machine()
    print(
        f"Machine: {info['cpu']}, {info['cores']} cores; python {info['python']}, "
        f"dateparser {info['dateparser']}; commit {info['commit']}"
    )
    print(f"Date: {info['date']}; load average (1/5/15 min): {info['load_average']}")

    # Warm up every language's locale data (50-170 ms each, once per process).
    for language in LANGUAGES:
        as_of(
            "1 May 2025 and 1 мая 2025 1 траўня 2025",
            language=language,
            published=Period.from_iso("2026"),
        )
    results: dict[str, Any] = {}
    for title, (sentences, questions, _) in sets.items():
        if args.quick:
            sentences, questions = sentences[:30], questions[:30]
        results[title] = evaluate(
            title, sentences, questions, ablations=not args.quick, show_misses=args.misses
        )
    sentences = [s for sentences, _, _ in sets.values() for s in sentences]

    plain = [
        (text, language, Period.from_iso("2026-02"))
        for language in LANGUAGES
        for text in timing[language]
    ]
    seed = (HERE.parent / "corpus" / "documents").glob("*.md")
    for path in seed:
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        plain.extend(
            (line.strip(), "en", Period.from_iso("2025-09"))
            for line in body.replace(". ", ".\n").splitlines()
            if line.strip()
        )
    timings = {
        "report text, no dates": time_per_sentence(plain, cold=False),
        "labelled sentences, warm cache": time_per_sentence(
            [(s.text, s.language, s.published) for s in sentences], cold=False
        ),
        "labelled sentences, cold cache": time_per_sentence(
            [(s.text, s.language, s.published) for s in sentences], cold=True
        ),
    }
    print("\nTime of as_of per sentence (µs)")
    for name, t in timings.items():
        print(
            f"  {name}: median {t['median_us']:.1f}, p95 {t['p95_us']:.1f}, "
            f"mean {t['mean_us']:.1f} (n={t['n']})"
        )
    print(f"Load average after: {[round(x, 2) for x in os.getloadavg()]}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": info,
        "results": results,
        "timing_us": timings,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    path = RESULTS / "dates.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"Written: {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
