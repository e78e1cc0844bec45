"""The index folder: versioned builds, each with a manifest, published atomically.

Layout under ``<data dir>/index``::

    CURRENT                 name of the build readers use (replaced by rename, never in place)
    v000012-1a2b3c/         one complete build: manifest.json, passages.faiss, sentences.npy ...
    v000012-1a2b3c.lease    readers of that build hold a shared lock on this file
    .lock                   held by writers while they build and publish

A build is written into a temporary folder, every file is fsynced, the folder is renamed into
place, and only then is CURRENT replaced. A crash at any moment leaves CURRENT naming a complete
build; leftovers of an interrupted build are deleted by the next writer.

Old builds hold the text of removed documents (BM25's vocabulary, the vectors), so they are
deleted as soon as no reader uses them: a reader holds a lease (a shared ``flock``) on the build
it answers from, from before it opens the files until it lets the build go (its sentence vectors
are memory-mapped), and a build is deleted only under the exclusive lock, so never under a
reader. This works across processes: ``citebot remove`` waits for a running bot to let go of the
build it replaced.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from pydantic import BaseModel, ConfigDict

from retrieval.errors import IndexMismatch, IndexMissing

FORMAT = 2
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
LEASE = ".lease"
#: Seconds a writer waits for readers to let go of an old build before leaving it to be deleted
#: by the next change (a running bot swaps in a new build within its watch interval).
PRUNE_WAIT = 30.0
#: How often a waiting writer tries the lock again (flock has no timeout of its own).
_PRUNE_POLL = 0.05


class ChannelInfo(BaseModel):
    """The model of one dense channel and the size of its vectors."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    model: str
    dimension: int


class Manifest(BaseModel):
    """What an index build contains and what it was built with."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    format: int = FORMAT
    channels: dict[str, ChannelInfo]
    passages: int
    sentences: int
    corpus_version: int
    built_at: str

    def models(self) -> dict[str, str]:
        """The model of each dense channel."""
        return {name: info.model for name, info in self.channels.items()}

    def check(self, models: dict[str, str], dimensions: dict[str, int] | None = None) -> None:
        """Refuse an index built with other models (or dimensions) than configured."""
        if self.format != FORMAT:
            raise IndexMismatch(
                f"the index has format {self.format}, this citebot reads {FORMAT}; "
                "run `citebot reindex`"
            )
        built = self.models()
        if built != models:
            raise IndexMismatch(
                f"the index was built with {_describe(built)} but the configuration names "
                f"{_describe(models)}; run `citebot reindex` to rebuild it, or set "
                "CITEBOT_MODEL back"
            )
        for name, dimension in (dimensions or {}).items():
            if self.channels[name].dimension != dimension:
                raise IndexMismatch(
                    f"the index has {self.channels[name].dimension}-dimensional {name} vectors "
                    f"but model {models[name]!r} makes {dimension}; run `citebot reindex`"
                )


def _describe(models: dict[str, str]) -> str:
    return ", ".join(f"{name} model {model!r}" for name, model in sorted(models.items()))


class Lease:
    """A reader's shared lock on one build; the build is not deleted while it is held."""

    def __init__(self, handle: IO[str], name: str) -> None:
        self._handle: IO[str] | None = handle
        self.name = name

    def release(self) -> None:
        """Let the build go (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


class IndexFiles:
    """Reads and publishes index builds in one data directory."""

    def __init__(self, *, data_dir: Path) -> None:
        self.root = data_dir / "index"

    def current(self) -> tuple[Path, Manifest]:
        """The published build and its manifest; ``IndexMissing`` if there is none."""
        pointer = self.root / CURRENT
        try:
            name = pointer.read_text().strip()
            folder = self.root / name
            manifest = Manifest.model_validate_json((folder / MANIFEST).read_text())
        except FileNotFoundError as exc:
            raise IndexMissing("no index has been built yet; run `citebot ingest`") from exc
        except ValueError as exc:
            raise IndexMissing(
                f"the index manifest is unreadable ({exc}); run `citebot reindex`"
            ) from exc
        return folder, manifest

    def lease_current(self) -> tuple[Path, Manifest, Lease]:
        """The published build and its manifest, leased: release the lease when done with it."""
        for _ in range(5):
            folder, manifest = self.current()
            lease = self._lease(folder.name)
            # A writer may have replaced and deleted it between reading CURRENT and the lease.
            if folder.is_dir():
                return folder, manifest, lease
            lease.release()
        raise IndexMissing("the index keeps changing while it is read; try again")

    def _lease(self, name: str) -> Lease:
        handle = open(self.root / f"{name}{LEASE}", "a+")  # noqa: SIM115 (held by the Lease)
        fcntl.flock(handle, fcntl.LOCK_SH)
        return Lease(handle, name)

    def prune(self, *, wait: float = 0.0) -> list[str]:
        """Delete every build but the current one once no reader leases it, waiting up to
        ``wait`` seconds for readers; return the names of builds still in use."""
        if not self.root.is_dir():
            return []
        current = self.current_name()
        deadline = time.monotonic() + wait
        left: list[str] = []
        for folder in sorted(p for p in self.root.glob("v*") if p.is_dir()):
            if folder.name != current and not self._delete(folder.name, deadline):
                left.append(folder.name)
        # Lease files of builds already deleted (a reader that came too late leaves one).
        for path in self.root.glob(f"v*{LEASE}"):
            name = path.name.removesuffix(LEASE)
            if name != current and not (self.root / name).exists():
                self._delete(name, time.monotonic())
        return left

    def _delete(self, name: str, deadline: float) -> bool:
        lease = self.root / f"{name}{LEASE}"
        with open(lease, "a+") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        return False
                    time.sleep(_PRUNE_POLL)
            try:
                shutil.rmtree(self.root / name, ignore_errors=True)
                lease.unlink(missing_ok=True)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return True

    def current_name(self) -> str | None:
        """The name of the published build, or None (cheap: for change detection)."""
        try:
            return (self.root / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writers' lock (one build at a time, across processes)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def publish(self, manifest: Manifest, write: Callable[[Path], None]) -> Path:
        """Write a build with ``write(folder)``, make it durable, and make it current.

        Call while holding ``writing()``.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_leftovers()
        name = f"v{manifest.corpus_version:06d}-{secrets.token_hex(3)}"
        staging = self.root / f".tmp-{name}"
        staging.mkdir()
        try:
            write(staging)
            (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2))
            _fsync_tree(staging)
            final = self.root / name
            os.rename(staging, final)
            _fsync_dir(self.root)
            _atomic_write(self.root / CURRENT, name + "\n")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        # What no reader holds goes now; a reader's build once it lets go (``prune``).
        self.prune()
        return final

    def _remove_leftovers(self) -> None:
        for path in self.root.glob(".tmp-*"):
            shutil.rmtree(path, ignore_errors=True)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_tree(folder: Path) -> None:
    for dirpath, _, filenames in os.walk(folder):
        for filename in filenames:
            fd = os.open(os.path.join(dirpath, filename), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
