"""Fusion functions are pure and behave as documented."""

from __future__ import annotations

import pytest

from retrieval.fusion import blend, minmax, rrf, top


def test_minmax_scales_to_unit_range() -> None:
    assert minmax({1: 2.0, 2: 4.0, 3: 3.0}) == {1: 0.0, 2: 1.0, 3: 0.5}
    assert minmax({1: 5.0}) == {1: 1.0}
    assert minmax({}) == {}


def test_blend_keeps_margins_that_rrf_discards() -> None:
    dense = {1: 0.9, 2: 0.2, 3: 0.1}
    lexical = {2: 10.0, 1: 9.9, 3: 0.0}
    fused = blend([dense, lexical], [0.5, 0.5])
    assert top(fused, 1) == [1]
    ranks = rrf([top(dense, 3), top(lexical, 3)])
    assert ranks[1] == pytest.approx(ranks[2])


def test_blend_needs_one_weight_per_channel() -> None:
    with pytest.raises(ValueError):
        blend([{1: 1.0}], [0.5, 0.5])
