"""The FAISS index of passage vectors: nearest first, cosines to float16 precision, saved whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from retrieval.dense import DenseIndex


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


RNG = np.random.default_rng(7)
VECTORS = unit(RNG.standard_normal((500, 64)))
IDS = np.arange(1000, 1500, dtype=np.int64)


def test_search_returns_the_nearest_passages_with_their_cosines() -> None:
    index = DenseIndex.build(IDS, VECTORS, dimension=64)
    query = unit(VECTORS[42:43] + 0.1 * RNG.standard_normal((1, 64)))[0]
    exact = VECTORS @ query
    found = index.search(query, 10)
    assert [pid for pid, _ in found] == [int(IDS[i]) for i in np.argsort(-exact)[:10]]
    for pid, score in found:
        assert abs(score - exact[pid - 1000]) < 2e-3  # stored as float16


def test_scores_of_given_passages_and_a_round_trip_through_a_file(tmp_path: Path) -> None:
    index = DenseIndex.build(IDS, VECTORS, dimension=64)
    index.save(tmp_path, "dense")
    loaded = DenseIndex.load(tmp_path, "dense")
    assert len(loaded) == 500 and loaded.dimension == 64
    query = VECTORS[3]
    scores = loaded.scores([1003, 1400], query)
    assert abs(scores[1003] - 1.0) < 2e-3
    assert abs(scores[1400] - float(VECTORS[400] @ query)) < 2e-3


def test_an_empty_index_finds_nothing() -> None:
    index = DenseIndex.build(np.zeros(0, dtype=np.int64), np.zeros((0, 64)), dimension=64)
    assert index.search(VECTORS[0], 5) == [] and len(index) == 0
    assert index.nearest_among([1, 2], VECTORS[0], 5) == []


def test_the_nearest_among_given_passages_ignores_every_other_one() -> None:
    index = DenseIndex.build(IDS, VECTORS, dimension=64)
    query = VECTORS[42]
    among = [int(i) for i in IDS[100:300]]  # passage 1042, the query itself, is not among them
    exact = {pid: float(VECTORS[pid - 1000] @ query) for pid in among}
    found = index.nearest_among(among, query, 5)
    assert [pid for pid, _ in found] == sorted(among, key=lambda p: -exact[p])[:5]
    assert index.nearest_among([1042, 1300], query, 5)[0][0] == 1042
    assert index.nearest_among([], query, 5) == [] and index.nearest_among(among, query, 0) == []
