"""Chunking: passages of whole sentences with exact offsets."""

from __future__ import annotations

import re

from corpus.chunking import ChunkingOptions, chunk_text
from corpus.loaders import load_path
from corpus.models import Span
from tests.documents import SEED


def test_seed_passages_are_whole_sentences_with_exact_offsets() -> None:
    document = load_path(SEED)
    chunks = chunk_text(document.text, "en")
    assert len(chunks) > 5
    for chunk in chunks:
        text = document.text[chunk.start : chunk.end]
        assert 1 <= len(chunk.sentences) <= 4
        assert text == text.strip()
        # Every passage ends a sentence (a full stop, quote or question mark) ...
        assert re.search(r"[.!?”\"]$", text), text
        # ... and its sentence spans tile it.
        assert chunk.sentences[0].start == 0
        assert chunk.sentences[-1].end == len(text)
    canonical = [c for c in chunks if "1,200 political prisoners" in document.text[c.start : c.end]]
    assert len(canonical) == 1


def test_chunks_cover_every_sentence_once_in_order() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(1, 12))
    chunks = chunk_text(text, "en")
    rebuilt = " ".join(text[c.start : c.end] for c in chunks)
    assert rebuilt == text
    assert [len(c.sentences) for c in chunks] == [3, 3, 3, 2] or all(
        2 <= len(c.sentences) <= 4 for c in chunks
    )


def test_sentence_count_is_configurable() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(1, 13))
    options = ChunkingOptions(target_sentences=2, min_sentences=2, max_sentences=2)
    assert all(len(c.sentences) == 2 for c in chunk_text(text, "en", options=options))


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = (
        "Среди задержанных — лауреат премии А. Беляцкий и др. оппозиционеры. "
        "Репрессии продолжаются."
    )
    chunks = chunk_text(text, "ru")
    spans = [text[c.start + s.start : c.start + s.end] for c in chunks for s in c.sentences]
    assert spans[0].endswith("оппозиционеры.")
    assert len(spans) == 2


def test_a_heading_is_carried_into_the_next_paragraph() -> None:
    text = "Prisoners\n\nThe first sentence. The second sentence. The third sentence."
    chunks = chunk_text(text, "en")
    assert len(chunks) == 1
    assert text[chunks[0].start : chunks[0].end].startswith("Prisoners")


def test_pdf_pages_are_never_crossed() -> None:
    first = "Page one has a sentence. And another one."
    second = "Page two starts here. It ends here."
    text = first + "\n\n" + second
    pages = (Span(start=0, end=len(first)), Span(start=len(first) + 2, end=len(text)))
    chunks = chunk_text(text, "en", pages=pages)
    assert [c.page for c in chunks] == [1, 2]


def test_a_very_long_sentence_is_kept_whole() -> None:
    long = "This sentence " + "goes on and on, " * 150 + "and finally ends."
    chunks = chunk_text(long + " Short one.", "en")
    assert chunks[0].end - chunks[0].start >= len(long)
