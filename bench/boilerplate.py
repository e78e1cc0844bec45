"""How many full sentences make an article: the bar that refuses pages of only boilerplate.

An HTML page is refused when trafilatura finds no main text, or when the text it extracts has
fewer than ``MIN_ARTICLE_SENTENCES`` full sentences (``MIN_SENTENCE_WORDS`` words or more, ending
in ``.``, ``!``, ``?`` or ``…``; ``corpus.loaders.full_sentences``). This measures the bar on
trafilatura's own evaluation set: real web pages (news, blogs, shops, institutions, in several
languages).

- An **article** is a page as it is: refusing it is a false refusal.
- A **boilerplate page** is the same page reduced to its chrome: its navigation, header, footer,
  sidebars, banners, cookie notices, share and "related" boxes (by tag, class or id), none of
  which holds a snippet of its main text (the set's "with" annotations), as a page with no
  article is. Accepting it is a false acceptance (the issue's
  "Home About" page).

Needs a checkout of https://github.com/adbar/trafilatura (``tests/eval/`` and
``tests/evaldata.json``): ``PYTHONPATH=. .venv/bin/python bench/boilerplate.py --trafilatura
PATH`` (about 5 minutes; ``--quick`` reads 100 pages).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
from collections import Counter
from pathlib import Path

import lxml.html

from bench.common import machine_info, print_machine, table, write_json
from corpus.loaders import (
    MIN_ARTICLE_SENTENCES,
    MIN_SENTENCE_WORDS,
    extract_html,
    full_sentences,
)


def extracted_sentences(markup: str) -> int | None:
    """Full sentences of the main text trafilatura extracts (as the loaders read a page), or
    None when it finds none."""
    doc = extract_html(markup)
    return None if doc is None or doc.text is None else full_sentences(doc.text)


#: What a site's chrome is made of: the containers of navigation, banners, footers, sidebars.
_CHROME_TAGS = ("nav", "header", "footer", "aside", "form")
_CHROME_NAMES = re.compile(
    r"nav|menu|header|footer|cookie|consent|banner|sidebar|breadcrumb|share|social|"
    r"related|widget|newsletter|subscribe|login|search|teaser|promo|toolbar",
    re.IGNORECASE,
)


def chrome_only(markup: str, main: list[str]) -> str | None:
    """The page reduced to its chrome: its head, and only the outermost navigation, header,
    footer, sidebar, banner and similar elements of its body (by tag, class or id) that hold
    none of the ``main`` text snippets, as a page with no article would be; None if the page
    has none."""
    tree = lxml.html.fromstring(markup.encode("utf-8"))
    body = tree.find("body")
    if body is None:
        return None
    kept: list[lxml.html.HtmlElement] = []
    for element in body.iter():
        if not isinstance(element.tag, str) or any(
            element is k or _inside(element, k) for k in kept
        ):
            continue
        names = f"{element.get('class', '')} {element.get('id', '')} {element.get('role', '')}"
        if element.tag in _CHROME_TAGS or _CHROME_NAMES.search(names):
            text = element.text_content() or ""
            # A "widget" or a <form> may wrap the article itself: then look inside it.
            if not any(snippet in text for snippet in main):
                kept.append(element)
    if not kept:
        return None
    copies = [copy.deepcopy(k) for k in kept]
    for child in list(body):
        body.remove(child)
    body.text = None
    for element in copies:
        element.tail = None
        body.append(element)
    return lxml.html.tostring(tree, encoding="unicode")


def _inside(element: lxml.html.HtmlElement, ancestor: lxml.html.HtmlElement) -> bool:
    return any(node is ancestor for node in element.iterancestors())


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
        stripped = chrome_only(markup, page.get("with", []))
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
