"""Language detection on short questions: how often corpus.language.detect_language is right.

Run: PYTHONPATH=. .venv/bin/python bench/languages.py
Data: the 1,190 English and 1,190 Russian XQuAD questions (../shared/data/xquad) and hand-written
Belarusian (45, the last 5 typed with Latin i and у as on a Russian keyboard) and Ukrainian (10)
questions in bench/data/. Prints accuracy, the confusions, and the time per call.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from corpus.language import detect_language

HERE = Path(__file__).resolve().parent
XQUAD = HERE.parent.parent / "shared" / "data" / "xquad"


def questions() -> dict[str, list[str]]:
    """The question sets by their true language."""
    sets: dict[str, list[str]] = {}
    for language in ("en", "ru"):
        data = json.loads((XQUAD / f"xquad.{language}.json").read_text(encoding="utf-8"))["data"]
        sets[language] = [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]]
    for language in ("be", "uk"):
        path = HERE / "data" / f"questions_{language}.txt"
        lines = path.read_text("utf-8").splitlines()
        sets[language] = [line.strip() for line in lines if line.strip()]
    return sets


def main() -> None:
    """Print the accuracy table."""
    argparse.ArgumentParser(description=__doc__).parse_args()
    detect_language("warm up")  # builds the detectors once
    print(f"{'language':9} {'questions':>9} {'accuracy':>9} {'ms/call':>8}  confused with")
    for language, items in questions().items():
        start = time.perf_counter()
        found = Counter(detect_language(q, question=True) for q in items)
        per_call = (time.perf_counter() - start) * 1000 / len(items)
        wrong = {k: v for k, v in found.items() if k != language}
        accuracy = found[language] / len(items)
        print(f"{language:9} {len(items):9} {accuracy:9.4f} {per_call:8.3f}  {wrong or '-'}")


if __name__ == "__main__":
    main()
