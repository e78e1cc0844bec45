"""How many full sentences make an article: the bar that refuses pages of only boilerplate.

An HTML page is refused when trafilatura finds no main text, or when the text it extracts has
fewer than ``MIN_ARTICLE_SENTENCES`` full sentences (``MIN_SENTENCE_WORDS`` words or more, ending
in ``.``, ``!``, ``?`` or ``…``; ``corpus.loaders.full_sentences``). This measures the bar on
trafilatura's own evaluation set: real web pages (news, blogs, shops, institutions, in several
languages), each annotated with snippets of its main text ("with") and of its boilerplate
("without").

- An **article** is a page as it is: refusing it is a false refusal.
- A **boilerplate page** is the same page with its main text cut out: for every "with" snippet,
  the largest element around it that holds no "without" snippet is removed, so navigation,
  banners, footers and sidebars stay. Accepting it is a false acceptance (the issue's
  "Home About" page).

Needs a checkout of https://github.com/adbar/trafilatura (``tests/eval/`` and
``tests/evaldata.json``): ``PYTHONPATH=. .venv/bin/python bench/boilerplate.py --trafilatura
PATH`` (about 5 minutes; ``--quick`` reads 100 pages).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import lxml.html

from bench.common import machine_info, print_machine, table, write_json
from corpus.loaders import MIN_ARTICLE_SENTENCES, MIN_SENTENCE_WORDS, full_sentences


def extracted_sentences(markup: str) -> int | None:
    """Full sentences of the main text trafilatura extracts (as the loaders call it), or None
    when it finds none."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        markup,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
    )
    if doc is None or not (doc.text or "").strip():
        return None
    return full_sentences(doc.text)


def without_main_text(markup: str, keep: list[str], cut: list[str]) -> str | None:
    """The page with the elements holding the ``cut`` snippets removed, each as far up as
    possible without taking a ``keep`` (boilerplate) snippet along; None if nothing matched."""
    tree = lxml.html.fromstring(markup)
    removed = 0
    for snippet in cut:
        for element in list(tree.iter()):
            if not isinstance(element.tag, str) or element.getparent() is None:
                continue
            if snippet not in (element.text_content() or ""):
                continue
            if any(snippet in (child.text_content() or "") for child in element):
                continue  # a child holds it: start lower
            top = element
            while (parent := top.getparent()) is not None and parent.getparent() is not None:
                text = parent.text_content() or ""
                if any(k in text for k in keep):
                    break
                top = parent
            if top.getparent() is not None:
                top.getparent().remove(top)
                removed += 1
            break
    return lxml.html.tostring(tree, encoding="unicode") if removed else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trafilatura", type=Path, required=True, help="a trafilatura checkout")
    parser.add_argument("--quick", action="store_true", help="the first 100 pages only")
    options = parser.parse_args()
    info = machine_info()
    print_machine(info)
    annotations = json.loads((options.trafilatura / "tests" / "evaldata.json").read_text())
    pages = sorted(annotations.values(), key=lambda a: a["file"])
    if options.quick:
        pages = pages[:100]
    articles: list[int | None] = []
    boilerplate: list[int | None] = []
    for number, page in enumerate(pages, start=1):
        path = options.trafilatura / "tests" / "eval" / page["file"]
        if not path.exists():
            continue
        markup = path.read_text(encoding="utf-8", errors="replace")
        articles.append(extracted_sentences(markup))
        stripped = without_main_text(markup, page.get("without", []), page.get("with", []))
        if stripped is not None:
            boilerplate.append(extracted_sentences(stripped))
        if number % 100 == 0:
            print(f"  {number} pages", flush=True)
    rows = []
    for bar in range(0, 7):
        refused = sum(1 for s in articles if s is None or s < bar)
        accepted = sum(1 for s in boilerplate if s is not None and s >= bar)
        rows.append(
            (
                bar,
                f"{refused} ({100 * refused / len(articles):.1f}%)",
                f"{accepted} ({100 * accepted / len(boilerplate):.1f}%)",
            )
        )
    print(
        f"\n{len(articles)} articles, {len(boilerplate)} boilerplate pages; a full sentence has "
        f"at least {MIN_SENTENCE_WORDS} words (shipped bar: {MIN_ARTICLE_SENTENCES})\n"
    )
    print(table(("bar", "articles refused", "boilerplate accepted"), rows))
    histogram = Counter(min(s, 10) if s is not None else -1 for s in boilerplate)
    print("\nboilerplate pages by full sentences (-1: trafilatura found nothing; 10: 10 or more):")
    print(dict(sorted(histogram.items())))
    path = write_json(
        "boilerplate-quick.json" if options.quick else "boilerplate.json",
        {
            "machine": info,
            "min_sentence_words": MIN_SENTENCE_WORDS,
            "articles": articles,
            "boilerplate": boilerplate,
            "table": rows,
        },
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
