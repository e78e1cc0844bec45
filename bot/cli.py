"""The ``citebot`` command line. Its help text is its documentation.

Commands that need no model (``sources``, ``remove``, ``history``) never import torch.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from bot.settings import Settings
from corpus.errors import CorpusError, DocumentError, FetchError
from corpus.loaders import SUPPORTED_SUFFIXES, Document
from corpus.models import Answer, Hit
from retrieval.errors import RetrievalError

if TYPE_CHECKING:
    from bot.services import Services

# Everything the command line reports as one line instead of a traceback.
_EXPECTED = (CorpusError, RetrievalError, OSError)


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"citebot: error: {message}", err=True)
    sys.exit(code)


def _services(ctx: click.Context) -> Services:
    from bot.services import Services

    obj = ctx.ensure_object(dict)
    if "services" not in obj:
        try:
            obj["services"] = Services(settings=obj["settings"])
        except _EXPECTED as exc:
            _fail(str(exc))
        ctx.call_on_close(obj["services"].close)
    return obj["services"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="citebot")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """citebot answers questions by quoting cited passages from a curated corpus.

    Settings come from the environment (see the README): CITEBOT_DATA_DIR (default ./data)
    holds the SQLite database and the indexes; CITEBOT_DATABASE_URL=postgresql://... puts the
    database in PostgreSQL instead (several replicas); CITEBOT_MODEL names the embedding model.
    """
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        try:
            obj["settings"] = Settings()
        except ValueError as exc:
            _fail(f"invalid settings: {exc}", 2)


def _files(path: Path) -> Iterator[Path]:
    if path.is_dir():
        found = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in SUPPORTED_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not found:
            _fail(f"{path}: no documents found ({', '.join(SUPPORTED_SUFFIXES)})")
        yield from found
    else:
        yield path


def _is_link(item: str) -> bool:
    return item.lower().startswith(("http://", "https://")) or "://" in item


def _fetched(services: Services, url: str, overrides: dict[str, Any]) -> Document:
    """The document behind a link: the same fetch, checks, limits and metadata as /add."""
    fetched, metadata = asyncio.run(services.fetch_link(url, overrides))
    return services.load(fetched.data, fetched.name, metadata)


@cli.command()
@click.argument("sources", nargs=-1, required=True, metavar="PATH_OR_URL...")
@click.option("--title", help="Title, for files without metadata (.txt, some PDFs).")
@click.option("--published", help="Publication date: 2025-09-24 or 2025-09.")
@click.option("--url", help="Where the document is published; also its identity.")
@click.option("--publisher", help="Who published it.")
@click.option("--language", help="ISO 639-1 code (en, ru, be); detected when absent.")
@click.option("--cites", multiple=True, help="A source the document relies on (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per document.")
@click.pass_context
def ingest(
    ctx: click.Context,
    sources: tuple[str, ...],
    as_json: bool,
    **metadata: Any,
) -> None:
    """Add or replace documents (files, folders or links) in the corpus.

    Markdown files carry YAML front matter (title, published, url, publisher, language, cites);
    flags fill in or override metadata for every document. A link (http or https) is fetched
    exactly as the bot's /add fetches it, with the same checks and limits (public addresses
    only unless CITEBOT_ALLOW_PRIVATE_URLS=1, at most 20 MB, 30 s) and the link as its URL.
    A document with the same URL (else the same file name) as one already in the corpus
    replaces it; unchanged documents are skipped. If any document is invalid, nothing is
    written.
    """
    overrides = {k: (list(v) if k == "cites" else v) for k, v in metadata.items() if v}
    services = _services(ctx)
    documents: list[Document] = []
    errors: list[str] = []
    for item in sources:
        if _is_link(item):
            try:
                documents.append(_fetched(services, item, overrides))
            except (FetchError, DocumentError) as exc:
                errors.append(f"{item}: {exc.problem if isinstance(exc, DocumentError) else exc}")
            continue
        path = Path(item)
        if not path.exists():
            errors.append(f"{item}: no such file or directory")
            continue
        for file in _files(path):
            try:
                documents.append(services.load_file(file, overrides))
            except DocumentError as exc:
                errors.append(f"{file}: {exc.problem}")
    if errors:
        for line in errors:
            click.echo(f"citebot: error: {line}", err=True)
        _fail(f"nothing was ingested ({len(errors)} invalid document(s))")
    try:
        with _Progress(enabled=not as_json) as progress:
            results = services.ingest(documents, progress=progress)
    except _EXPECTED as exc:
        _fail(str(exc))
    for result in results:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "status": result.status.value,
                        "id": result.source.id,
                        "title": result.source.title,
                        "passages": result.source.passage_count,
                        "embedded": result.embedded,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            click.echo(
                f"{result.status.value:9} {result.source.id}  {result.source.title} "
                f"({result.source.passage_count} passages, {result.embedded} texts embedded)"
            )


class _Progress:
    """A rich progress bar for long embedding runs; silent for short ones."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 200:
            return
        if self._bar is None:
            from rich.progress import Progress

            self._bar = Progress(transient=True)
            self._bar.start()
            self._task = self._bar.add_task("Embedding", total=total)
        self._bar.update(self._task, completed=done)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List the documents of the corpus, newest first."""
    for source in _services(ctx).sources():
        if as_json:
            click.echo(json.dumps(source.model_dump(mode="json"), ensure_ascii=False))
        else:
            click.echo(
                f"{source.id}  {source.published:10}  {source.title}"
                f"  [{source.passage_count} passages]"
            )


@cli.command()
@click.argument("source_id")
@click.pass_context
def remove(ctx: click.Context, source_id: str) -> None:
    """Remove a source (by the id `citebot sources` shows) and its passages everywhere."""
    try:
        source = _services(ctx).remove(source_id)
    except _EXPECTED as exc:
        _fail(str(exc))
    click.echo(f"removed   {source.id}  {source.title}")


@cli.command()
@click.option(
    "-n",
    "limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="How many changes.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per change.")
@click.pass_context
def history(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Show the latest changes (add, replace, remove, moderator changes), newest first.

    Each line: time, action, source id, content hash, what, and who (`cli` or
    `telegram:<moderator id>`).
    """
    for entry in _services(ctx).history(limit):
        if as_json:
            click.echo(json.dumps(entry._asdict(), ensure_ascii=False))
        else:
            click.echo(
                f"{entry.at}  {entry.action:16} {entry.source_id or '-':10}  "
                f"{(entry.content_hash or '-')[:12]:12}  {entry.detail}  [{entry.actor}]"
            )


@cli.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring the database schema up to date, then exit.

    With PostgreSQL (CITEBOT_DATABASE_URL) run this once per deployment, before replicas of a
    new version start: replicas never migrate, they refuse an older schema. SQLite in the data
    directory is migrated automatically by every command.
    """
    from corpus.migrations import MIGRATIONS
    from corpus.store import Store

    settings: Settings = ctx.obj["settings"]
    try:
        store = Store(data_dir=settings.data_dir, url=settings.database(), migrate_schema=True)
    except _EXPECTED as exc:
        _fail(str(exc))
    click.echo(f"schema version {len(MIGRATIONS)}: {store.describe()}")
    store.close()


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the indexes from the database, embedding whatever the configured model lacks.

    Run this after changing CITEBOT_MODEL: an index built with another model is refused.
    """
    services = _services(ctx)
    try:
        with _Progress(enabled=True) as progress:
            manifest = services.reindex(progress=progress)
    except _EXPECTED as exc:
        _fail(str(exc))
    click.echo(
        f"indexed {manifest.passages} passages, {manifest.sentences} sentences "
        f"with {', '.join(manifest.models().values())} (corpus version {manifest.corpus_version})"
    )


@cli.command()
@click.argument("question")
@click.option(
    "-k",
    "k",
    default=3,
    show_default=True,
    type=click.IntRange(1, 50),
    help="How many passages at most.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON. With QUESTION '-', read one question per line from standard "
    "input and print one JSON object per line.",
)
@click.pass_context
def ask(ctx: click.Context, question: str, k: int, as_json: bool) -> None:
    """Answer QUESTION with the passages that answer it, each with its source.

    The JSON of an answer is {"question", "answered", "hits": [{"passage", "highlight",
    "score", "source": {"id", "title", "url", "publisher", "published"}}]}, hits best first;
    "answered" is false and "hits" empty when no passage is reliable enough, and then
    "not_covered" lists the countries (ISO codes) the question names that no document of
    the corpus names.
    """
    services = _services(ctx)
    questions = (line.rstrip("\n") for line in sys.stdin) if question == "-" else iter([question])
    try:
        for text in questions:
            if question == "-" and not text.strip():
                continue
            try:
                answer = services.ask(text, k=k)
            except RetrievalError as exc:
                if question != "-":
                    raise
                click.echo(json.dumps({"question": text, "error": str(exc)}, ensure_ascii=False))
                continue
            if as_json:
                click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
                sys.stdout.flush()
            else:
                _print_answer(answer)
    except _EXPECTED as exc:
        _fail(str(exc))


@cli.command()
@click.option("-k", "k", default=3, show_default=True, type=click.IntRange(1, 10))
@click.pass_context
def chat(ctx: click.Context, k: int) -> None:
    """Ask questions at an interactive prompt (the same answers the bot gives)."""
    services = _services(ctx)
    try:
        count = services.stats().passages
        services.ask("warm up", k=1)  # loads the model and the index before the first prompt
    except _EXPECTED as exc:
        _fail(str(exc))
    click.echo(f"citebot: {count} passages. Ask a question; an empty line or Ctrl-D quits.")
    while True:
        try:
            text = input("? ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if not text.strip():
            return
        try:
            _print_answer(services.ask(text, k=k))
        except RetrievalError as exc:
            click.echo(f"  {exc}")


@cli.command()
@click.option(
    "--webhook",
    is_flag=True,
    help="Receive updates by webhook instead of long polling: needs CITEBOT_WEBHOOK_URL (the "
    "public HTTPS address Telegram posts to); listens on CITEBOT_WEBHOOK_LISTEN:"
    "CITEBOT_WEBHOOK_PORT and checks CITEBOT_WEBHOOK_SECRET on every request. With "
    "CITEBOT_DATABASE_URL any number of replicas may run behind one load balancer (they share "
    "the secret); an update is acknowledged only once handled.",
)
@click.pass_context
def run(ctx: click.Context, webhook: bool) -> None:
    """Run the Telegram bot (TELEGRAM_BOT_TOKEN; TELEGRAM_API_URL and TELEGRAM_FILE_URL point
    it at a self-hosted Bot API server).

    Polling is one process per database; a second one is refused.
    """
    import asyncio
    import secrets

    from bot.app import build_application, configure_logging
    from bot.webhook import serve
    from corpus.stores.shared import ReceiverBusy

    settings: Settings = ctx.obj["settings"]
    try:
        settings.token()
    except ValueError as exc:
        _fail(str(exc), 2)
    if webhook and not settings.webhook_url:
        _fail("--webhook needs CITEBOT_WEBHOOK_URL, the public URL Telegram posts updates to", 2)
    configure_logging(settings.log_level)
    services = _services(ctx)
    shared = services.shared
    if webhook and services.engine == "postgresql" and settings.webhook_secret is None:
        _fail(
            "webhook replicas need CITEBOT_WEBHOOK_SECRET, the same for every replica "
            "(1-256 characters: letters, digits, _ and -)",
            2,
        )
    try:
        shared.hold_receiver(exclusive=not webhook)
    except ReceiverBusy as exc:
        _fail(str(exc), 2)
    application = build_application(settings, services=services)
    if webhook:
        assert settings.webhook_url is not None
        secret = (
            settings.webhook_secret.get_secret_value()
            if settings.webhook_secret
            else secrets.token_urlsafe(32)
        )
        asyncio.run(
            serve(
                application,
                shared=shared,
                url=settings.webhook_url,
                secret=secret,
                listen=settings.webhook_listen,
                port=settings.webhook_port,
            )
        )
    else:
        application.run_polling()


def _print_answer(answer: Answer) -> None:
    from bot import render
    from bot.i18n import t

    if not answer.answered:
        if answer.not_covered:
            places = render.country_names(answer.not_covered, "en")
            click.echo(
                f"No document in the corpus mentions {places}, so it cannot answer this. "
                "See `citebot sources` for what the corpus covers."
            )
        else:
            click.echo(
                "No reliable passage in the corpus answers this. Try rephrasing, or see "
                "`citebot sources` for what the corpus covers."
            )
        return
    for number, hit in enumerate(answer.hits, start=1):
        source = hit.source
        click.secho(f"{number}. {hit.highlight_text}", bold=True)
        lead = render.headline(hit, "en") if number == 1 else None
        if lead:
            click.secho(f"   {render.plain(lead)}", bold=True)
        click.echo()
        click.echo(_indent(hit.passage.text))
        click.echo()
        click.echo(f"   — {_citation(hit)}")
        click.echo(f"     {t('en', 'as_of', date=render.date_label(hit, 'en'))}")
        if hit.link and hit.link != source.url:
            click.echo(f"     {hit.link}")
        if hit.passage.page:
            click.echo(f"     page {hit.passage.page}")
        if source.cites:
            click.echo(f"     relies on: {', '.join(source.cites)}")
        click.echo()
        if number == 1:
            blocks = render.plain(render.time_blocks(answer.earlier, answer.differs, "en"))
            if blocks:
                click.echo(_indent(blocks))
                click.echo()


def _citation(hit: Hit) -> str:
    """Title, who the statement comes from ("AP, via Example News"), date, URL."""
    from bot.render import source_line

    source = hit.source
    parts = [source.title]
    who = source_line(source, hit.attribution, "en")
    if who:
        parts.append(who)
    parts.append(source.published)
    if source.url:
        parts.append(source.url)
    return " · ".join(parts)


def _indent(text: str, width: int = 96) -> str:
    import textwrap

    return "\n".join(
        textwrap.fill(line, width=width, initial_indent="   ", subsequent_indent="   ")
        for line in text.splitlines()
        if line.strip()
    )


def main() -> None:
    """Entry point of the ``citebot`` console script."""
    cli(prog_name="citebot")


if __name__ == "__main__":
    main()
