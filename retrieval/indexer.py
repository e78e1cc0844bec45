"""The write side: ingest documents, remove sources, and build the indexes of a corpus version."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path

import numpy as np

from corpus.chunking import Chunk, chunk_document
from corpus.loaders import Document
from corpus.models import Passage, Source
from corpus.store import Store, now, text_hash
from retrieval.config import RetrievalConfig
from retrieval.dated import DateIndex
from retrieval.dense import DenseIndex, SentenceVectors
from retrieval.encoders import Encoder
from retrieval.errors import IndexMissing, RetrievalError
from retrieval.index_files import ChannelInfo, IndexFiles, Manifest
from retrieval.lexical import LexicalIndex

#: ``progress(done, total)`` is called while texts are embedded.
Progress = Callable[[int, int], None]

_BATCH = 256
#: Snapshots tried when a concurrent removal drops vectors mid-build.
_SNAPSHOT_TRIES = 3


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
        encoders: Callable[[], Mapping[str, Encoder]],
    ) -> None:
        self.config = config
        self.store = store
        self.files = IndexFiles(data_dir=config.data_dir)
        # The models load only when something must be embedded (it takes seconds).
        self._encoder_factory = encoders
        self._encoders: Mapping[str, Encoder] | None = None
        self.models = config.models()
        self.chunking = config.chunking()

    @property
    def encoders(self) -> Mapping[str, Encoder]:
        """The dense encoders by channel, loaded on first use."""
        if self._encoders is None:
            self._encoders = self._encoder_factory()
        return self._encoders

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
            existing = self.store.corpus.source_by_identity(document.identity)
            if existing is not None and existing.content_hash == document.content_hash:
                unchanged.append(IngestResult(existing, Status.UNCHANGED, 0))
                continue
            # Bounded before anything is embedded: too many passages is a DocumentError.
            changed.append((document, chunk_document(document, self.chunking)))
        if not changed:
            self.ensure_current()
            return unchanged
        texts = [_texts(document, chunks) for document, chunks in changed]
        flat = [t for group in texts for t in group]
        fresh: set[str] = set()
        for channel in self.models:
            fresh |= self._embed_missing(channel, flat, progress=progress)
        stored = self.store.corpus.replace_sources(changed, actor=actor)
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
        source = self.store.corpus.remove_source(source_id, actor=actor)
        self.ensure_current()
        return source

    # -- indexes -----------------------------------------------------------------------------

    def is_current(self) -> bool:
        """Whether the published index matches the corpus version and the configured models."""
        try:
            _, manifest = self.files.current()
        except IndexMissing:
            return False
        return (
            manifest.corpus_version == self.store.corpus.corpus_version()
            and manifest.models() == self.models
        )

    def ensure_current(self, *, progress: Progress | None = None) -> Manifest:
        """Publish an index of the current corpus version unless one already is.

        An index built with other models is refused, not silently re-embedded: that is a
        deliberate ``reindex``.
        """
        with self.files.writing():
            manifest = self._check_model()
            if (
                manifest is not None
                and manifest.corpus_version == self.store.corpus.corpus_version()
            ):
                return manifest
            return self._build(progress=progress)

    def _check_model(self) -> Manifest | None:
        try:
            _, manifest = self.files.current()
        except IndexMissing:
            return None
        manifest.check(self.models)
        return manifest

    def reindex(self, *, progress: Progress | None = None) -> Manifest:
        """Rebuild the index from SQLite, embedding whatever the configured model lacks."""
        with self.files.writing():
            return self._build(progress=progress)

    def _snapshot(
        self, *, progress: Progress | None
    ) -> tuple[int, list[Passage], dict[str, dict[str, np.ndarray]]]:
        """The corpus and every vector it needs, embedding what the cache lacks.

        A removal in another process drops the vectors no passage uses any more; if it lands
        between the snapshot and the reading of the vectors, a passage of the snapshot has
        lost its vectors and the snapshot is taken again (the passage is gone by then).
        """
        for _ in range(_SNAPSHOT_TRIES):
            version, passages = self.store.corpus.snapshot()
            texts = [p.text for p in passages] + [s for p in passages for s in p.sentence_texts()]
            needed = {text_hash(t) for t in texts}
            vectors: dict[str, dict[str, np.ndarray]] = {}
            for channel, model in self.models.items():
                self._embed_missing(channel, texts, progress=progress)
                vectors[channel] = self._vectors(model, texts)
            if all(needed <= found.keys() for found in vectors.values()):
                return version, passages, vectors
        raise RetrievalError("the corpus kept changing while the index was built; try again")

    def _build(self, *, progress: Progress | None) -> Manifest:
        version, passages, all_vectors = self._snapshot(progress=progress)
        ids = np.array([p.id for p in passages], dtype=np.int64)
        channels: dict[str, ChannelInfo] = {}
        writers: list[Callable[[Path], None]] = []
        sentence_count = 0
        for channel, model in self.models.items():
            vectors = all_vectors[channel]
            dimension = self._dimension(channel, vectors)
            matrix = (
                np.stack([vectors[text_hash(p.text)] for p in passages])
                if passages
                else np.zeros((0, dimension), dtype=np.float32)
            )
            dense = DenseIndex.build(ids, matrix, dimension=dimension)
            sentences = SentenceVectors.build(
                [
                    (p.id, np.stack([vectors[text_hash(s)] for s in p.sentence_texts()]))
                    for p in passages
                ],
                dimension=dimension,
            )
            sentence_count = len(sentences.vectors)
            channels[channel] = ChannelInfo(model=model, dimension=dimension)
            writers.append(partial(dense.save, channel=channel))
            writers.append(partial(sentences.save, channel=channel))
        lexical = LexicalIndex.build([(p.id, p.text, p.language) for p in passages])
        writers.append(lexical.save)
        writers.append(DateIndex.build(passages).save)
        manifest = Manifest(
            channels=channels,
            passages=len(passages),
            sentences=sentence_count,
            corpus_version=version,
            built_at=now(),
        )

        def write(folder: Path) -> None:
            for writer in writers:
                writer(folder)

        self.files.publish(manifest, write)
        return manifest

    def _dimension(self, channel: str, vectors: dict[str, np.ndarray]) -> int:
        for vector in vectors.values():
            return int(vector.shape[0])
        # An empty corpus: keep the dimension of the last build rather than load the model.
        try:
            _, manifest = self.files.current()
            info = manifest.channels.get(channel)
            if info is not None and info.model == self.models[channel]:
                return info.dimension
        except IndexMissing:
            pass
        return self.encoders[channel].dimension

    def _vectors(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        hashes = [text_hash(t) for t in texts]
        blobs = self.store.corpus.cached_vectors(model, hashes)
        return {h: np.frombuffer(b, dtype=np.float32) for h, b in blobs.items()}

    def _embed_missing(
        self, channel: str, texts: Sequence[str], *, progress: Progress | None
    ) -> set[str]:
        """Embed and cache the texts the cache lacks for ``channel``; return the hashes."""
        model = self.models[channel]
        by_hash = {text_hash(t): t for t in texts}
        cached = self.store.corpus.cached_vectors(model, list(by_hash))
        missing = [(h, t) for h, t in by_hash.items() if h not in cached]
        total = len(missing)
        if progress:
            progress(0, total)
        for start in range(0, total, _BATCH):
            batch = missing[start : start + _BATCH]
            matrix = self.encoders[channel].encode_passages([t for _, t in batch])
            self.store.corpus.put_vectors(
                model,
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
