"""Fit the ranking model and its answer bar, and measure them on data they were not fitted on.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/fit.py            # fit, report, change nothing
    PYTHONPATH=. .venv/bin/python bench/fit.py --write    # ... and write retrieval/ranker.json
    PYTHONPATH=. .venv/bin/python bench/fit.py --calibration-only --write  # the ranking kept

Stage 2 (``stages.rerank``) turns every shortlisted passage into the features of
``policy.FEATURES``; one logistic model over them ranks the passages (its logit) and decides
whether a question is answered (its probability against the bar). Its labelled data:

- ``realistic/dev``: the journalists story in three languages (every kind of question);
- XQuAD mixed: the 48 articles, even ones in English and odd ones in Russian, one corpus; every
  question asked in English and in Russian (so half the answers are in the other language and
  the other language's articles compete); articles 0-31 fit, 32-47 test;
- off-topic questions (``offtopic_{en,ru,be}.txt``) against the same corpus; every other one fits.

A passage is labelled 1 when it answers (XQuAD: it holds the gold answer; realistic: it is a
gold passage, or for a current-state question one with an older figure of the same count, since
choosing among those is the time stage's job), else 0. Rows are weighted so that each kind of
labelled data (the realistic sets together, XQuAD, off-topic) counts as much as the others:
more realistic sets add questions of the product's shape without outweighing XQuAD. The bar is
the highest that refuses at most ``MAX_FALSE_REFUSALS`` of the answerable fitting questions in
every language.

Reported on the held-out data (``realistic/test``, XQuAD articles 32-47 and the Belarusian
XQuAD questions, the other off-topic half): hit@1 per language, false refusals and off-topic
refusals per language at the bar, and the reliability of the probability (predicted against
observed, per language; ECE).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools

from bench.common import (
    BENCH_DIR,
    XQUAD_DIR,
    ingest,
    load_squad,
    machine_info,
    markdown_document,
    print_machine,
    table,
    write_json,
)
from bench.realistic import KNOWN_SETS, RealisticSet, Returned, load_set, matches
from corpus.models import Passage
from retrieval.config import RetrievalConfig
from retrieval.encoders import Encoder, load_encoders
from retrieval.policy import (
    CALIBRATION_FEATURES,
    DECISION_ONLY,
    FEATURES,
    Calibration,
    Fitted,
    LinearModel,
    Policy,
)
from retrieval.service import Library

ROOT = BENCH_DIR.parent
RANKER = ROOT / "retrieval" / "ranker.json"
#: XQuAD articles below this index fit the model; the rest test it.
FIT_ARTICLES = 32
#: The realistic sets the model is fitted on (``--fit-sets``); ``test`` only ever tests.
FIT_SETS = ("dev",)
#: The names of XQuAD's fitting and testing rows in a ``--rows`` file.
XQUAD_FIT = "xquad-fit"
XQUAD_TEST = "xquad-test"


def source(group: str) -> str:
    """The kind of labelled data a group is, each weighted alike: every realistic set is one
    (``--fit-sets`` adds questions of the product's shape, not weight against XQuAD)."""
    return "realistic" if group.startswith("realistic-") else group


#: The most answerable fitting questions the bar may refuse, in every language.
MAX_FALSE_REFUSALS = 0.05
#: Answered when one of this many best passages clears the bar (``Decide.depth``).
DEPTH = Policy().decide.depth
#: Reliability bins of the probability.
BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)
#: The regularisation of the calibration (sklearn's C) and of the listwise ranking model.
C = 1.0
L2 = 1e-3


@dataclass(frozen=True, slots=True)
class Asked:
    """One labelled question, asked: which labelled set, its language, and the ranked
    shortlist's features with a label per row."""

    group: str
    language: str
    kind: str
    answerable: bool
    features: np.ndarray
    labels: np.ndarray


def vectorise(rows: Sequence[Mapping[str, float]]) -> np.ndarray:
    """Feature rows as a matrix in ``FEATURES`` order."""
    return np.array([[row[name] for name in FEATURES] for row in rows], dtype=np.float64)


def ask(
    library: Library,
    question: str,
    is_answer: Callable[[Passage], bool],
    *,
    group: str,
    language: str,
    kind: str,
    answerable: bool,
) -> Asked:
    """Rank one question's shortlist (no decision) and label each passage."""
    _, ranked = library.retriever.rank(question)
    return Asked(
        group=group,
        language=language,
        kind=kind,
        answerable=answerable,
        features=vectorise([r.features for r in ranked]),
        labels=np.array([is_answer(r.passage) for r in ranked], dtype=np.int8),
    )


# -- the labelled sets ----------------------------------------------------------------------


def realistic(s: RealisticSet, encoders: Mapping[str, Encoder], folder: Path) -> list[Asked]:
    """Every question of a realistic set, labelled by its gold passages."""
    config = RetrievalConfig(data_dir=folder)
    built = ingest(config, encoders, list(s.documents))
    library = Library(config=config, store=built.store, encoders=encoders)
    names = {
        source.id: next(d.name for d in s.documents if d.identity == source.identity)
        for source in built.store.corpus.sources()
    }
    out = []
    for q in s.questions:
        positives = (*q.answers, *q.earlier) if q.kind.startswith("current") else q.answers

        def is_answer(p: Passage, golds: tuple = positives) -> bool:
            return any(matches(Returned(names[p.source_id], p.text), g) for g in golds)

        out.append(
            ask(
                library,
                q.question,
                is_answer,
                group=f"realistic-{s.name}",
                language=q.language,
                kind=q.kind,
                answerable=q.answerable,
            )
        )
    built.store.close()
    return out


def read_lines(path: Path) -> list[str]:
    """One question a line; blank lines and # comments skipped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def xquad_mixed(
    encoders: Mapping[str, Encoder], folder: Path, *, quick: bool
) -> tuple[list[Asked], list[Asked]]:
    """XQuAD in one corpus of two languages, plus the off-topic questions against it:
    (fitting, testing)."""
    english = load_squad(XQUAD_DIR / "xquad.en.json")
    russian = load_squad(XQUAD_DIR / "xquad.ru.json")
    count = 8 if quick else len(english.articles)
    documents = []
    for i in range(count):
        language, squad = ("en", english) if i % 2 == 0 else ("ru", russian)
        article = squad.articles[i]
        documents.append(
            markdown_document(
                f"xquad-{i:02d}-{language}.md",
                article.title.replace("_", " "),
                "\n\n".join(article.contexts),
                language=language,
            )
        )
    config = RetrievalConfig(data_dir=folder)
    built = ingest(config, encoders, documents)
    library = Library(config=config, store=built.store, encoders=encoders)
    by_title = {d.identity: i for i, d in enumerate(documents)}
    source_article = {
        s.id: by_title[s.identity] for s in built.store.corpus.sources() if s.identity in by_title
    }
    answers = {
        "en": {qa.id: qa for qa in english.questions},
        "ru": {qa.id: qa for qa in russian.questions},
    }
    fit: list[Asked] = []
    test: list[Asked] = []
    be = {
        item["id"]: item["question"]
        for item in yaml.safe_load(
            (BENCH_DIR / "data" / "xquad_be.yaml").read_text(encoding="utf-8")
        )
    }
    for qa in english.questions:
        if qa.article >= count:
            continue
        language = "en" if qa.article % 2 == 0 else "ru"
        gold = answers[language][qa.id].answer

        def is_answer(p: Passage, gold: str = gold, article: int = qa.article) -> bool:
            return source_article.get(p.source_id) == article and gold in p.text

        asked_in = {"en": qa.question, "ru": answers["ru"][qa.id].question}
        if qa.id in be:
            asked_in["be"] = be[qa.id]
        for asked_language, text in asked_in.items():
            kind = "same_language" if asked_language == language else "cross_language"
            row = ask(
                library,
                text,
                is_answer,
                group="xquad-mixed",
                language=asked_language,
                kind=kind,
                answerable=True,
            )
            # Belarusian questions are too few to fit on: they only test.
            (fit if qa.article < FIT_ARTICLES and asked_language != "be" else test).append(row)
    for language in ("en", "ru", "be"):
        questions = read_lines(BENCH_DIR / f"offtopic_{language}.txt")
        for i, text in enumerate(questions[: 20 if quick else None]):
            row = ask(
                library,
                text,
                lambda p: False,
                group="offtopic",
                language=language,
                kind="offtopic",
                answerable=False,
            )
            (fit if i % 2 == 0 else test).append(row)
    built.store.close()
    return fit, test


# -- fitting --------------------------------------------------------------------------------


def fit(asked: Sequence[Asked], *, ranking: frozenset[str] = frozenset()) -> LinearModel:
    """The ranking model: a listwise (softmax over each shortlist) logistic model, so that the
    passage that answers gets the largest share of its question's probability; each
    kind of labelled data weighted alike (``source``), L2 penalty ``L2``.

    Only questions with an answer in their shortlist take part; features that are the same
    for every passage of a question (``unknown``) cannot rank and get weight 0: they serve the
    calibration, as do those computed only once the ranking is done (``policy.DECISION_ONLY``),
    held at 0.
    """
    from scipy.optimize import minimize

    lists = [a for a in asked if len(a.labels) and a.labels.any()]
    sets = {a.group.removeprefix("realistic-") for a in lists if a.group.startswith("realistic-")}
    groups: dict[str, int] = defaultdict(int)
    for a in lists:
        groups[source(a.group)] += 1
    weights = np.array([1.0 / groups[source(a.group)] for a in lists])
    weights *= len(weights) / weights.sum()

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total = L2 * float(w @ w)
        grad = 2 * L2 * w
        for a, weight in zip(lists, weights, strict=True):
            s = a.features @ w
            e = np.exp(s - s.max())
            positive = a.labels == 1
            p, z = e[positive].sum(), e.sum()
            total -= weight * (np.log(p) - np.log(z))
            grad -= weight * (e[positive] @ a.features[positive] / p - e @ a.features / z)
        return total / len(lists), grad / len(lists)

    # Features of the decision only keep weight 0 (``policy.DECISION_ONLY``), unless ``ranking``
    # names them: the logits then gain them once computed and the shortlist is re-sorted.
    bounds = [(0.0, 0.0) if n in DECISION_ONLY - ranking else (None, None) for n in FEATURES]
    found = minimize(loss, np.zeros(len(FEATURES)), jac=True, method="L-BFGS-B", bounds=bounds)
    return LinearModel(
        intercept=0.0,
        weights={
            n: round(float(c), 4) for n, c in zip(FEATURES, found.x, strict=True) if abs(c) > 1e-6
        },
        fitted_on=(
            f"bench/fit.py (listwise): realistic/{'+'.join(sorted(sets))}, XQuAD mixed en/ru "
            f"articles 0-31 (questions in en and ru); {len(lists)} questions, L2={L2}"
        ),
    )


def logits(model: LinearModel, a: Asked) -> np.ndarray:
    """The ranking logit of each shortlisted row of one question."""
    weights = np.array([model.weights.get(n, 0.0) for n in FEATURES])
    return model.intercept + a.features @ weights if len(a.labels) else np.zeros(0)


def deciding(model: LinearModel, a: Asked) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The logits, features and labels of the best ``DEPTH`` rows, best first: what decides."""
    found = logits(model, a)
    order = np.argsort(-found, kind="stable")[:DEPTH]
    return found[order], a.features[order], a.labels[order]


def calibration_inputs(logit: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The calibration's columns: the logit, then ``CALIBRATION_FEATURES``."""
    columns = [FEATURES.index(n) for n in CALIBRATION_FEATURES]
    return np.column_stack([logit, features[:, columns]])


def fit_calibration(model: LinearModel, asked: Sequence[Asked]) -> Calibration:
    """A logistic model on the rows that decide (logit and ``CALIBRATION_FEATURES``), each
    kind of labelled data weighted alike (``source``)."""
    from sklearn.linear_model import LogisticRegression

    parts = [(deciding(model, a), source(a.group)) for a in asked if len(a.labels)]
    groups: dict[str, int] = defaultdict(int)
    for (found, _, _), group in parts:
        groups[group] += len(found)
    x = np.concatenate([calibration_inputs(found, f) for (found, f, _), _ in parts])
    y = np.concatenate([labels for (_, _, labels), _ in parts])
    w = np.concatenate([np.full(len(found), 1.0 / groups[g]) for (found, _, _), g in parts])
    platt = LogisticRegression(C=C, max_iter=5000)
    platt.fit(x, y, sample_weight=w * len(w) / w.sum())
    names = ("logit", *CALIBRATION_FEATURES)
    return Calibration(
        intercept=round(float(platt.intercept_[0]), 4),
        weights={n: round(float(c), 4) for n, c in zip(names, platt.coef_[0], strict=True)},
    )


def probabilities(model: LinearModel, calibration: Calibration, a: Asked) -> np.ndarray:
    """The calibrated probability of each row that decides, best first."""
    found, features, _ = deciding(model, a)
    return np.array(
        [
            calibration.probability(float(z), dict(zip(FEATURES, row, strict=True)))
            for z, row in zip(found, features, strict=True)
        ]
    )


def best_probabilities(
    model: LinearModel, calibration: Calibration, a: Asked
) -> tuple[float, bool]:
    """The best calibrated probability within ``DEPTH`` (what decides) and whether the top
    row answers, ranked by the model."""
    found = probabilities(model, calibration, a)
    if not len(found):
        return 0.0, False
    return float(found.max()), bool(deciding(model, a)[2][0])


def choose_bar(model: LinearModel, calibration: Calibration, asked: Sequence[Asked]) -> float:
    """The highest bar refusing at most ``MAX_FALSE_REFUSALS`` of the answerable questions in
    every language."""
    bars = []
    for language in sorted({a.language for a in asked}):
        best = sorted(
            best_probabilities(model, calibration, a)[0]
            for a in asked
            if a.answerable and a.language == language
        )
        if best:
            bars.append(best[int(np.floor(MAX_FALSE_REFUSALS * len(best)))])
    return round(min(bars), 4) if bars else 0.5


# -- reporting ------------------------------------------------------------------------------


def report(
    model: LinearModel, calibration: Calibration, bar: float, asked: Sequence[Asked], title: str
) -> dict[str, Any]:
    """hit@1, refusals and reliability per language and per group."""
    print(f"\n{title}")
    out: dict[str, Any] = {}
    rows = []
    for key in sorted({(a.group, a.language) for a in asked}):
        chosen = [a for a in asked if (a.group, a.language) == key]
        answerable = [a for a in chosen if a.answerable]
        off = [a for a in chosen if not a.answerable]
        scored = [best_probabilities(model, calibration, a) for a in answerable]
        hit1 = sum(top for _, top in scored) / len(scored) if scored else float("nan")
        refused = sum(p < bar for p, _ in scored) / len(scored) if scored else float("nan")
        off_refused = (
            sum(best_probabilities(model, calibration, a)[0] < bar for a in off) / len(off)
            if off
            else float("nan")
        )
        rows.append([*key, len(answerable), hit1, refused, len(off), off_refused])
        out[f"{key[0]}/{key[1]}"] = {
            "answerable": len(answerable),
            "hit_at_1": hit1,
            "false_refusals": refused,
            "offtopic": len(off),
            "offtopic_refused": off_refused,
        }
    print(
        table(["set", "lang", "answerable", "hit@1", "refused", "off-topic", "off refused"], rows)
    )
    out["reliability"] = reliability(model, calibration, asked)
    return out


def reliability(
    model: LinearModel, calibration: Calibration, asked: Sequence[Asked]
) -> dict[str, Any]:
    """Predicted probability against the observed share of answering passages, for the rows
    that decide (the best ``DEPTH`` of every question), per language; and the expected
    calibration error."""
    out: dict[str, Any] = {}
    print("Reliability of the top passage's probability (predicted -> observed, count):")
    for language in sorted({a.language for a in asked}):
        pairs: list[tuple[float, int]] = []
        for a in asked:
            if a.language != language or not len(a.labels):
                continue
            labels = deciding(model, a)[2]
            found = probabilities(model, calibration, a)
            pairs.extend((float(p), int(y)) for p, y in zip(found, labels, strict=True))
        p = np.array([x for x, _ in pairs])
        y = np.array([z for _, z in pairs])
        bins = []
        ece = 0.0
        for lo, hi in itertools.pairwise(BINS):
            inside = (p >= lo) & (p < hi)
            if inside.any():
                bins.append(
                    (
                        round(float(p[inside].mean()), 3),
                        round(float(y[inside].mean()), 3),
                        int(inside.sum()),
                    )
                )
                ece += inside.sum() / len(p) * abs(p[inside].mean() - y[inside].mean())
        out[language] = {"bins": bins, "ece": round(float(ece), 4), "n": len(p)}
        shown = "  ".join(f"{a:.2f}->{b:.2f} ({n})" for a, b, n in bins)
        print(f"  {language}: ECE {ece:.3f} over {len(p)}; {shown}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {RANKER.relative_to(ROOT)}")
    parser.add_argument("--quick", action="store_true", help="8 XQuAD articles, 20 off-topic")
    parser.add_argument(
        "--calibration-only",
        action="store_true",
        help="keep the shipped ranking model (the ranking stays as it is) and refit only the "
        "calibration and the bar",
    )
    parser.add_argument(
        "--rank-translated",
        action="store_true",
        help="let cross_coverage (computed after the first ranking) rank too",
    )
    parser.add_argument(
        "--fit-sets",
        default=",".join(FIT_SETS),
        help="the realistic sets the model is fitted on, comma-separated (default: "
        f"{','.join(FIT_SETS)}); the test set is never one of them",
    )
    parser.add_argument(
        "--rows",
        type=Path,
        help="keep the asked questions' features in this file and reuse them when it exists "
        "(they depend on the corpus, the encoder and stages 1-2, not on the model)",
    )
    args = parser.parse_args(argv)
    info = machine_info()
    print_machine(info)
    fit_sets = [name.strip() for name in args.fit_sets.split(",") if name.strip()]
    unknown = [name for name in fit_sets if name not in KNOWN_SETS or name == "test"]
    if unknown:
        print(f"not a realistic set to fit on: {', '.join(unknown)}", file=sys.stderr)
        return 2
    rows: dict[str, list[Asked]] = {}
    if args.rows and args.rows.exists():
        rows = pickle.loads(args.rows.read_bytes())
        print(f"Read the asked questions from {args.rows}")
    wanted = ["test", *fit_sets, XQUAD_FIT, XQUAD_TEST]
    if any(name not in rows for name in wanted):
        encoders = load_encoders(RetrievalConfig())
        with tempfile.TemporaryDirectory(prefix="citebot-fit-") as folder:
            root = Path(folder)
            for name in ("test", *fit_sets):
                if name not in rows:
                    rows[name] = realistic(load_set(KNOWN_SETS[name]), encoders, root / name)
            if XQUAD_FIT not in rows:
                rows[XQUAD_FIT], rows[XQUAD_TEST] = xquad_mixed(
                    encoders, root / "xquad", quick=args.quick
                )
        if args.rows:
            args.rows.write_bytes(pickle.dumps(rows))
    fitting = [*(a for name in fit_sets for a in rows[name]), *rows[XQUAD_FIT]]
    held_out = [*rows["test"], *rows[XQUAD_TEST]]
    model = (
        Policy().rerank.model
        if args.calibration_only
        else fit(
            fitting, ranking=frozenset({"cross_coverage"}) if args.rank_translated else frozenset()
        )
    )
    calibration = fit_calibration(model, fitting)
    bar = choose_bar(model, calibration, fitting)
    print(
        f"\nModel: intercept {model.intercept}, weights {model.weights}; "
        f"calibration {calibration}; bar {bar}"
    )
    policy = Policy()
    result: dict[str, Any] = {
        "machine": info,
        "model": model.model_dump(),
        "bar": bar,
        "calibration": calibration.model_dump(),
        "fitting": report(
            model, calibration, bar, fitting, "Fitting data (what the model was fitted on):"
        ),
        "held_out": report(model, calibration, bar, held_out, "Held-out data:"),
        "shipped_held_out": report(
            policy.rerank.model,
            policy.decide.calibration,
            policy.decide.bar,
            held_out,
            "Held-out data, the shipped model:",
        ),
    }
    if args.write:
        RANKER.write_text(
            json.dumps(
                Fitted(model=model, calibration=calibration, bar=bar).model_dump(),
                indent=2,
                ensure_ascii=False,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"\nWrote {RANKER}")
    name = "fit-quick.json" if args.quick else "fit.json"
    print(f"Wrote {write_json(name, result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
