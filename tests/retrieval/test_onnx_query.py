"""Questions through ONNX Runtime: same vectors as torch, exported once, torch when it fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.config import RetrievalConfig
from retrieval.encoders import (
    Encoder,
    SentenceTransformerEncoder,
    load_encoder,
    use_onnx,
)
from retrieval.onnx_query import export_folder

QUESTIONS = [
    "how many political prisoners remain?",
    "сколько политзаключённых осталось в Беларуси?",
    "Колькі палітвязняў засталося?",
    "When was Ales Bialiatski released? " * 60,  # longer than the model's 256 tokens
    "?",
]


def test_single_questions_match_torch(encoders: dict[str, Encoder]) -> None:
    """One question goes through ONNX (the session's encoder); two go through torch."""
    dense = encoders["dense"]
    for question in QUESTIONS:
        fast = dense.encode_queries([question])[0]
        batched = dense.encode_queries([question, "padding partner"])[0]
        assert fast.shape == batched.shape
        assert float(fast @ batched) > 0.9999, question


def test_broken_export_falls_back_to_torch_then_export_is_reused(tmp_path: Path) -> None:
    config = RetrievalConfig()
    first = load_encoder(config)
    folder = export_folder(tmp_path, first.name, first._location)
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"not a model")

    # A broken export is removed and questions stay on torch (still answered).
    assert not first.use_onnx_runtime(tmp_path, threads=1)
    assert not folder.exists()
    torch_vector = first.encode_queries([QUESTIONS[0]])[0]

    # The next attempt exports again and agrees with torch.
    assert first.use_onnx_runtime(tmp_path, threads=1)
    exported = (folder / "model.onnx").stat().st_mtime_ns
    assert float(first.encode_queries([QUESTIONS[0]])[0] @ torch_vector) > 0.9999

    # Another process (here: another encoder) uses the export as it is.
    second = load_encoder(config)
    assert second.use_onnx_runtime(tmp_path, threads=1)
    assert (folder / "model.onnx").stat().st_mtime_ns == exported
    assert float(second.encode_queries([QUESTIONS[0]])[0] @ torch_vector) > 0.9999


@pytest.mark.parametrize("enabled", [True, False])
def test_configuration_switches_it(
    tmp_path: Path, encoders: dict[str, Encoder], enabled: bool
) -> None:
    config = RetrievalConfig(data_dir=tmp_path, onnx=enabled)
    # Only a sentence-transformers model is exported; USE-m3 in the English channel is left alone.
    assert not use_onnx({"dense": encoders["xling"]}, config)
    assert not (tmp_path / "models").exists()
    assert isinstance(encoders["dense"], SentenceTransformerEncoder)
    # The session's encoder already runs on ONNX: switching it on is a no-op that says so.
    assert use_onnx(encoders, config) is enabled
