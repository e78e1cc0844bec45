"""The realistic benchmark: dated reports in three languages and questions asked as people ask.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/realistic.py --validate      # check every set (seconds)
    PYTHONPATH=. .venv/bin/python bench/realistic.py                 # ask the test set (minutes)
    PYTHONPATH=. .venv/bin/python bench/realistic.py --set dev       # the set weights are fitted on

A set is a folder (``bench/realistic/test``, ``bench/realistic/dev``, the small corpora under
``tests/data/``) with ``set.yaml`` (``today``, a description, optional minimum counts),
``documents/*.md`` (the project's own Markdown with front matter) and ``questions.yaml``: a list
of questions, each with gold passages named by document file and a verbatim snippet of the
answering passage. See bench/README.md (Realistic benchmark) for the kinds.

``--validate`` loads every document with the project's loader, chunks it with the Indexer's own
options and checks that every gold snippet lies inside one passage, plus the rules of each kind;
it prints the counts per kind and language. Without it, the set is ingested with the real
``Indexer`` into a temporary data directory and every question is asked through
``Library.search(question, k=5)`` in the default configuration (confidence bars on), reporting
hit@1 and hit@5 per language, per kind and overall, and the refused shares. The evaluation
(``evaluate``) is a pure function of the answers and the questions.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

# `python bench/realistic.py` puts bench/ on the path, not the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus.chunking import ChunkingOptions, chunk_text
from corpus.errors import DocumentError
from corpus.loaders import Document, load_path
from corpus.models import parse_published
from retrieval.config import RetrievalConfig

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
SETS_DIR = BENCH_DIR / "realistic"
#: The sets ``--validate`` checks when none is named: the benchmark sets (test; dev and the two
#: train sets, fitted on) and the test corpora.
KNOWN_SETS = {
    "test": SETS_DIR / "test",
    "dev": SETS_DIR / "dev",
    "train-ngo": SETS_DIR / "train-ngo",
    "train-exile": SETS_DIR / "train-exile",
    "mixed": ROOT / "tests" / "data" / "mixed",
    "dated": ROOT / "tests" / "data" / "dated",
}
LANGUAGES = ("en", "ru", "be")
#: How many passages each question asks for (the chat shows up to this many per page).
ASK_K = 5

# Question kinds. Those in TIMED need ``as_of``: the date the right answer's figure refers to.
PARAPHRASE = "paraphrase"
LEXICAL = "lexical"
CROSS_LANGUAGE = "cross_language"
CURRENT = "current"
CURRENT_SUBGROUP = "current_subgroup"
POINT_IN_TIME = "point_in_time"
SERIES = "series"
#: Distinct dates of a series the shown passages must reach (of ``ASK_K`` shown).
SERIES_POINTS = 3
DISAGREEMENT = "disagreement"
TRAP_OLD_IN_NEW = "trap_old_in_new"
TRAP_NEWEST_UNRELATED = "trap_newest_unrelated"
OFFTOPIC = "offtopic"
#: The kinds that ask for the current state of a changing figure.
CURRENT_KINDS = ("current", "current_subgroup", "trap_old_in_new", "trap_newest_unrelated")
KINDS = (
    PARAPHRASE,
    LEXICAL,
    CROSS_LANGUAGE,
    CURRENT,
    CURRENT_SUBGROUP,
    POINT_IN_TIME,
    SERIES,
    DISAGREEMENT,
    TRAP_OLD_IN_NEW,
    TRAP_NEWEST_UNRELATED,
    OFFTOPIC,
)
TIMED = frozenset(
    {CURRENT, CURRENT_SUBGROUP, POINT_IN_TIME, DISAGREEMENT, TRAP_OLD_IN_NEW, TRAP_NEWEST_UNRELATED}
)
#: Kinds whose question must not borrow the gold snippet's wording.
REWORDED = frozenset({PARAPHRASE, CROSS_LANGUAGE})

_QUESTION_FIELDS = frozenset(
    {
        "id",
        "language",
        "kind",
        "question",
        "answers",
        "as_of",
        "from",
        "to",
        "all",
        "earlier",
        "traps",
        "note",
    }
)
_GOLD_FIELDS = frozenset({"document", "text", "as_of"})
_SET_FIELDS = frozenset({"name", "today", "description", "minimums"})


class InvalidSet(ValueError):
    """A set that cannot be loaded or breaks the rules; ``problems`` lists every finding."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        listed = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s)\n{listed}")


# -- the data --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Gold:
    """A passage named by its document's file name and a verbatim snippet of it."""

    document: str
    text: str
    #: For a series: the date this passage's figure refers to.
    as_of: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """One question and what a right answer is."""

    id: str
    language: str
    kind: str
    question: str
    #: Any of them is a right answer; none for an off-topic question.
    answers: tuple[Gold, ...]
    as_of: str | None = None
    #: The span a series question asks about.
    span_from: str | None = None
    span_to: str | None = None
    #: Every answer must be shown (two sources disagreeing).
    all: bool = False
    #: Passages with an older figure for the same quantity: stale answers.
    earlier: tuple[Gold, ...] = ()
    #: Passages that look like an answer and are not.
    traps: tuple[Gold, ...] = ()
    note: str | None = None

    @property
    def answerable(self) -> bool:
        """Whether the corpus answers it (off-topic questions are not)."""
        return bool(self.answers)


@dataclass(frozen=True, slots=True)
class Minimums:
    """The least a set must hold (from set.yaml), so that lost data is noticed."""

    documents: Mapping[str, int] = field(default_factory=dict)
    publishers: int = 0
    #: Per kind, for each of the three languages.
    questions: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RealisticSet:
    """A loaded set: its documents (as the project's loader reads them) and questions."""

    name: str
    path: Path
    today: str
    description: str
    documents: tuple[Document, ...]
    questions: tuple[Question, ...]
    minimums: Minimums = field(default_factory=Minimums)

    def document(self, name: str) -> Document | None:
        """The document with file name ``name``, if the set has it."""
        return next((d for d in self.documents if d.name == name), None)


def load_set(path: Path) -> RealisticSet:
    """Read a set folder; ``InvalidSet`` lists every problem of form (see ``check_set``)."""
    problems: list[str] = []
    meta = _read_yaml(path / "set.yaml", problems)
    if not isinstance(meta, dict):
        raise InvalidSet(path, [*problems, "set.yaml must be a mapping"])
    problems += [f"set.yaml: unknown field {k!r}" for k in sorted(set(meta) - _SET_FIELDS)]
    today = _date_text(meta.get("today"), "set.yaml: today", problems)
    documents: list[Document] = []
    files = sorted((path / "documents").glob("*.md"))
    if not files:
        problems.append("no documents/*.md")
    for file in files:
        try:
            documents.append(load_path(file))
        except DocumentError as exc:
            problems.append(str(exc))  # names the file
    raw = _read_yaml(path / "questions.yaml", problems)
    questions: list[Question] = []
    if not isinstance(raw, list):
        problems.append("questions.yaml must be a list of questions")
        raw = []
    for index, item in enumerate(raw):
        question = _question(item, index, problems)
        if question is not None:
            questions.append(question)
    if problems:
        raise InvalidSet(path, problems)
    return RealisticSet(
        name=str(meta.get("name") or path.name),
        path=path,
        today=today or "",
        description=" ".join(str(meta.get("description") or "").split()),
        documents=tuple(documents),
        questions=tuple(questions),
        minimums=_minimums(meta.get("minimums") or {}),
    )


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.append(f"{path.name}: cannot read ({exc.strerror or exc})")
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: not valid YAML ({exc})")
    return None


def _date_text(value: object, where: str, problems: list[str]) -> str | None:
    if value is None:
        return None
    try:
        return parse_published(value)
    except ValueError as exc:
        problems.append(f"{where}: {exc}".replace("published must be", "must be"))
        return None


def _golds(value: object, where: str, problems: list[str]) -> tuple[Gold, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(f"{where} must be a list")
        return ()
    golds: list[Gold] = []
    for i, item in enumerate(value):
        here = f"{where}[{i}]"
        if not isinstance(item, dict) or not {"document", "text"} <= set(item):
            problems.append(f"{here} needs document and text")
            continue
        unknown = sorted(set(item) - _GOLD_FIELDS)
        if unknown:
            problems.append(f"{here}: unknown field {unknown[0]!r}")
        text = str(item["text"])
        if not text.strip():
            problems.append(f"{here}: empty text")
        golds.append(
            Gold(
                document=str(item["document"]),
                text=text,
                as_of=_date_text(item.get("as_of"), f"{here}.as_of", problems),
            )
        )
    return tuple(golds)


def _question(item: object, index: int, problems: list[str]) -> Question | None:
    if not isinstance(item, dict):
        problems.append(f"question #{index + 1} is not a mapping")
        return None
    qid = str(item.get("id") or f"#{index + 1}")
    missing = [k for k in ("id", "language", "kind", "question") if not item.get(k)]
    if missing:
        problems.append(f"{qid}: missing {', '.join(missing)}")
        return None
    unknown = sorted(set(item) - _QUESTION_FIELDS)
    if unknown:
        problems.append(f"{qid}: unknown field {unknown[0]!r}")
    if "answers" not in item:
        problems.append(f"{qid}: missing answers (an off-topic question has answers: [])")
    return Question(
        id=qid,
        language=str(item["language"]),
        kind=str(item["kind"]),
        question=str(item["question"]),
        answers=_golds(item.get("answers"), f"{qid}.answers", problems),
        as_of=_date_text(item.get("as_of"), f"{qid}.as_of", problems),
        span_from=_date_text(item.get("from"), f"{qid}.from", problems),
        span_to=_date_text(item.get("to"), f"{qid}.to", problems),
        all=bool(item.get("all", False)),
        earlier=_golds(item.get("earlier"), f"{qid}.earlier", problems),
        traps=_golds(item.get("traps"), f"{qid}.traps", problems),
        note=str(item["note"]) if item.get("note") is not None else None,
    )


def _minimums(raw: object) -> Minimums:
    if not isinstance(raw, dict):
        return Minimums()
    return Minimums(
        documents={str(k): int(v) for k, v in (raw.get("documents") or {}).items()},
        publishers=int(raw.get("publishers") or 0),
        questions={str(k): int(v) for k, v in (raw.get("questions") or {}).items()},
    )


# -- validation ------------------------------------------------------------------------------


def passages(document: Document, options: ChunkingOptions) -> list[str]:
    """The passage texts the Indexer stores for ``document``."""
    chunks = chunk_text(
        document.text, document.metadata["language"], pages=document.pages, options=options
    )
    return [document.text[c.start : c.end] for c in chunks]


@dataclass(frozen=True, slots=True)
class Chunked:
    """A document and the passage texts the Indexer makes of it."""

    document: Document
    texts: tuple[str, ...]


def _day(text: str) -> date:
    """A YYYY-MM or YYYY-MM-DD text as a date (the first of the month for a month)."""
    year, month, *day = (int(p) for p in text.split("-"))
    return date(year, month, day[0] if day else 1)


@dataclass(frozen=True, slots=True)
class Validation:
    """What ``check_set`` found: the problems (none when valid) and the counts."""

    problems: tuple[str, ...]
    #: Questions by (language, kind).
    questions: Mapping[tuple[str, str], int]
    #: Documents by language, and the number of publishers.
    documents: Mapping[str, int]
    publishers: int
    passages: int

    @property
    def valid(self) -> bool:
        """Whether the set keeps every rule."""
        return not self.problems


def check_set(s: RealisticSet, *, options: ChunkingOptions | None = None) -> Validation:
    """Check every rule of the data (see the module docstring); never raises for bad data."""
    options = options or RetrievalConfig().chunking()
    problems: list[str] = []
    chunked = {d.name: Chunked(document=d, texts=tuple(passages(d, options))) for d in s.documents}
    languages = {d.name: d.metadata["language"] for d in s.documents}
    today = _day(s.today) if s.today else None
    if today is None:
        problems.append("set.yaml: today is missing")
    for d in s.documents:
        if languages[d.name] not in LANGUAGES:
            problems.append(f"{d.name}: language {languages[d.name]!r} is not one of {LANGUAGES}")
        if today and _day(d.metadata["published"]) > today:
            problems.append(f"{d.name}: published after today ({s.today})")
    ids = Counter(q.id for q in s.questions)
    problems += [f"{qid}: id used {n} times" for qid, n in ids.items() if n > 1]
    for q in s.questions:
        problems += _question_problems(q, s, chunked, languages, today)
    counts = Counter((q.language, q.kind) for q in s.questions)
    documents = Counter(languages.values())
    publishers = len({d.metadata.get("publisher") for d in s.documents} - {None})
    problems += _shortfalls(s.minimums, counts, documents, publishers)
    return Validation(
        problems=tuple(problems),
        questions=dict(counts),
        documents=dict(documents),
        publishers=publishers,
        passages=sum(len(c.texts) for c in chunked.values()),
    )


def _question_problems(
    q: Question,
    s: RealisticSet,
    chunked: Mapping[str, Chunked],
    languages: Mapping[str, str],
    today: date | None,
) -> list[str]:
    out: list[str] = []
    if q.language not in LANGUAGES:
        out.append(f"{q.id}: language {q.language!r} is not one of {LANGUAGES}")
    if q.kind not in KINDS:
        out.append(f"{q.id}: unknown kind {q.kind!r} (known: {', '.join(KINDS)})")
        return out
    if (q.kind == OFFTOPIC) == q.answerable:
        out.append(f"{q.id}: an off-topic question has no answers, every other kind has some")
    if q.kind in TIMED and q.as_of is None:
        out.append(f"{q.id}: kind {q.kind} needs as_of")
    if q.as_of and today and _day(q.as_of) > today:
        out.append(f"{q.id}: as_of {q.as_of} is after today")
    for name, golds in (("answers", q.answers), ("earlier", q.earlier), ("traps", q.traps)):
        for gold in golds:
            out += _gold_problems(q.id, name, gold, chunked)
    answer_keys = {(g.document, g.text) for g in q.answers}
    for gold in (*q.earlier, *q.traps):
        if (gold.document, gold.text) in answer_keys:
            out.append(f"{q.id}: {gold.text!r} is both an answer and a stale answer or trap")
    answer_languages = {languages.get(g.document) for g in q.answers}
    if q.kind == CROSS_LANGUAGE and q.language in answer_languages:
        out.append(f"{q.id}: a cross-language question has an answer in its own language")
    if q.kind in (PARAPHRASE, LEXICAL) and q.answerable and q.language not in answer_languages:
        out.append(f"{q.id}: a {q.kind} question needs an answer in its own language")
    if q.kind in REWORDED:
        asked = q.question.casefold()
        out += [
            f"{q.id}: the question copies the gold snippet {g.text!r}"
            for g in q.answers
            if g.text.casefold() in asked
        ]
    if q.kind == SERIES:
        out += _series_problems(q)
    if q.kind == DISAGREEMENT and (not q.all or len({g.document for g in q.answers}) < 2):
        out.append(f"{q.id}: a disagreement needs all: true and answers from two documents")
    if q.kind == TRAP_OLD_IN_NEW and not q.earlier:
        out.append(f"{q.id}: a trap_old_in_new question names the old figure in earlier")
    if q.kind == TRAP_NEWEST_UNRELATED and not q.traps:
        out.append(f"{q.id}: a trap_newest_unrelated question names the unrelated passage in traps")
    return out


def _gold_problems(qid: str, name: str, gold: Gold, chunked: Mapping[str, Chunked]) -> list[str]:
    found = chunked.get(gold.document)
    if found is None:
        return [f"{qid}.{name}: no document {gold.document!r}"]
    if not any(gold.text in t for t in found.texts):
        # Tell apart a snippet that is not in the text from one the chunker cut in two.
        whole = found.document.text
        why = "straddles two passages" if gold.text in whole else "does not occur in the document"
        return [f"{qid}.{name}: {gold.text!r} {why} ({gold.document})"]
    return []


def _series_problems(q: Question) -> list[str]:
    out: list[str] = []
    if q.span_from is None or q.span_to is None:
        out.append(f"{q.id}: a series needs from and to")
    if len(q.answers) < 2:
        out.append(f"{q.id}: a series needs at least two passages")
    dates = [g.as_of for g in q.answers]
    if None in dates:
        return [*out, f"{q.id}: every passage of a series needs its as_of"]
    days = [_day(d) for d in dates if d]
    if days != sorted(days):
        out.append(f"{q.id}: the passages of a series must be in date order, oldest first")
    if q.span_from and q.span_to and days:
        low, high = _day(q.span_from), _day(q.span_to)
        out += [
            f"{q.id}: passage dated {d} is outside {q.span_from}..{q.span_to}"
            for d in days
            if not low <= d <= high
        ]
    return out


def _shortfalls(
    minimums: Minimums,
    counts: Mapping[tuple[str, str], int],
    documents: Mapping[str, int],
    publishers: int,
) -> list[str]:
    out = [
        f"{n} {language} documents required, {documents.get(language, 0)} found"
        for language, n in minimums.documents.items()
        if documents.get(language, 0) < n
    ]
    if publishers < minimums.publishers:
        out.append(f"{minimums.publishers} publishers required, {publishers} found")
    for kind, n in minimums.questions.items():
        out += [
            f"{n} {language} {kind} questions required, {counts.get((language, kind), 0)} found"
            for language in LANGUAGES
            if counts.get((language, kind), 0) < n
        ]
    return out


def validate(path: Path) -> Validation:
    """Load and check the set at ``path`` (a load failure is reported as problems)."""
    try:
        s = load_set(path)
    except InvalidSet as exc:
        return Validation(
            problems=exc.problems, questions={}, documents={}, publishers=0, passages=0
        )
    return check_set(s)


# -- evaluation (pure) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Returned:
    """One passage an answer showed: its document's file name and its text."""

    document: str
    text: str


@dataclass(frozen=True, slots=True)
class Asked:
    """What asking one question gave: whether it was answered, and the passages, best first."""

    question_id: str
    answered: bool
    hits: tuple[Returned, ...] = ()


def matches(hit: Returned, gold: Gold) -> bool:
    """A hit is this gold passage: the same document, and the snippet inside the passage."""
    return hit.document == gold.document and gold.text in hit.text


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one question fared."""

    id: str
    language: str
    kind: str
    answered: bool
    #: 0-based rank of the first right passage, None if none was shown.
    rank: int | None
    #: For questions whose answers must all be shown: whether they were.
    all_shown: bool | None
    #: The first passage is a stale answer or a trap.
    trap_first: bool
    #: For a series: its gold passages shown were in date order, at ``SERIES_POINTS`` dates.
    in_order: bool | None = None


@dataclass(frozen=True, slots=True)
class Score:
    """Hit rates over a group of answerable questions (a refusal is a miss)."""

    questions: int
    hit_at_1: float
    hit_at_5: float
    refused: float


@dataclass(frozen=True, slots=True)
class Report:
    """Every outcome and the aggregates the runner prints."""

    outcomes: tuple[Outcome, ...]
    overall: Score
    by_language: Mapping[str, Score]
    by_kind: Mapping[str, Score]
    #: Off-topic questions refused, per language (higher is better).
    offtopic_refused: Mapping[str, float]
    #: Answerable questions refused, per language (lower is better).
    answerable_refused: Mapping[str, float]
    #: Share of questions with ``all: true`` whose every answer was shown.
    all_shown: float | None
    #: Share of questions with stale answers or traps whose first passage was one of them.
    trap_first: float | None
    #: Per language, the share of current-state questions (current, current_subgroup and the
    #: traps) whose first passage is an older figure or a trap: a stale answer.
    stale_first: Mapping[str, float] = field(default_factory=dict)
    #: Share of series questions shown in date order at ``SERIES_POINTS`` dates or more.
    series_in_order: float | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def outcome(question: Question, asked: Asked, *, k: int = ASK_K) -> Outcome:
    """Judge one answer against its question's gold."""
    shown = asked.hits[:k] if asked.answered else ()
    rank = next(
        (i for i, hit in enumerate(shown) if any(matches(hit, g) for g in question.answers)),
        None,
    )
    all_shown = None
    if question.all:
        all_shown = all(any(matches(hit, g) for hit in shown) for g in question.answers)
    wrong = (*question.earlier, *question.traps)
    trap_first = bool(shown) and rank != 0 and any(matches(shown[0], g) for g in wrong)
    in_order = None
    if question.kind == SERIES:
        # A series has more gold passages (several per date, alternatives) than are shown: it is
        # shown well when the gold passages among those shown are in date order and reach
        # SERIES_POINTS distinct dates.
        dates = [
            next((g.as_of for g in question.answers if matches(hit, g)), None) for hit in shown
        ]
        stated = [d for d in dates if d is not None]
        in_order = len(set(stated)) >= SERIES_POINTS and stated == sorted(stated)
    return Outcome(
        id=question.id,
        language=question.language,
        kind=question.kind,
        answered=asked.answered,
        rank=rank,
        all_shown=all_shown,
        trap_first=trap_first,
        in_order=in_order,
    )


def _score(outcomes: Sequence[Outcome]) -> Score:
    n = len(outcomes)
    if not n:
        return Score(questions=0, hit_at_1=math.nan, hit_at_5=math.nan, refused=math.nan)
    return Score(
        questions=n,
        hit_at_1=sum(o.rank == 0 for o in outcomes) / n,
        hit_at_5=sum(o.rank is not None for o in outcomes) / n,
        refused=sum(not o.answered for o in outcomes) / n,
    )


def _share(values: Iterable[bool]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def evaluate(answers: Sequence[Asked], questions: Sequence[Question]) -> Report:
    """Score ``answers`` (one per question, matched by id) against ``questions``."""
    by_id = {a.question_id: a for a in answers}
    missing = [q.id for q in questions if q.id not in by_id]
    if missing:
        raise ValueError(f"no answer for {len(missing)} question(s): {', '.join(missing[:5])}")
    outcomes = tuple(outcome(q, by_id[q.id]) for q in questions)
    answerable = [o for o, q in zip(outcomes, questions, strict=True) if q.answerable]
    offtopic = [o for o, q in zip(outcomes, questions, strict=True) if not q.answerable]
    languages = sorted({q.language for q in questions}, key=_language_order)
    kinds = [k for k in KINDS if any(o.kind == k for o in answerable)]
    checked = [o for o, q in zip(outcomes, questions, strict=True) if q.earlier or q.traps]
    return Report(
        outcomes=outcomes,
        overall=_score(answerable),
        by_language={
            lang: _score([o for o in answerable if o.language == lang]) for lang in languages
        },
        by_kind={k: _score([o for o in answerable if o.kind == k]) for k in kinds},
        offtopic_refused={
            lang: s
            for lang in languages
            if (s := _share(not o.answered for o in offtopic if o.language == lang)) is not None
        },
        answerable_refused={
            lang: s
            for lang in languages
            if (s := _share(not o.answered for o in answerable if o.language == lang)) is not None
        },
        all_shown=_share(bool(o.all_shown) for o in outcomes if o.all_shown is not None),
        trap_first=_share(o.trap_first for o in checked),
        stale_first={
            lang: share
            for lang in languages
            if (
                share := _share(
                    o.trap_first
                    for o in answerable
                    if o.language == lang and o.kind in CURRENT_KINDS
                )
            )
            is not None
        },
        series_in_order=_share(bool(o.in_order) for o in outcomes if o.in_order is not None),
    )


def _language_order(language: str) -> tuple[int, str]:
    return (LANGUAGES.index(language) if language in LANGUAGES else len(LANGUAGES), language)


# -- running ---------------------------------------------------------------------------------


def ask_all(
    s: RealisticSet,
    data_dir: Path,
    *,
    k: int = ASK_K,
    policies: Mapping[str, Any] | None = None,
) -> tuple[dict[str, list[Asked]], float]:
    """Ingest the set into ``data_dir`` with the real Indexer and ask every question through
    ``Library.search`` with the set's ``today`` as the date, once per policy (default: the
    shipped one, named ""). Returns the answers by policy name and the ingest time.

    What an answer shows, in order: its first passage, the passages of other sources that give
    a different figure for the same month ("Sources differ"), then the other passages.
    """
    from bench.common import ingest
    from retrieval.encoders import load_encoders
    from retrieval.service import Library

    config = RetrievalConfig(data_dir=data_dir)
    encoders = load_encoders(config)
    built = ingest(config, encoders, list(s.documents))
    names = {d.identity: d.name for d in s.documents}
    library = Library(config=config, store=built.store, encoders=encoders)
    today = date.fromisoformat(s.today)
    out: dict[str, list[Asked]] = {}
    for name, policy in (policies or {"": None}).items():
        answers = out.setdefault(name, [])
        for q in s.questions:
            answer = library.search(q.question, k=k, today=today, policy=policy)
            shown = (*answer.hits[:1], *answer.differs, *answer.hits[1:])
            hits = tuple(
                Returned(
                    document=names.get(h.source.identity, h.source.identity), text=h.passage.text
                )
                for h in shown
            )
            answers.append(Asked(question_id=q.id, answered=answer.answered, hits=hits))
    built.store.close()
    return out, built.seconds


#: The time stage's settings ``--time-grid`` tries (``policy.Time``), around the shipped ones.
TIME_CONSENSUS = (0.5, 1.0, 2.0)
TIME_MAGNITUDES = (1.3, 1.6)
TIME_KINSHIPS = (0.85, 0.88, 0.9)
TIME_KINSHIPS_ACROSS = (0.8, 0.83, 0.86)
#: The kinds the time stage decides.
TIME_KINDS = (*CURRENT_KINDS, "point_in_time", "series", "disagreement")


def time_grid() -> dict[str, Any]:
    """A policy per setting of the grid (the shipped margin; one value changed or several)."""
    from retrieval.policy import Policy

    base = Policy()
    return {
        f"consensus={c} magnitude={m} kinship={g} across={a}": base.model_copy(
            update={
                "time": base.time.model_copy(
                    update={"consensus": c, "magnitude": m, "kinship": g, "kinship_across": a}
                )
            }
        )
        for c in TIME_CONSENSUS
        for m in TIME_MAGNITUDES
        for g in TIME_KINSHIPS
        for a in TIME_KINSHIPS_ACROSS
    }


def varied(spec: str) -> dict[str, Any]:
    """A policy per value of one policy field, named ``PATH.FIELD=V1,V2,...`` (for example
    ``time.named=0,1,2,4``, ``first.recent_days=0,31,62`` or
    ``rerank.sentences.answer_type=0,0.2,0.4``); values are parsed by the field's own type.
    Raises ValueError for an unknown section or field, or a value the field refuses."""
    from pydantic import ValidationError

    from retrieval.policy import Policy

    name, _, values = spec.partition("=")
    *path, field = name.strip().split(".")
    base = Policy()
    parts: list[Any] = [base]
    for section in path:
        parts.append(getattr(parts[-1], section, None))
        if not isinstance(parts[-1], BaseModel):
            break
    part = parts[-1]
    if (
        not path
        or not isinstance(part, BaseModel)
        or field not in type(part).model_fields
        or not values
    ):
        raise ValueError(f"--vary wants SECTION.FIELD=V1,V2,... of the policy, not {spec!r}")
    out: dict[str, Any] = {}
    for value in (v.strip() for v in values.split(",")):
        try:
            changed: BaseModel = type(part).model_validate({**part.model_dump(), field: value})
        except ValidationError as exc:
            raise ValueError(f"{name}={value}: {exc.errors()[0]['msg']}") from exc
        # Rebuild the policy from the changed part up: each parent gets its changed child.
        for parent, section in zip(reversed(parts[:-1]), reversed(path), strict=True):
            changed = parent.model_copy(update={section: changed})
        out[f"{name}={value}"] = changed
    return out


def print_time_grid(answers: Mapping[str, list[Asked]], questions: Sequence[Question]) -> None:
    """hit@1 over the time kinds and over every answerable question (a how-many question of any
    kind goes through the time stage), the shares of disagreements shown and of stale first
    passages, per grid setting, best first."""
    timed = [q for q in questions if q.kind in TIME_KINDS]
    rows: list[list[Any]] = []
    for name, asked in answers.items():
        report = evaluate([a for a in asked if any(a.question_id == q.id for q in timed)], timed)
        every = evaluate(asked, questions)
        stale = report.stale_first
        rows.append(
            [
                name or "(shipped)",
                every.overall.hit_at_1,
                report.overall.hit_at_1,
                report.all_shown if report.all_shown is not None else math.nan,
                max(stale.values()) if stale else math.nan,
            ]
        )
    rows.sort(key=lambda r: (-r[1], -r[2], r[4]))
    from bench.common import table

    print(f"\nPolicies compared (time kinds: {len(timed)} questions of {', '.join(TIME_KINDS)}):")
    print(table(["setting", "hit@1 all", "hit@1 timed", "both shown", "stale (worst)"], rows))


def _resolve(name: str) -> Path:
    return KNOWN_SETS.get(name) or Path(name)


def print_validation(name: str, v: Validation) -> None:
    """The counts per kind and language, then the problems."""
    docs = ", ".join(f"{lang} {n}" for lang, n in sorted(v.documents.items()))
    print(f"\n{name}: documents {docs or '-'}; {v.publishers} publishers; {v.passages} passages")
    if v.questions:
        from bench.common import table

        languages = [lang for lang in LANGUAGES if any(k[0] == lang for k in v.questions)]
        rows = []
        for kind in KINDS:
            counts = [v.questions.get((lang, kind), 0) for lang in languages]
            if any(counts):
                rows.append([kind, *counts, sum(counts)])
        rows.append(
            [
                "all",
                *(sum(n for (lang, _), n in v.questions.items() if lang == x) for x in languages),
                sum(v.questions.values()),
            ]
        )
        print(table(["kind", *languages, "total"], rows))
    for problem in v.problems:
        print(f"  PROBLEM: {problem}")
    print("  valid" if v.valid else f"  INVALID: {len(v.problems)} problem(s)")


def print_report(report: Report) -> None:
    """The hit rates per language, per kind and overall, and the refused shares."""
    from bench.common import table

    def row(name: str, s: Score) -> list[object]:
        return [name, s.questions, s.hit_at_1, s.hit_at_5, s.refused]

    headers = ["", "questions", "hit@1", "hit@5", "refused"]
    rows = [row(lang, s) for lang, s in report.by_language.items()]
    rows.append(row("all answerable", report.overall))
    print("\nBy language (answerable questions; a refusal is a miss):")
    print(table(headers, rows))
    print("\nBy kind:")
    print(table(headers, [row(k, s) for k, s in report.by_kind.items()]))
    print("\nRefused, per language:")
    print(
        table(
            ["", "off-topic refused (want 1)", "answerable refused (want 0)"],
            [
                [
                    lang,
                    report.offtopic_refused.get(lang, math.nan),
                    report.answerable_refused.get(lang, math.nan),
                ]
                for lang in report.by_language
            ],
        )
    )
    if report.all_shown is not None:
        print(f"\nDisagreements with every source shown in the top {ASK_K}: {report.all_shown:.3f}")
    if report.trap_first is not None:
        print(f"Questions with a stale answer or trap ranked first: {report.trap_first:.3f}")
    if report.stale_first:
        shares = ", ".join(f"{lang} {v:.3f}" for lang, v in report.stale_first.items())
        print(f"Current-state questions whose first passage is stale: {shares}")
    if report.series_in_order is not None:
        print(
            f"Series shown in date order, at {SERIES_POINTS}+ dates: {report.series_in_order:.3f}"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--set",
        default=None,
        help="test, dev, train-ngo, train-exile, mixed, dated or a folder"
        " (default: test; --validate: all of them)",
    )
    parser.add_argument("--validate", action="store_true", help="check the data only, no models")
    parser.add_argument("--output", default=None, help="file name under bench/results/")
    parser.add_argument(
        "--time-grid",
        action="store_true",
        help="also try the time stage's margin and minimum confidence over a grid",
    )
    parser.add_argument(
        "--vary",
        metavar="SECTION.FIELD=V1,V2",
        help="also ask every question under each value of one policy field (time.named=0,1,2; "
        "first.recent_days=0,31), over the same ingest",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.validate:
        names = [args.set] if args.set else list(KNOWN_SETS)
        results = {name: validate(_resolve(name)) for name in names}
        for name, v in results.items():
            print_validation(name, v)
        return 0 if all(v.valid for v in results.values()) else 1
    from bench.common import machine_info, print_machine, write_json

    name = args.set or "test"
    v = validate(_resolve(name))
    if not v.valid:
        print_validation(name, v)
        return 1
    s = load_set(_resolve(name))
    info = machine_info()
    print_machine(info)
    start = time.perf_counter()
    policies: dict[str, Any] = {"": None}
    if args.time_grid:
        policies |= time_grid()
    if args.vary:
        try:
            policies |= varied(args.vary)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="citebot-realistic-") as folder:
        asked, ingest_seconds = ask_all(s, Path(folder), policies=policies)
    answers = asked[""]
    seconds = time.perf_counter() - start
    report = evaluate(answers, s.questions)
    print(
        f"\nSet {s.name}: {len(s.documents)} documents, {v.passages} passages "
        f"(ingest {ingest_seconds:.1f} s), {len(s.questions)} questions, "
        f"Library.search(question, k={ASK_K}), default configuration; {seconds:.0f} s in all"
    )
    print_report(report)
    if args.time_grid or args.vary:
        print_time_grid(asked, s.questions)
    path = write_json(
        args.output or f"realistic-{s.name}.json",
        {
            "machine": info,
            "set": s.name,
            "today": s.today,
            "documents": len(s.documents),
            "passages": v.passages,
            "k": ASK_K,
            "config": RetrievalConfig().model_dump(mode="json", exclude={"data_dir"}),
            "ingest_seconds": round(ingest_seconds, 1),
            "report": report.to_json(),
            "answers": [asdict(a) for a in answers],
        },
    )
    print(f"\nWritten to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
