"""The services both faces share: the store, the model, the indexer and the live library.

The model is loaded only when something needs it, so commands like ``citebot sources`` start fast
and never import torch.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from bot.settings import Settings
from corpus.store import Store
from retrieval.encoders import Encoder, load_encoders
from retrieval.indexer import Indexer
from retrieval.service import Library


class Services:
    """One data directory's store, encoder, indexer and library, created on first use."""

    def __init__(
        self, *, settings: Settings, encoders: Mapping[str, Encoder] | None = None
    ) -> None:
        self.settings = settings
        self.config = settings.retrieval()
        self.store = Store(data_dir=self.config.data_dir)
        self._lock = threading.Lock()
        # Tests pass the session's encoders here instead of loading the models again.
        self._encoders: Mapping[str, Encoder] | None = encoders
        self._library: Library | None = None
        self.indexer = Indexer(config=self.config, store=self.store, encoders=lambda: self.encoders)

    @property
    def encoders(self) -> Mapping[str, Encoder]:
        """The dense encoders by channel (loads the models the first time)."""
        with self._lock:
            if self._encoders is None:
                self._encoders = load_encoders(self.config)
            return self._encoders

    @property
    def library(self) -> Library:
        """The live library, after making sure the published index is current."""
        if self._library is None:
            if not self.indexer.is_current():
                self.indexer.ensure_current()
            encoders = self.encoders
            library = Library(config=self.config, store=self.store, encoders=encoders)
            library.refresh()
            self._library = library
        return self._library

    def refresh(self) -> bool:
        """Publish an index if the corpus changed without one; swap in the newest build.

        Returns whether a new build was swapped in.
        """
        if not self.indexer.is_current():
            self.indexer.ensure_current()
        return self.library.refresh()

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()
