"""The encoders' thread settings: passages on every core, questions on one."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch.nn.modules.module import register_module_forward_pre_hook

from retrieval.encoders import Encoder

TEXTS = [
    "Lukashenko's government still holds approximately 1,200 political prisoners.",
    "Among those still imprisoned are Nobel laureate Ales Bialiatski and Maria Kalesnikava.",
    "Сколько политических заключённых остаётся в Беларуси?",
]


def test_passages_use_every_core_and_questions_stay_on_one(encoders: dict[str, Encoder]) -> None:
    dense = encoders["dense"]
    seen: set[int] = set()
    hook = register_module_forward_pre_hook(lambda module, args: seen.add(torch.get_num_threads()))
    try:
        passages = dense.encode_passages(TEXTS)
    finally:
        hook.remove()
    assert seen == {len(os.sched_getaffinity(0))}
    # Back on one thread for questions, with the same vectors either way.
    assert torch.get_num_threads() == 1
    seen.clear()
    hook = register_module_forward_pre_hook(lambda module, args: seen.add(torch.get_num_threads()))
    try:
        questions = dense.encode_queries(TEXTS)
    finally:
        hook.remove()
    assert seen == {1}
    assert np.allclose(passages, questions, atol=1e-5)
