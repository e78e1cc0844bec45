"""As-of dates on the realistic benchmark corpus: does a figure's sentence get the date TIMELINE.md
says the figure refers to?

Run: PYTHONPATH=. .venv/bin/python bench/dates_realistic.py [--root bench/realistic]
Reads each set under ``--root`` (``dev/``, ``test/``): its documents and TIMELINE.md. Every table
row of TIMELINE.md with an as-of day, a figure and the documents stating it gives checks: each
sentence of those documents that contains the figure is dated the way the lead's store will date
it (``sentence_dates`` over its passage, then ``passage_as_of`` with ``looks_back``) and compared
with the row's day. A date counts as right when it is within ``TOLERANCE_DAYS`` of that day (the
timeline writes "the end of October" as 1 November). Beside it: what a passage gets today, its
document's publication date. Then the set's questions.yaml: ``question_time`` (today as
TIMELINE.md says) must find the current state for its current-state and trap questions, a point
within ``TOLERANCE_DAYS`` of the figure's as-of date for point-in-time and disagreement questions,
and a series for series questions. Prints the rates per set and language, and every miss.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from corpus import dates as dates_module
from corpus.chunking import chunk_text
from corpus.dates import (
    TimeKind,
    document_as_of,
    figure_dates,
    looks_back,
    passage_as_of,
    question_time,
    sentence_dates,
)
from corpus.loaders import load_path
from corpus.periods import Period

HERE = Path(__file__).resolve().parent
#: A found period this close to the timeline's day is right ("на канец кастрычніка" is Oct 21-31).
TOLERANCE_DAYS = 3

_DAY = re.compile(r"^\**(\d{4}-\d{2}-\d{2})\**$")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_TODAY = re.compile(r'"Today" is (\d{4}-\d{2}-\d{2})')
#: The time kind each kind of question of the realistic sets asks for (others are not checked).
EXPECTED_KIND = {
    "current": TimeKind.CURRENT,
    "current_subgroup": TimeKind.CURRENT,
    "trap_old_in_new": TimeKind.CURRENT,
    "trap_newest_unrelated": TimeKind.CURRENT,
    "point_in_time": TimeKind.POINT,
    "disagreement": TimeKind.POINT,
    "series": TimeKind.SERIES,
}
_DOCUMENT = re.compile(r"\d{4}-\d{2}-\d{2}-[\w-]+?-(?:en|ru|be)\b")


@dataclass(frozen=True, slots=True)
class Check:
    document: str
    language: str
    figure: str
    truth: date
    sentence: str
    found: Period
    figure_found: Period
    published: Period


def timeline_rows(path: Path) -> list[tuple[date, str, list[str]]]:
    """(as-of day, figure, documents) of every table row that has all three."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        day_index = next((i for i, c in enumerate(cells) if _DAY.match(c)), None)
        if day_index is None or day_index + 1 >= len(cells):
            continue
        figure_cell = cells[day_index + 1]
        number = _NUMBER.search(figure_cell)
        if not number or "/" in figure_cell:
            continue
        documents = _DOCUMENT.findall(" ".join(cells[day_index + 2 :]))
        truth = date.fromisoformat(_DAY.match(cells[day_index]).group(1))  # type: ignore[union-attr]
        rows.append((truth, number.group(), documents))
    return rows


def figure_pattern(figure: str) -> re.Pattern[str]:
    """The figure as it may be written: 1,139 / 1 139 / 1139."""
    digits = figure.replace(",", "")
    body = rf"{digits[:-3]}[ ,\u00a0\u202f]?{digits[-3:]}" if len(digits) > 3 else digits
    return re.compile(rf"(?<![\d,.]){body}(?![\d]|[,.]\d)")


def checks(root: Path) -> list[Check]:
    found: list[Check] = []
    documents = {p.stem: p for p in (root / "documents").glob("*.md")}
    for truth, figure, names in timeline_rows(root / "TIMELINE.md"):
        pattern = figure_pattern(figure)
        for name in names:
            if name not in documents:
                continue
            document = load_path(documents[name])
            language = str(document.metadata.get("language") or name.rsplit("-", 1)[-1])
            published = Period.from_iso(str(document.metadata["published"]))
            chunks = chunk_text(document.text, language)
            every = [
                document.text[c.start + s.start : c.start + s.end]
                for c in chunks
                for s in c.sentences
            ]
            own = document_as_of(every, language=language, published=published)
            for chunk in chunks:
                # Sentence spans are relative to the passage.
                sentences = [
                    document.text[chunk.start + s.start : chunk.start + s.end]
                    for s in chunk.sentences
                ]
                dated = sentence_dates(
                    sentences, language=language, published=published, current=own
                )
                for index, sentence in enumerate(sentences):
                    if not pattern.search(sentence):
                        continue
                    back = [
                        d is not None
                        and looks_back(s, language=language, published=published, current=own)
                        for d, s in zip(dated, sentences, strict=True)
                    ]
                    period = passage_as_of(dated, index, own, back)
                    figures = figure_dates(
                        sentence, language=language, published=published, current=own
                    )
                    mine = [f.period for f in figures if pattern.fullmatch(f.text) and f.period]
                    found.append(
                        Check(
                            name,
                            language,
                            figure,
                            truth,
                            sentence,
                            period,
                            # The same number twice ("35 ... also 35"): the closer one.
                            min(mine, key=lambda p: p.distance_days(Period.day(truth)))
                            if mine
                            else period,
                            published,
                        )
                    )
    return found


def right(period: Period, truth: date) -> bool:
    return period.distance_days(Period.day(truth)) <= TOLERANCE_DAYS


def rates(items: list[Check]) -> list[str]:
    """Right / all for the passage date, the figure's date and the publication date."""
    out = []
    for pick in (lambda c: c.found, lambda c: c.figure_found, lambda c: c.published):
        good = sum(right(pick(c), c.truth) for c in items)
        out.append(f"{good}/{len(items)} ({good / len(items):.3f})")
    return out


def ingest_time(roots: list[Path]) -> tuple[int, float]:
    """Sentences and seconds for dating every sentence of every document as ingest would
    (document_as_of, then sentence_dates per passage), dateparser's cache empty at the start."""
    dates_module._dateparser.cache_clear()
    count, elapsed = 0, 0.0
    for root in roots:
        for path in sorted((root / "documents").glob("*.md")):
            document = load_path(path)
            language = str(document.metadata.get("language") or "en")
            published = Period.from_iso(str(document.metadata["published"]))
            chunks = chunk_text(document.text, language)
            passages = [
                [document.text[c.start + s.start : c.start + s.end] for s in c.sentences]
                for c in chunks
            ]
            start = time.perf_counter()
            every = [s for p in passages for s in p]
            own = document_as_of(every, language=language, published=published)
            for sentences in passages:
                sentence_dates(sentences, language=language, published=published, current=own)
            elapsed += time.perf_counter() - start
            count += len(every)
    return count, elapsed


def question_checks(root: Path) -> list[tuple[str, str, bool, str]]:
    """(language, kind, right, what was found) for every question of a kind in EXPECTED_KIND."""
    found = _TODAY.search((root / "TIMELINE.md").read_text(encoding="utf-8"))
    today = date.fromisoformat(found.group(1)) if found else date.today()
    results = []
    for item in yaml.safe_load((root / "questions.yaml").read_text(encoding="utf-8")):
        expected = EXPECTED_KIND.get(item["kind"])
        if expected is None:
            continue
        intent = question_time(item["question"], language=item["language"], today=today)
        right = intent.kind is expected
        if right and expected is TimeKind.POINT:
            truth = Period.day(date.fromisoformat(str(item["as_of"])))
            right = intent.period is not None and right_period(intent.period, truth)
        shown = f"{intent.kind.value} {intent.period.iso() if intent.period else ''}"
        results.append((item["language"], item["kind"], right, f"{shown}: {item['question']}"))
    return results


def right_period(period: Period, truth: Period) -> bool:
    return period.distance_days(truth) <= TOLERANCE_DAYS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=HERE / "realistic")
    args = parser.parse_args()
    sets = [p for p in sorted(args.root.iterdir()) if (p / "TIMELINE.md").exists()]
    if not sets:
        raise SystemExit(f"no set with a TIMELINE.md under {args.root}")
    print(f"load average (1/5/15 min): {[round(x, 2) for x in os.getloadavg()]}")
    for root in sets:
        results = checks(root)
        by_language: dict[str, list[Check]] = defaultdict(list)
        for check in results:
            by_language[check.language].append(check)
        print(f"\n{root.name}: {len(results)} figure sentences")
        print("language | sentence_dates + passage_as_of | figure_dates | published date only")
        for language in ("en", "ru", "be"):
            items = by_language.get(language, [])
            if not items:
                continue
            print(f"{language} | " + " | ".join(rates(items)))
        print("all | " + " | ".join(rates(results)))
        for check in results:
            if not right(check.figure_found, check.truth):
                print(
                    f"  miss [{check.document}] {check.figure}: want {check.truth}, got "
                    f"{check.figure_found.start}..{check.figure_found.end} (passage "
                    f"{check.found.start}..{check.found.end}): {check.sentence[:160]}"
                )
    for root in sets:
        if not (root / "questions.yaml").exists():
            continue
        asked = question_checks(root)
        print(f"\n{root.name}: question_time on {len(asked)} questions")
        for language in ("en", "ru", "be"):
            for kind in sorted({k for _, k, _, _ in asked}):
                rights = [r for lang, k, r, _ in asked if lang == language and k == kind]
                if rights:
                    print(f"  {language} {kind}: {sum(rights)}/{len(rights)}")
        print(f"  all: {sum(r for _, _, r, _ in asked)}/{len(asked)}")
        for language, kind, ok, what in asked:
            if not ok:
                print(f"  miss [{language} {kind}] {what}")
    count, elapsed = ingest_time(sets)
    print(
        f"\nDating every sentence of every document (cold dateparser cache): {count} sentences "
        f"in {elapsed * 1000:.0f} ms, {elapsed * 1e6 / count:.0f} µs per sentence on average"
    )
    print(f"load average (1/5/15 min): {[round(x, 2) for x in os.getloadavg()]}")


if __name__ == "__main__":
    main()
