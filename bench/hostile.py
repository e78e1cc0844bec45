"""The worst a moderator can send, measured: time and peak memory of the whole process.

Each case runs ``citebot ingest`` in a process of its own (``tests/processes.py``: a shim forks
it, so the peak RSS is that process's alone, models included) against a fresh data directory,
with the shipped defaults. Links are served by a local server on 127.0.0.1
(``CITEBOT_ALLOW_PRIVATE_URLS=1``, the only setting changed). The target (issue 11): each case
finishes, accepted or refused, within 60 s, with a peak RSS of at most 1.5 GB.

- ``oneline-5mb``: a 5 MB Markdown file that is one line of words without punctuation.
- ``oneline-accepted``: the longest such line accepted (just under ``MAX_TEXT_CHARS``); it is
  cut at word boundaries into passages of at most ``max_chars`` and embedded: the worst upload
  that is accepted (the data directory is warmed first, so the one-off ONNX export is not in it).
- ``upload-20mb``: a 20 MB text file of ordinary sentences (Telegram's largest download).
- ``pdf-20mb``: a 20 MB PDF of text pages.
- ``gzip-bomb-4gb``: a link whose body is 4 GB of zeros, gzipped (about 4 MB on the wire).
- ``gzip-gzip-4gb``: the same gzipped twice (``Content-Encoding: gzip, gzip``, a few KB).
- ``drip``: a link whose server sends one byte a second, forever.

Run: ``PYTHONPATH=. .venv/bin/python bench/hostile.py`` (about 5 minutes; ``--quick`` uses small
sizes and a 3-second fetch deadline, to smoke-test; ``--case NAME`` runs one case).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import machine_info, print_machine, table, write_json
from corpus.loaders import MAX_FILE_BYTES, MAX_TEXT_CHARS
from tests.documents import markdown, minimal_pdf
from tests.processes import Finished, run_citebot
from tests.web import drip, gzip_bomb, head, send, serve_raw

TARGET_SECONDS = 60
TARGET_RSS_MB = 1536


def words(size: int) -> str:
    """``size`` characters of words and single spaces, without punctuation: one endless line.

    The words are drawn at random from a vocabulary of a few thousand, so no two passages are
    the same text (the embedding cache would embed a repeated one only once).
    """
    rng = random.Random(11)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(3, 10))) for _ in range(5_000)]
    line = " ".join(rng.choices(vocabulary, k=size // 6 + 1))
    return line[:size].rstrip()


def sentences(size: int) -> str:
    """About ``size`` characters of ordinary sentences, one paragraph each few sentences."""
    sentence = "The court in Minsk heard the case of a prisoner held since the protests. "
    paragraph = sentence * 4 + "\n\n"
    return (paragraph * (size // len(paragraph) + 1))[:size]


def text_pdf(size: int) -> bytes:
    """A PDF of just under ``size`` bytes: pages of about 20,000 characters of text each."""
    page = "The court in Minsk heard the case of a prisoner held since the protests. " * 270
    count = max(1, size // (len(page) + 400))
    while len(pdf := minimal_pdf([page] * count, title="A very large report")) > size:
        count -= 1
    return pdf


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    prepare: Callable[[Path, str], list[str]]  # (folder, server base URL) -> ingest arguments
    warm: bool = False  # ingest a small document first (loads the models, exports ONNX)


def cases(quick: bool) -> list[Case]:
    scale = 64 if quick else 1

    def file(name: str, data: bytes | str, *flags: str) -> Callable[[Path, str], list[str]]:
        def prepare(folder: Path, _: str) -> list[str]:
            path = folder / name
            if isinstance(data, str):
                path.write_text(data, encoding="utf-8")
            else:
                path.write_bytes(data)
            return [*flags, str(path)]

        return prepare

    def link(path: str) -> Callable[[Path, str], list[str]]:
        return lambda _, base: [f"{base}{path}"]

    metadata = ("--title", "Upload", "--published", "2025-11")
    return [
        Case("oneline-5mb", file("oneline.md", markdown(words(5 * 2**20 // scale)))),
        Case(
            "oneline-accepted",
            file("accepted.md", markdown(words((MAX_TEXT_CHARS - 1_000) // scale))),
            warm=True,
        ),
        Case(
            "upload-20mb", file("upload.txt", sentences((MAX_FILE_BYTES - 1) // scale), *metadata)
        ),
        Case("pdf-20mb", file("report.pdf", text_pdf(MAX_FILE_BYTES // scale), *metadata)),
        Case("gzip-bomb-4gb", link("/bomb")),
        Case("gzip-gzip-4gb", link("/bomb2")),
        Case("drip", link("/drip")),
    ]


async def run(quick: bool, only: str | None) -> list[tuple[Case, Finished]]:
    bomb_size = (64 if quick else 4096) * 2**20
    html = {"Content_Type": "text/html"}
    print(f"making the gzip bombs ({bomb_size // 2**20} MB of zeros)...", flush=True)
    started = time.monotonic()
    bomb = await asyncio.to_thread(gzip_bomb, bomb_size)
    bomb2 = await asyncio.to_thread(gzip_bomb, bomb_size, layers=2)
    print(
        f"  {len(bomb):,} and {len(bomb2):,} bytes on the wire "
        f"({time.monotonic() - started:.0f} s)",
        flush=True,
    )
    replies = {
        "/bomb": send(head(**html, Content_Encoding="gzip") + bomb),
        "/bomb2": send(head(**html, Content_Encoding="gzip, gzip") + bomb2),
        "/drip": drip(head(**html), every=1.0),
    }
    constants = {"corpus.fetch.DEADLINE": 3.0} if quick else None
    env = {"CITEBOT_ALLOW_PRIVATE_URLS": "1"}
    done: list[tuple[Case, Finished]] = []
    async with serve_raw(replies) as server:
        base = f"http://127.0.0.1:{server.port}"
        for case in cases(quick):
            if only and case.name != only:
                continue
            with tempfile.TemporaryDirectory(prefix=f"hostile-{case.name}-") as scratch:
                folder = Path(scratch)
                data = folder / "data"
                if case.warm:
                    (folder / "warm.md").write_text(markdown("A first sentence. And another."))
                    warm = await asyncio.to_thread(
                        run_citebot, ["ingest", str(folder / "warm.md")], data_dir=data, env=env
                    )
                    print(f"  (warm-up ingest: {warm.seconds:.1f} s, {warm.peak_mb:.0f} MB)")
                args = ["ingest", *case.prepare(folder, base)]
                print(f"{case.name}...", flush=True)
                finished = await asyncio.to_thread(
                    run_citebot,
                    args,
                    data_dir=data,
                    env=env,
                    constants=constants,
                    timeout=600,
                )
                line = (finished.stderr or finished.stdout).strip().splitlines()
                print(
                    f"  exit {finished.returncode}, {finished.seconds:.1f} s, "
                    f"{finished.peak_mb:.0f} MB: {line[0][:160] if line else ''}",
                    flush=True,
                )
                done.append((case, finished))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 s deadline")
    parser.add_argument("--case", help="run only this case")
    options = parser.parse_args()
    info = machine_info()
    print_machine(info)
    done = asyncio.run(run(options.quick, options.case))
    rows = []
    payload = []
    for case, finished in done:
        first = (finished.stderr or finished.stdout).strip().splitlines()
        outcome = "accepted" if finished.returncode == 0 else f"refused ({finished.returncode})"
        ok = finished.seconds <= TARGET_SECONDS and finished.peak_mb <= TARGET_RSS_MB
        rows.append(
            (
                case.name,
                outcome,
                f"{finished.seconds:.1f}",
                f"{finished.peak_mb:.0f}",
                "yes" if ok else "NO",
                (first[0] if first else "").removeprefix("citebot: error: ")[-90:],
            )
        )
        payload.append(
            {
                "case": case.name,
                "returncode": finished.returncode,
                "seconds": round(finished.seconds, 2),
                "peak_rss_mb": round(finished.peak_mb, 1),
                "within_target": ok,
                "output": first[:3],
            }
        )
    print()
    print(table(("case", "outcome", "s", "peak RSS MB", "target met", "says"), rows))
    name = (
        "hostile"
        + (f"-{options.case}" if options.case else "")
        + ("-quick" if options.quick else "")
    )
    path = write_json(
        f"{name}.json",
        {"machine": info, "quick": options.quick, "cases": payload},
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
