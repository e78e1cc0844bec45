"""Dense vectors: a FAISS index of passage ids, and sentence vectors to rerank and highlight.

FAISS holds ids and vectors only; text and citations live in SQLite.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


class DenseIndex:
    """Inner-product search over L2-normalised passage vectors (cosine similarity)."""

    def __init__(self, *, index: faiss.Index) -> None:
        self._index = index
        self.dimension = int(index.d)

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, *, dimension: int) -> DenseIndex:
        """A brute-force index of ``vectors`` keyed by passage ``ids``, stored as float16.

        Search reads every vector, so it is bound by memory bandwidth: half-precision vectors
        halve what is read and stored. Measured on 100,000 normalised 384-d vectors, one thread:
        6.2 ms a search as float32, 2.6 ms as float16, the same 50 nearest for 99.8% (README,
        Speed); float16 keeps a cosine to about 1e-3, far below the differences that rank.
        """
        flat = faiss.IndexScalarQuantizer(
            dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        index = faiss.IndexIDMap2(flat)
        if len(ids):
            index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
            )
        return cls(index=index)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def save(self, folder: Path, channel: str) -> None:
        """Write the index of ``channel`` into ``folder``."""
        faiss.write_index(self._index, str(folder / f"{channel}.faiss"))

    @classmethod
    def load(cls, folder: Path, channel: str) -> DenseIndex:
        """Read an index written by ``save``."""
        return cls(index=faiss.read_index(str(folder / f"{channel}.faiss")))

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest ``(passage id, cosine)`` pairs, best first."""
        if not len(self):
            return []
        scores, ids = self._index.search(query.reshape(1, -1).astype(np.float32), min(k, len(self)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def nearest_among(self, ids: list[int], query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` of these passage ids nearest ``query``, best first (ties by id).

        FAISS scans only the selected ids in C++: 3.3 ms for 20,000 of 100,000 vectors, one
        thread, where reading them back to score in numpy takes 25 ms.
        """
        if not ids or not len(self) or k <= 0:
            return []
        selector = faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64))
        params = faiss.SearchParameters()
        params.sel = selector  # ``selector`` stays referenced until the search returns
        found, at = self._index.search(
            query.reshape(1, -1).astype(np.float32), min(k, len(ids)), params=params
        )
        pairs = [(int(i), float(s)) for i, s in zip(at[0], found[0], strict=True) if i >= 0]
        return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))

    def scores(self, ids: list[int], query: np.ndarray) -> dict[int, float]:
        """Cosine of ``query`` with the stored vectors of these passage ids."""
        if not ids:
            return {}
        vectors = self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64))
        cosines = (vectors @ query).tolist()
        return dict(zip(ids, cosines, strict=True))


class SentenceVectors:
    """The vectors of every passage's sentences, stored float16 and memory-mapped.

    ``offsets`` has one row per passage, sorted by passage id: ``(passage id, first row, count)``.
    """

    def __init__(self, *, vectors: np.ndarray, offsets: np.ndarray) -> None:
        self.vectors = vectors
        self.offsets = offsets

    @classmethod
    def build(cls, rows: list[tuple[int, np.ndarray]], *, dimension: int) -> SentenceVectors:
        """From ``(passage id, sentence vectors)`` pairs."""
        rows = sorted(rows, key=lambda r: r[0])
        offsets = np.zeros((len(rows), 3), dtype=np.int64)
        cursor = 0
        for i, (pid, vecs) in enumerate(rows):
            offsets[i] = (pid, cursor, len(vecs))
            cursor += len(vecs)
        vectors = (
            np.concatenate([v for _, v in rows]).astype(np.float16)
            if rows
            else np.zeros((0, dimension), dtype=np.float16)
        )
        return cls(vectors=vectors, offsets=offsets)

    def save(self, folder: Path, channel: str) -> None:
        """Write the sentence vectors of ``channel`` into ``folder``."""
        np.save(folder / f"{channel}-sentences.npy", self.vectors)
        np.save(folder / f"{channel}-offsets.npy", self.offsets)

    @classmethod
    def load(cls, folder: Path, channel: str) -> SentenceVectors:
        """Read what ``save`` wrote; the vectors stay on disk, paged in as they are used."""
        return cls(
            vectors=np.load(folder / f"{channel}-sentences.npy", mmap_mode="r"),
            offsets=np.load(folder / f"{channel}-offsets.npy"),
        )

    def of(self, passage_id: int) -> np.ndarray:
        """The sentence vectors of one passage (float32), empty if unknown."""
        i = int(np.searchsorted(self.offsets[:, 0], passage_id))
        if i >= len(self.offsets) or self.offsets[i, 0] != passage_id:
            return np.zeros((0, self.vectors.shape[1]), dtype=np.float32)
        _, start, count = self.offsets[i]
        return np.asarray(self.vectors[start : start + count], dtype=np.float32)
