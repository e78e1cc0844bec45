"""Questions and passages through ONNX Runtime: the same vectors as torch, faster.

A question is one short sequence; torch's per-call overhead dominates it (12 ms a question on
one core, against 6 ms in ONNX Runtime, bench/latency.py). Batches of passages run 1.6-1.8 times
faster too. The transformer is exported once with torch's dynamo exporter into the data
directory (about 7 s) and checked against torch before use. Questions have a session of their
own on ``threads`` (one); batches get a second session, on every core, made when first needed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
#: The exported model must agree with torch at least this well (cosine) or it is not used.
_AGREEMENT = 0.9999
_PROBE = "how many political prisoners remain in Belarus?"


class OnnxQueryEncoder:
    """Mean-pooled, normalised transformer vectors of single questions via ONNX Runtime."""

    def __init__(
        self, *, session: Any, tokenizer: Any, max_length: int, path: Path | None = None
    ) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._max_length = max_length
        self._names = {i.name for i in session.get_inputs()}
        self._path = path
        self._batches: Any = None
        self._batches_lock = threading.Lock()

    @classmethod
    def prepare(
        cls, *, transformer: Any, tokenizer: Any, folder: Path, threads: int, reference: Any
    ) -> OnnxQueryEncoder:
        """Load the export in ``folder`` (exporting first if needed) and check it."""
        path = folder / "model.onnx"
        if not path.exists():
            _export(transformer, tokenizer, folder)
        session = _session(path, threads)
        encoder = cls(
            session=session,
            tokenizer=tokenizer,
            max_length=transformer.max_seq_length,
            path=path,
        )
        agreement = float(encoder.encode(_PROBE)[0] @ reference(_PROBE))
        if agreement < _AGREEMENT:
            raise RuntimeError(f"the ONNX export disagrees with torch (cosine {agreement:.5f})")
        return encoder

    def encode(self, text: str) -> np.ndarray:
        """The vector of one question, shape ``(1, dimension)``."""
        return self._run(self._session, [text])

    def encode_batch(self, texts: Sequence[str], *, threads: int) -> np.ndarray:
        """Vectors of a batch of passages, on the batch session (``threads``, made once)."""
        with self._batches_lock:
            if self._batches is None:
                assert self._path is not None
                self._batches = _session(self._path, threads)
        return self._run(self._batches, texts)

    def _run(self, session: Any, texts: Sequence[str]) -> np.ndarray:
        batch = self._tokenizer(
            list(texts),
            return_tensors="np",
            truncation=True,
            max_length=self._max_length,
            padding=True,
        )
        feeds = {k: batch[k].astype(np.int64) for k in _INPUTS if k in self._names}
        hidden = session.run(None, feeds)[0]
        mask = batch["attention_mask"][..., None].astype(hidden.dtype)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-9)
        return np.ascontiguousarray(pooled, dtype=np.float32)


def _session(path: Path, threads: int) -> Any:
    """An ONNX Runtime session on the CPU with ``threads`` (0: its default)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads > 0:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export_folder(cache: Path, model: str, location: str) -> Path:
    """Where the export of ``model`` (loaded from ``location``) lives under ``cache``."""
    digest = hashlib.sha256(f"{model}\0{location}".encode()).hexdigest()[:12]
    slug = "".join(c if c.isalnum() else "-" for c in model)[:40]
    return cache / f"{slug}-{digest}"


def _export(transformer: Any, tokenizer: Any, folder: Path) -> None:
    """Export to a temporary folder beside ``folder`` and rename it into place (atomic)."""
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    try:
        example = tokenizer(
            [_PROBE, "a longer second question, so that the example has padding in it"],
            return_tensors="pt",
            padding=True,
        )
        dynamic = {"batch": torch.export.Dim("batch"), "sequence": torch.export.Dim("sequence")}
        shapes = {name: {0: dynamic["batch"], 1: dynamic["sequence"]} for name in _INPUTS}
        log.info("exporting the question encoder to ONNX (once per data directory)")
        # The exporter prints progress and warnings; the CLI's output must stay clean (JSON).
        exporter_log = logging.getLogger("torch.onnx")
        level = exporter_log.level
        exporter_log.setLevel(logging.ERROR)
        try:
            with (
                torch.inference_mode(),
                contextlib.redirect_stdout(io.StringIO()),
                warnings.catch_warnings(),
            ):
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    Hidden(transformer.auto_model).eval(),
                    tuple(example[name] for name in _INPUTS),
                    str(staging / "model.onnx"),
                    input_names=list(_INPUTS),
                    output_names=["last_hidden_state"],
                    dynamic_shapes=shapes,
                    dynamo=True,
                    external_data=True,
                )
        finally:
            exporter_log.setLevel(level)
        for child in staging.iterdir():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
        try:
            os.rename(staging, folder)
        except OSError:
            # Another process finished the same export first: use theirs.
            if not (folder / "model.onnx").exists():
                raise
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
