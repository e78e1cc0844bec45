"""The write side: ingest documents, remove sources, and build the indexes of a corpus version."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from corpus.chunking import Chunk, ChunkingOptions, chunk_text
from corpus.loaders import Document
from corpus.models import Source
from corpus.store import Store, now, text_hash
from retrieval.config import RetrievalConfig
from retrieval.dense import DenseIndex, SentenceVectors
from retrieval.encoders import Encoder
from retrieval.errors import IndexMismatch, IndexMissing
from retrieval.index_files import IndexFiles, Manifest
from retrieval.lexical import LexicalIndex

#: ``progress(done, total)`` is called while texts are embedded.
Progress = Callable[[int, int], None]

_BATCH = 256


class Status(StrEnum):
    """What ingesting one document did."""

    ADDED = "added"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The outcome for one document."""

    source: Source
    status: Status
    embedded: int


class Indexer:
    """Changes the corpus and keeps the published index in step with it."""

    def __init__(
        self,
        *,
        config: RetrievalConfig,
        store: Store,
        encoder: Callable[[], Encoder],
    ) -> None:
        self.config = config
        self.store = store
        self.files = IndexFiles(data_dir=config.data_dir)
        # The model loads only when something must be embedded (it takes seconds).
        self._encoder_factory = encoder
        self._encoder: Encoder | None = None
        self.chunking = ChunkingOptions(
            target_sentences=config.target_sentences,
            min_sentences=min(2, config.target_sentences),
            max_sentences=max(config.max_sentences, config.target_sentences),
        )

    @property
    def encoder(self) -> Encoder:
        """The dense encoder, loaded on first use."""
        if self._encoder is None:
            self._encoder = self._encoder_factory()
        return self._encoder

    # -- changes -----------------------------------------------------------------------------

    def ingest(
        self,
        documents: Sequence[Document],
        *,
        progress: Progress | None = None,
        actor: str = "cli",
    ) -> list[IngestResult]:
        """Add or replace documents in one transaction, then publish a new index.

        Documents whose content hash is unchanged are left alone and embed nothing.
        """
        self._check_model()
        changed: list[tuple[Document, list[Chunk]]] = []
        unchanged: list[IngestResult] = []
        for document in documents:
            existing = self.store.source_by_identity(document.identity)
            if existing is not None and existing.content_hash == document.content_hash:
                unchanged.append(IngestResult(existing, Status.UNCHANGED, 0))
                continue
            chunks = chunk_text(
                document.text,
                document.metadata["language"],
                pages=document.pages,
                options=self.chunking,
            )
            changed.append((document, chunks))
        if not changed:
            self.ensure_current()
            return unchanged
        texts = [_texts(document, chunks) for document, chunks in changed]
        fresh = self._embed_missing([t for group in texts for t in group], progress=progress)
        stored = self.store.replace_sources(changed, actor=actor)
        results = [
            IngestResult(
                source,
                Status.REPLACED if replaced else Status.ADDED,
                len({text_hash(t) for t in group} & fresh),
            )
            for (source, replaced), group in zip(stored, texts, strict=True)
        ]
        self.ensure_current()
        return results + unchanged

    def remove(self, source_id: str, *, actor: str = "cli") -> Source:
        """Remove a source everywhere: SQLite first, then a new index without it."""
        self._check_model()
        source = self.store.remove_source(source_id, actor=actor)
        self.ensure_current()
        return source

    # -- indexes -----------------------------------------------------------------------------

    def is_current(self) -> bool:
        """Whether the published index matches the corpus version and the configured model."""
        try:
            _, manifest = self.files.current()
        except IndexMissing:
            return False
        return (
            manifest.corpus_version == self.store.corpus_version()
            and manifest.model == self.config.model
        )

    def ensure_current(self, *, progress: Progress | None = None) -> Manifest:
        """Publish an index of the current corpus version unless one already is.

        An index built with another model is refused, not silently re-embedded: that is a
        deliberate ``reindex``.
        """
        with self.files.writing():
            manifest = self._check_model()
            if manifest is not None and manifest.corpus_version == self.store.corpus_version():
                return manifest
            return self._build(progress=progress)

    def _check_model(self) -> Manifest | None:
        try:
            _, manifest = self.files.current()
        except IndexMissing:
            return None
        if manifest.model != self.config.model:
            raise IndexMismatch(
                f"the index was built with model {manifest.model!r} but the configured model "
                f"is {self.config.model!r}; run `citebot reindex` to rebuild it, "
                "or set CITEBOT_MODEL back"
            )
        return manifest

    def reindex(self, *, progress: Progress | None = None) -> Manifest:
        """Rebuild the index from SQLite, embedding whatever the configured model lacks."""
        with self.files.writing():
            return self._build(progress=progress)

    def _build(self, *, progress: Progress | None) -> Manifest:
        version, passages = self.store.snapshot()
        texts = [p.text for p in passages] + [s for p in passages for s in p.sentence_texts()]
        self._embed_missing(texts, progress=progress)
        vectors = self._vectors(texts)
        dimension = self._dimension(vectors)
        ids = np.array([p.id for p in passages], dtype=np.int64)
        passage_matrix = (
            np.stack([vectors[text_hash(p.text)] for p in passages])
            if passages
            else np.zeros((0, dimension), dtype=np.float32)
        )
        dense = DenseIndex.build(ids, passage_matrix, dimension=dimension)
        sentence_rows = [
            (p.id, np.stack([vectors[text_hash(s)] for s in p.sentence_texts()])) for p in passages
        ]
        sentences = SentenceVectors.build(sentence_rows, dimension=dimension)
        lexical = LexicalIndex.build([(p.id, p.text, p.language) for p in passages])
        manifest = Manifest(
            model=self.config.model,
            dimension=dimension,
            passages=len(passages),
            sentences=len(sentences.vectors),
            corpus_version=version,
            built_at=now(),
            channels=("dense", "lexical"),
        )

        def write(folder: Path) -> None:
            dense.save(folder)
            sentences.save(folder)
            lexical.save(folder)

        self.files.publish(manifest, write)
        return manifest

    def _dimension(self, vectors: dict[str, np.ndarray]) -> int:
        for vector in vectors.values():
            return int(vector.shape[0])
        # An empty corpus: keep the dimension of the last build rather than load the model.
        try:
            _, manifest = self.files.current()
            if manifest.model == self.config.model:
                return manifest.dimension
        except IndexMissing:
            pass
        return self.encoder.dimension

    def _vectors(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        hashes = [text_hash(t) for t in texts]
        blobs = self.store.cached_vectors(self.config.model, hashes)
        return {h: np.frombuffer(b, dtype=np.float32) for h, b in blobs.items()}

    def _embed_missing(self, texts: Sequence[str], *, progress: Progress | None) -> set[str]:
        """Embed and cache the texts the cache lacks; return the hashes embedded."""
        by_hash = {text_hash(t): t for t in texts}
        cached = self.store.cached_vectors(self.config.model, list(by_hash))
        missing = [(h, t) for h, t in by_hash.items() if h not in cached]
        total = len(missing)
        if progress:
            progress(0, total)
        for start in range(0, total, _BATCH):
            batch = missing[start : start + _BATCH]
            matrix = self.encoder.encode_passages([t for _, t in batch])
            self.store.put_vectors(
                self.config.model,
                {
                    h: np.asarray(v, dtype=np.float32).tobytes()
                    for (h, _), v in zip(batch, matrix, strict=True)
                },
            )
            if progress:
                progress(min(start + _BATCH, total), total)
        return {h for h, _ in missing}


def _texts(document: Document, chunks: Sequence[Chunk]) -> list[str]:
    """Every text of a document that gets a vector: its passages and their sentences."""
    texts: list[str] = []
    for chunk in chunks:
        passage = document.text[chunk.start : chunk.end]
        texts.append(passage)
        texts.extend(passage[s.start : s.end].strip() for s in chunk.sentences)
    return texts
