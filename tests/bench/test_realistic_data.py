"""The realistic benchmark's data and its validator: every set keeps its rules (no model needed).

The sets decide what the team builds, so a snippet that no longer lies inside one passage (after
a chunker change, or an edit of a document) must fail here, not silently count as a miss.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bench.common import XQUAD_DIR
from bench.realistic import (
    KNOWN_SETS,
    Asked,
    Gold,
    Question,
    Returned,
    check_set,
    evaluate,
    load_set,
    validate,
    varied,
)
from corpus.chunking import ChunkingOptions
from corpus.store import Store
from retrieval.config import RetrievalConfig
from retrieval.indexer import Indexer

DATA = Path(__file__).resolve().parents[2] / "bench" / "data"


@pytest.mark.parametrize("name", list(KNOWN_SETS))
def test_every_set_is_valid(name: str) -> None:
    result = validate(KNOWN_SETS[name])
    assert result.valid, "\n".join(result.problems)
    assert result.passages > 0


def test_the_benchmark_sets_hold_their_minimums() -> None:
    # The minimums live in set.yaml; a set without them would pass with any amount of data.
    for name in ("test", "dev"):
        s = load_set(KNOWN_SETS[name])
        assert s.minimums.questions and s.minimums.documents, name
    test = load_set(KNOWN_SETS["test"])
    assert len(test.documents) >= 22
    assert len({d.metadata["publisher"] for d in test.documents}) >= 6


def test_the_validator_chunks_as_the_indexer_does(tmp_path: Path) -> None:
    # The validator reads the default settings' chunking; the Indexer must split by the same
    # settings, whatever they are.
    store = Store(data_dir=tmp_path)
    try:
        for config in (
            RetrievalConfig(data_dir=tmp_path),
            RetrievalConfig(data_dir=tmp_path, target_sentences=1, max_sentences=2),
        ):
            indexer = Indexer(config=config, store=store, encoders=dict)
            assert indexer.chunking == config.chunking()
        assert RetrievalConfig().chunking() == ChunkingOptions()
        assert RetrievalConfig(target_sentences=1, max_sentences=2).chunking() == ChunkingOptions(
            target_sentences=1, min_sentences=1, max_sentences=2
        )
    finally:
        store.close()


def _write_set(folder: Path, documents: dict[str, str], questions: list[dict]) -> Path:
    (folder / "documents").mkdir(parents=True)
    (folder / "set.yaml").write_text("today: 2026-12-01\ndescription: a broken set\n")
    for name, body in documents.items():
        front = f"---\ntitle: {name}\npublished: 2026-01-10\nlanguage: {name[-5:-3]}\n---\n"
        (folder / "documents" / name).write_text(front + body, encoding="utf-8")
    (folder / "questions.yaml").write_text(yaml.safe_dump(questions, allow_unicode=True))
    return folder


def test_the_validator_finds_each_kind_of_mistake(tmp_path: Path) -> None:
    # Two paragraphs: a snippet that runs from one into the other straddles two passages.
    english = (
        "The centre counted 1,080 political prisoners. It adds names after checking files.\n\n"
        "Relatives describe harsh conditions. Parcels are often returned."
    )
    russian = (
        "Правозащитники насчитали 1 080 политзаключённых. Новые приговоры выносятся каждую неделю."
    )
    gold = {"document": "a-en.md", "text": "1,080 political prisoners"}
    questions = [
        {
            "id": "ok",
            "language": "en",
            "kind": "lexical",
            "question": "how many?",
            "answers": [gold],
        },
        {"id": "ok", "language": "en", "kind": "lexical", "question": "again", "answers": [gold]},
        {"id": "k", "language": "en", "kind": "guess", "question": "?", "answers": [gold]},
        {
            "id": "missing",
            "language": "en",
            "kind": "lexical",
            "question": "?",
            "answers": [{"document": "a-en.md", "text": "1,081 political prisoners"}],
        },
        {
            "id": "straddles",
            "language": "en",
            "kind": "lexical",
            "question": "?",
            "answers": [{"document": "a-en.md", "text": "files.\n\nRelatives"}],
        },
        {
            "id": "cross",
            "language": "en",
            "kind": "cross_language",
            "question": "?",
            "answers": [gold],
        },
        {
            "id": "copied",
            "language": "en",
            "kind": "paraphrase",
            "question": "are there 1,080 political prisoners",
            "answers": [gold],
        },
        {"id": "timeless", "language": "en", "kind": "current", "question": "?", "answers": [gold]},
        {"id": "off", "language": "en", "kind": "offtopic", "question": "?", "answers": [gold]},
        {
            "id": "series",
            "language": "en",
            "kind": "series",
            "question": "?",
            "from": "2026-01-01",
            "to": "2026-12-01",
            "answers": [
                {**gold, "as_of": "2026-11-01"},
                {"document": "b-ru.md", "text": "1 080 политзаключённых", "as_of": "2026-10-01"},
            ],
        },
        {
            "id": "one-source",
            "language": "en",
            "kind": "disagreement",
            "question": "?",
            "as_of": "2026-11-01",
            "answers": [gold],
        },
    ]
    folder = _write_set(tmp_path / "broken", {"a-en.md": english, "b-ru.md": russian}, questions)
    problems = "\n".join(check_set(load_set(folder)).problems)
    for expected in (
        "ok: id used 2 times",
        "unknown kind 'guess'",
        "'1,081 political prisoners' does not occur in the document",
        "straddles two passages",
        "cross: a cross-language question has an answer in its own language",
        "copied: the question copies the gold snippet",
        "timeless: kind current needs as_of",
        "off: an off-topic question has no answers",
        "series: the passages of a series must be in date order",
        "one-source: a disagreement needs all: true and answers from two documents",
    ):
        assert expected in problems
    assert len(problems.splitlines()) == 10, problems


def test_a_document_the_loader_refuses_is_reported(tmp_path: Path) -> None:
    folder = _write_set(tmp_path / "bad", {"a-en.md": "Some text."}, [])
    (folder / "documents" / "b-en.md").write_text("---\npublished: 2026-01-10\n---\nText.\n")
    result = validate(folder)
    assert not result.valid
    assert any("b-en.md" in p and "title" in p for p in result.problems)


def _q(
    qid: str, language: str, kind: str, answers: tuple[Gold, ...] = (), **extra: object
) -> Question:
    fields: dict = {"id": qid, "language": language, "kind": kind, "question": qid}
    return Question(**fields, answers=answers, **extra)  # type: ignore[arg-type]


def test_evaluate_scores_ranks_refusals_and_traps() -> None:
    new = Gold(document="new.md", text="1,080")
    old = Gold(document="new.md", text="1,149")
    other = Gold(document="other.md", text="1 205")
    questions = [
        _q("first", "en", "current", (new,), as_of="2026-11-01", earlier=(old,)),
        _q("second", "en", "current", (new,), as_of="2026-11-01", earlier=(old,)),
        _q("refused", "ru", "paraphrase", (new,)),
        _q("both", "ru", "disagreement", (new, other), as_of="2026-02-01", all=True),
        _q("off-en", "en", "offtopic"),
        _q("off-ru", "ru", "offtopic"),
    ]
    right = Returned(document="new.md", text="The list held 1,080 names.")
    stale = Returned(document="new.md", text="A year ago: 1,149.")
    wrong_doc = Returned(document="other.md", text="The list held 1,080 names.")
    answers = [
        Asked("first", True, (right, stale)),
        Asked("second", True, (stale, wrong_doc, right)),
        Asked("refused", False, ()),
        Asked("both", True, (right, Returned(document="other.md", text="всего 1 205 человек"))),
        Asked("off-en", False, ()),
        Asked("off-ru", True, (right,)),
    ]
    report = evaluate(answers, questions)
    ranks = {o.id: o.rank for o in report.outcomes}
    assert ranks == {
        "first": 0,
        "second": 2,
        "refused": None,
        "both": 0,
        "off-en": None,
        "off-ru": None,
    }
    assert report.overall.questions == 4
    assert report.overall.hit_at_1 == pytest.approx(2 / 4)
    assert report.overall.hit_at_5 == pytest.approx(3 / 4)
    assert report.by_language["ru"].refused == pytest.approx(1 / 2)
    assert report.answerable_refused == {"en": 0.0, "ru": 0.5}
    assert report.offtopic_refused == {"en": 1.0, "ru": 0.0}
    assert report.by_kind["current"].hit_at_1 == pytest.approx(1 / 2)
    assert report.all_shown == 1.0
    assert report.trap_first == pytest.approx(1 / 2)
    json.dumps(report.to_json())  # the runner writes it


def test_a_series_is_judged_by_the_order_and_reach_of_its_dates() -> None:
    points = [
        Gold(document=f"{month}.md", text=f"{1100 - i} prisoners", as_of=f"2026-{month}-01")
        for i, month in enumerate(("01", "02", "03", "04"))
    ]
    # Two alternatives for February: either one counts for that date.
    points.append(Gold(document="02b.md", text="1099 people", as_of="2026-02-01"))
    questions = [_q(name, "en", "series", tuple(points)) for name in ("ordered", "reversed", "few")]

    def shown(*pairs: tuple[str, str]) -> tuple[Returned, ...]:
        return tuple(Returned(document=d, text=f"In all, {t}.") for d, t in pairs)

    answers = [
        Asked(
            "ordered",
            True,
            shown(
                ("01.md", "1100 prisoners"),
                ("02b.md", "1099 people"),
                ("unrelated.md", "nothing"),
                ("04.md", "1097 prisoners"),
            ),
        ),
        Asked(
            "reversed",
            True,
            shown(
                ("04.md", "1097 prisoners"),
                ("03.md", "1098 prisoners"),
                ("01.md", "1100 prisoners"),
            ),
        ),
        Asked("few", True, shown(("01.md", "1100 prisoners"), ("02.md", "1099 prisoners"))),
    ]
    report = evaluate(answers, questions)
    in_order = {o.id: o.in_order for o in report.outcomes}
    assert in_order == {"ordered": True, "reversed": False, "few": False}
    assert report.series_in_order == pytest.approx(1 / 3)


def test_evaluate_needs_an_answer_for_every_question() -> None:
    with pytest.raises(ValueError, match="no answer for 1 question"):
        evaluate([], [_q("lonely", "en", "offtopic")])


def test_the_dated_corpus_orders_its_languages_in_time() -> None:
    s = load_set(KNOWN_SETS["dated"])
    published = {d.name: (d.metadata["published"], d.metadata["language"]) for d in s.documents}
    remain = next(q for q in s.questions if q.id == "en-remain")
    newest = published[remain.answers[0].document]
    older = sorted(published[g.document] for g in remain.earlier)
    assert [lang for _, lang in older] == ["be", "ru"] and newest[1] == "en"
    assert all(date < newest[0] for date, _ in older)
    # The unrelated document is newer than the newest answer.
    assert published[remain.traps[0].document][0] > newest[0]
    disagreement = next(q for q in s.questions if q.kind == "disagreement")
    months = {published[g.document][0][:7] for g in disagreement.answers}
    assert len(months) == 1 and len(disagreement.answers) == 2


def test_xquad_be_translates_thirty_questions_over_ten_articles() -> None:
    items = yaml.safe_load((DATA / "xquad_be.yaml").read_text(encoding="utf-8"))
    assert len(items) == 30 and len({i["id"] for i in items}) == 30
    # Belarusian letters only: no и, щ, ъ.
    assert not [i["question"] for i in items if set(i["question"]) & set("ищъИЩЪ")]
    source = XQUAD_DIR / "xquad.en.json"
    if not source.exists():
        pytest.skip(f"XQuAD is not at {source}")
    data = json.loads(source.read_text(encoding="utf-8"))["data"]
    article = {qa["id"]: n for n, a in enumerate(data) for p in a["paragraphs"] for qa in p["qas"]}
    assert all(i["id"] in article for i in items)
    assert len({article[i["id"]] for i in items}) >= 10


def test_the_language_detection_question_lists() -> None:
    be = (DATA / "questions_be.txt").read_text(encoding="utf-8").splitlines()
    uk = (DATA / "questions_uk.txt").read_text(encoding="utf-8").splitlines()
    assert len([q for q in be if q.strip()]) == 45
    assert len([q for q in uk if q.strip()]) == 10
    # The last five are typed on a Russian keyboard: Latin i, no ў.
    assert all("i" in q and "ў" not in q for q in be[-5:])
    assert not any("i" in q for q in be[:-5])


def test_vary_builds_one_policy_per_value_of_one_field() -> None:
    policies = varied("time.named=0, 1.5")
    assert list(policies) == ["time.named=0", "time.named=1.5"]
    assert [p.time.named for p in policies.values()] == [0.0, 1.5]
    # Everything else is the shipped policy.
    assert (
        policies["time.named=0"].first == varied("first.in_period=10")["first.in_period=10"].first
    )
    # A field of a nested part: only that part changes.
    nested = varied("rerank.sentences.soft_floor=0.1")["rerank.sentences.soft_floor=0.1"]
    assert nested.rerank.sentences.soft_floor == 0.1
    assert nested.rerank.model == policies["time.named=0"].rerank.model
    assert nested.time == varied("time.named=1")["time.named=1"].time
    for bad in (
        "time.nope=1",
        "nope.x=1",
        "time.named",
        "time.named=-1",
        "first.in_period=x",
        "named=1",
        "rerank.sentences=1",
        "rerank.nope.x=1",
    ):
        with pytest.raises(ValueError):
            varied(bad)
