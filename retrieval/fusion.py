"""Pure functions that fuse the ranked lists of several retrieval channels.

Measured on XQuAD (bench/xquad.py, README): blending min-max normalised scores keeps how far
ahead a channel's best match is, which rank fusion throws away, and wins (R@1 0.907 against
0.887 for RRF on the same passages). RRF stays here as the measured alternative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def minmax(scores: Mapping[int, float]) -> dict[int, float]:
    """Scale scores to [0, 1] within one list (all equal -> all 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {key: (value - low) / (high - low) for key, value in scores.items()}


def blend(channels: Sequence[Mapping[int, float]], weights: Sequence[float]) -> dict[int, float]:
    """Weighted sum of each channel's min-max normalised scores; absent from a channel counts 0."""
    if len(channels) != len(weights):
        raise ValueError("one weight per channel")
    fused: dict[int, float] = {}
    for scores, weight in zip(channels, weights, strict=True):
        for key, value in minmax(scores).items():
            fused[key] = fused.get(key, 0.0) + weight * value
    return fused


#: The name of the lexical channel in fused score tables.
LEXICAL = "lexical"


def fuse(
    channels: Mapping[str, Mapping[int, float]],
    weights: Mapping[int, Mapping[str, float]],
) -> dict[int, float]:
    """Blend channels like ``blend``, but with weights per item (they depend on its language).

    ``weights[item][channel]`` weighs that channel's min-max normalised score of ``item``.
    """
    normalised = {name: minmax(scores) for name, scores in channels.items()}
    return {
        item: sum(w * normalised[name].get(item, 0.0) for name, w in item_weights.items())
        for item, item_weights in weights.items()
    }


def rrf(rankings: Sequence[Sequence[int]], *, k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion: sum of ``1 / (k + rank)`` over the lists an item appears in."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused


def top(scores: Mapping[int, float], n: int) -> list[int]:
    """The ``n`` best keys, best first (ties broken by key for stable output)."""
    return [key for key, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
