"""Small documents for tests: Markdown with front matter, and a minimal hand-written PDF."""

from __future__ import annotations

from pathlib import Path

import yaml

from corpus.models import Passage, Span

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "documents" / "belarus-unga-tsikhanouskaya-warning.md"
CANONICAL = "how many political prisoners remain?"


def markdown(body: str, **metadata: object) -> str:
    """A Markdown document with YAML front matter (title and published default to test values)."""
    meta = {"title": "A test document", "published": "2026-01-15", **metadata}
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n{body}\n"


def write_markdown(folder: Path, name: str, body: str, **metadata: object) -> Path:
    """Write ``markdown(...)`` to ``folder/name`` and return the path."""
    path = folder / name
    path.write_text(markdown(body, **metadata), encoding="utf-8")
    return path


def sentences_passage(pid: int, sentences: list[str], *, language: str = "en") -> Passage:
    """A passage of these sentences (joined by spaces), with their spans, as a store returns it."""
    text = " ".join(sentences)
    spans, cursor = [], 0
    for sentence in sentences:
        spans.append(Span(start=cursor, end=cursor + len(sentence)))
        cursor += len(sentence) + 1
    return Passage(
        id=pid,
        source_id=f"s{pid}",
        ordinal=0,
        text=text,
        char_start=0,
        char_end=len(text),
        language=language,
        sentences=tuple(spans),
    )


def minimal_pdf(pages: list[str], *, title: str | None = None) -> bytes:
    """A valid PDF with one line of Helvetica text per page (enough for pypdf to extract)."""
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 11 Tf 40 760 Td ({escaped}) Tj ET".encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    info_ref = b""
    if title:
        objects.append(f"<< /Title ({title}) >>".encode("latin-1"))
        info_ref = f" /Info {len(objects)} 0 R".encode()
    return _assemble(objects, info_ref)


def flate_pdf(stream: bytes) -> bytes:
    """A one-page PDF whose content stream is ``stream``, declared FlateDecode-compressed."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    return _assemble(objects)


def _assemble(objects: list[bytes], info_ref: bytes = b"") -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R".encode() + info_ref
    out += f" >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
