"""Loading documents: formats, metadata, and refusing what cannot be cited."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from corpus.errors import DocumentError
from corpus.loaders import (
    MAX_PDF_STREAM_BYTES,
    MAX_TEXT_CHARS,
    load_bytes,
    load_path,
    source_id_for,
)
from tests.documents import SEED, flate_pdf, markdown, minimal_pdf


def test_seed_document_is_the_shared_article_unchanged() -> None:
    document = load_path(SEED)
    original = SEED.parents[3] / "shared" / "seed" / "belarus-unga-tsikhanouskaya-warning.txt"
    if original.exists():
        assert document.text == original.read_text(encoding="utf-8").strip("\n")
    assert document.metadata["published"] == "2025-09"
    assert document.metadata["language"] == "en"
    assert "The Associated Press" in document.metadata["cites"]
    assert document.identity == SEED.name


def test_markdown_front_matter_is_parsed_and_validated() -> None:
    data = markdown(
        "Some text. More text here.",
        title="  Report   on prisons ",
        published="2025-10-02",
        url="https://example.org/report",
        publisher="Viasna",
        cites=["Viasna database"],
    ).encode()
    document = load_bytes(data, "report.md")
    assert document.metadata["title"] == "Report on prisons"
    assert document.metadata["published"] == "2025-10-02"
    assert document.identity == "https://example.org/report"
    assert document.metadata["cites"] == ("Viasna database",)
    assert document.text == "Some text. More text here."


@pytest.mark.parametrize(
    ("data", "name", "problem"),
    [
        (markdown("Body.", title=""), "a.md", "missing required metadata: title"),
        (markdown("Body.", published="September 2025"), "a.md", "published must be a date"),
        (markdown("Body.", published="2025-13"), "a.md", "published must be a real date"),
        (markdown("Body.", url="ftp://x.org/a"), "a.md", "url must start with http"),
        (markdown("Body.", url="https://me:pw@x.org/a"), "a.md", "url must not hold a user"),
        (markdown("Body.", language="english"), "a.md", "ISO 639-1"),
        (markdown("Body.", autor="Me"), "a.md", "unknown metadata field 'autor'"),
        ("---\ntitle: [unclosed\n---\nBody.", "a.md", "not valid YAML"),
        (markdown(""), "a.md", "no text found"),
        ("", "empty.md", "file is empty"),
        ("   \n", "blank.txt", "file is empty"),
        ("Text.", "notes.docx", "unsupported file type .docx"),
        ("Text.", "README", "unsupported file type (none)"),
    ],
)
def test_bad_documents_are_refused_with_the_file_and_problem(
    data: str, name: str, problem: str
) -> None:
    with pytest.raises(DocumentError) as caught:
        load_bytes(data.encode(), name)
    assert caught.value.name == name
    assert problem in str(caught.value)
    assert str(caught.value).startswith(f"{name}: ")


def test_missing_fields_are_named_so_a_face_can_ask_for_them() -> None:
    with pytest.raises(DocumentError) as caught:
        load_bytes(b"Plain text without metadata.", "notes.txt")
    assert caught.value.missing == ("title", "published")


def test_binary_and_non_utf8_files_are_refused() -> None:
    with pytest.raises(DocumentError, match="binary"):
        load_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, "photo.md")
    with pytest.raises(DocumentError, match="not UTF-8"):
        load_bytes("Прывітанне".encode("cp1251"), "letter.txt", {"title": "t", "published": "2025"})


def test_txt_takes_metadata_from_overrides_and_detects_language() -> None:
    document = load_bytes(
        "Лукашэнка па-ранейшаму ўтрымлівае каля 1200 палітвязняў.".encode(),
        "be.txt",
        {"title": "Навіна", "published": "2025-09"},
    )
    assert document.metadata["language"] == "be"
    assert document.identity == "be.txt"


def test_html_main_text_and_metadata_are_extracted() -> None:
    html = """<html><head><title>Prisoners report | Example News</title>
    <meta property="og:title" content="Prisoners report">
    <meta property="og:site_name" content="Example News">
    <meta property="article:published_time" content="2025-11-03T10:00:00Z">
    <link rel="canonical" href="https://news.example.org/prisoners"></head>
    <body><nav>Home | World | Sport</nav><article><h1>Prisoners report</h1>
    <p>Human rights groups say about 1,150 political prisoners are held in Belarus as of November.
    The number has fallen slightly since September, when it stood at about 1,200.</p>
    <p>Several dozen people were released in October under a pardon, while new arrests continued
    in the regions, according to the Viasna human rights centre.</p></article>
    <footer>Copyright Example News</footer></body></html>"""
    document = load_bytes(html.encode(), "page.html")
    assert "1,150 political prisoners" in document.text
    assert "Copyright" not in document.text
    assert document.metadata["title"] == "Prisoners report"
    assert document.metadata["published"] == "2025-11-03"
    assert document.metadata["url"] == "https://news.example.org/prisoners"


def test_html_without_article_text_is_an_error() -> None:
    with pytest.raises(DocumentError, match="no article text"):
        load_bytes(b"<html><body><script>var x=1;</script></body></html>", "empty.html")


def test_pdf_text_keeps_pages(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(
        minimal_pdf(
            ["First page says 1,200 prisoners are held.", "Second page lists 300 released."],
            title="Annual report",
        )
    )
    document = load_path(path, {"published": "2025-12"})
    assert document.metadata["title"] == "Annual report"
    assert len(document.pages) == 2
    second = document.pages[1]
    assert "300 released" in document.text[second.start : second.end]


def test_broken_pdf_is_refused() -> None:
    with pytest.raises(DocumentError, match="not a readable PDF"):
        load_bytes(b"%PDF-1.4\nthis is not really a pdf", "broken.pdf", {"title": "t"})


def test_source_ids_are_stable_and_short() -> None:
    assert source_id_for("a.md") == source_id_for("a.md")
    assert source_id_for("a.md") != source_id_for("b.md")
    assert len(source_id_for("https://example.org/x")) == 10


def test_unreadable_file_is_a_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="cannot read"):
        load_path(tmp_path / "missing.md")


def test_a_publication_date_in_the_future_is_refused() -> None:
    with pytest.raises(DocumentError) as caught:
        load_bytes(markdown("Body text.", published="2099-12").encode(), "future.md")
    assert caught.value.code == "date_future"
    assert "published is in the future (2099-12" in str(caught.value)
    today = datetime.now(UTC).date()
    for published in (today.isoformat(), today.isoformat()[:7]):
        assert load_bytes(markdown("Body.", published=published).encode(), "now.md")


def test_binary_content_anywhere_in_the_file_is_noticed() -> None:
    text = ("A perfectly normal sentence of text. " * 400).encode()  # ~15 KB
    for data in (text + b"\x00" + text, text + b"\x01\x02\x03\x04\x05\x06\x07\x08" * 50 + text):
        with pytest.raises(DocumentError) as caught:
            load_bytes(data, "late.txt", {"title": "t", "published": "2025"})
        assert caught.value.code == "binary"
    # A few stray control characters in a long text are tolerated, as before.
    assert load_bytes(text + b"\x0b" * 5, "ok.txt", {"title": "t", "published": "2025-01"})


def test_too_long_a_text_is_refused_before_chunking() -> None:
    data = b"word " * (MAX_TEXT_CHARS // 5 + 1)
    with pytest.raises(DocumentError) as caught:
        load_bytes(data, "huge.txt", {"title": "t", "published": "2025-01"})
    assert caught.value.code == "text_too_long"


@pytest.mark.parametrize(
    "body",
    [
        "<nav><a href='/'>Home</a> <a href='/about'>About</a></nav>",
        "<div class='cookie-banner'>We use cookies. <button>Accept all</button></div>"
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/world'>World</a></li>"
        "<li><a href='/sport'>Sport</a></li></ul></nav>"
        "<footer>Copyright 2025 Example News. All rights reserved.</footer>",
        "<div><h2>Latest</h2><ul><li><a href='/a'>Minsk court hears case</a></li>"
        "<li><a href='/b'>Exiles meet in Vilnius</a></li></ul></div>",
    ],
)
def test_an_html_page_of_only_boilerplate_is_refused(body: str) -> None:
    html = f"<html><head><title>Example News</title></head><body>{body}</body></html>"
    with pytest.raises(DocumentError) as caught:
        load_bytes(html.encode(), "home.html", {"published": "2025-01"})
    assert caught.value.code in ("boilerplate", "no_article")
    assert "no article text" in str(caught.value)


def test_a_corrupt_pdf_is_named_with_pypdfs_reason_and_nothing_printed(
    capfd: pytest.CaptureFixture[str],
) -> None:
    truncated = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n"
    with pytest.raises(DocumentError) as caught:
        load_bytes(truncated, "broken.pdf", {"title": "t", "published": "2025-01"})
    assert str(caught.value) == "broken.pdf: is not a readable PDF (EOF marker not found)"
    captured = capfd.readouterr()
    assert "EOF marker" not in captured.err + captured.out


def test_a_pdf_compression_bomb_is_refused(tmp_path: Path) -> None:
    content = b"BT /F1 11 Tf 40 760 Td (A sentence.) Tj ET\n" + b" " * (MAX_PDF_STREAM_BYTES + 1)
    bomb = flate_pdf(zlib.compress(content, 9))
    assert len(bomb) < 100_000
    with pytest.raises(DocumentError) as caught:
        load_bytes(bomb, "bomb.pdf", {"title": "t", "published": "2025-01"})
    assert caught.value.code == "pdf_limit"
