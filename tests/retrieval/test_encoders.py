"""The English encoder: passages on every core, questions on one; ONNX Runtime agrees with torch."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch.nn.modules.module import register_module_forward_pre_hook

from retrieval.config import RetrievalConfig
from retrieval.encoders import Encoder, SentenceTransformerEncoder, load_encoder

TEXTS = [
    "Lukashenko's government still holds approximately 1,200 political prisoners, according to "
    "human rights organizations, despite the headline-grabbing releases of the past year.",
    "Bialiatski.",
    "Сколько политических заключённых остаётся в Беларуси?",
    "Among those still imprisoned are Nobel laureate Ales Bialiatski and Maria Kalesnikava. " * 40,
    "How many?",
]


@pytest.fixture(scope="module")
def torch_only() -> Iterator[SentenceTransformerEncoder]:
    """The bundled model without ONNX Runtime (the fallback path)."""
    yield load_encoder(RetrievalConfig())


def threads_used(run: object) -> set[int]:
    """The torch thread counts seen by every module call while ``run()`` runs."""
    seen: set[int] = set()
    hook = register_module_forward_pre_hook(lambda module, args: seen.add(torch.get_num_threads()))
    try:
        run()  # type: ignore[operator]
    finally:
        hook.remove()
    return seen


def test_torch_embeds_passages_on_every_core_and_questions_on_one(
    torch_only: SentenceTransformerEncoder,
) -> None:
    passages: list[np.ndarray] = []
    seen = threads_used(lambda: passages.append(torch_only.encode_passages(TEXTS)))
    assert seen == {len(os.sched_getaffinity(0))}
    assert torch.get_num_threads() == 1
    questions: list[np.ndarray] = []
    assert threads_used(lambda: questions.append(torch_only.encode_queries(TEXTS))) == {1}
    assert np.allclose(passages[0], questions[0], atol=1e-5)


def test_onnx_runtime_passages_match_torch_in_order(
    encoders: dict[str, Encoder], torch_only: SentenceTransformerEncoder
) -> None:
    # The session's encoder runs on ONNX Runtime; it sorts by length inside, so order matters.
    fast = encoders["dense"].encode_passages(TEXTS)
    slow = torch_only.encode_passages(TEXTS)
    assert fast.shape == slow.shape == (len(TEXTS), torch_only.dimension)
    assert np.all(np.sum(fast * slow, axis=1) > 0.9999)
    # Torch is not used for them at all.
    assert threads_used(lambda: encoders["dense"].encode_passages(TEXTS)) == set()
