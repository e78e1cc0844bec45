"""Chunking: passages of whole sentences with exact offsets."""

from __future__ import annotations

import re
import time

import pytest

from corpus.chunking import MAX_PASSAGES, ChunkingOptions, chunk_document, chunk_text
from corpus.errors import DocumentError
from corpus.loaders import load_bytes, load_path
from corpus.models import Span
from tests.documents import SEED, markdown


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


def _covers(text: str, chunks: list) -> None:
    """Passages tile the text in order: nothing lost, nothing but whitespace between them."""
    cursor = 0
    for chunk in chunks:
        assert text[cursor : chunk.start].strip() == ""
        assert chunk.sentences[0].start == 0 and chunk.sentences[-1].end == chunk.end - chunk.start
        cursor = chunk.end
    assert text[cursor:].strip() == ""


def test_a_sentence_longer_than_a_passage_is_cut_at_word_boundaries() -> None:
    # Was "kept whole": a 2,400-character sentence made one 2,400-character passage, and an
    # unpunctuated file one passage of any length (a 5 MB one took the embedder past 23 GB).
    long = "This sentence " + "goes on and on, " * 150 + "and finally ends."
    text = long + " Short one."
    chunks = chunk_text(text, "en")
    assert len(chunks) > 1
    assert all(c.end - c.start <= ChunkingOptions().max_chars for c in chunks)
    for chunk in chunks:
        passage = text[chunk.start : chunk.end]
        # Cut between words: every piece starts and ends on a whole word.
        assert passage == passage.strip()
        assert text[chunk.start - 1 : chunk.start].strip() == ""
        assert text[chunk.end : chunk.end + 1].strip() in ("", ",")
    _covers(text, chunks)


def test_unpunctuated_text_and_endless_words_are_bounded() -> None:
    words = " ".join(f"word{i % 97}" for i in range(40_000))  # one 300 KB line, no full stop
    endless = "x" * 5_000  # one "word" longer than a passage: cut between characters
    options = ChunkingOptions()
    for text in (words, endless, f"{words}\n\n{endless}"):
        chunks = chunk_text(text, "en")
        assert all(0 < c.end - c.start <= options.max_chars for c in chunks)
        _covers(text, chunks)


def test_chunking_takes_linear_time_on_hostile_text() -> None:
    # Each of these is a megabyte; before, merging "sentences" after initials or lower-case
    # starts rescanned the growing sentence every time (quadratic).
    for text in ("x. " * 330_000, "A. " * 330_000, "word " * 200_000, "a" * 1_000_000):
        start = time.process_time()
        chunks = chunk_text(text, "en")
        assert time.process_time() - start < 10, text[:10]
        assert all(c.end - c.start <= ChunkingOptions().max_chars for c in chunks)


def test_a_document_with_too_many_passages_is_refused_before_embedding() -> None:
    body = "\n\n".join(
        f"Paragraph {i} states one thing. It then states another thing." for i in range(5_100)
    )
    document = load_bytes(markdown(body).encode(), "long.md")
    with pytest.raises(DocumentError) as caught:
        chunk_document(document)
    assert caught.value.code == "too_many_passages"
    assert f"more than {MAX_PASSAGES} passages" in str(caught.value)
    fine = load_bytes(markdown(body[:20_000]).encode(), "short.md")
    assert 0 < len(chunk_document(fine)) <= MAX_PASSAGES
