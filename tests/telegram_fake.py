"""A strict fake Telegram Bot API server for tests.

The bot is tested the way it runs: the real python-telegram-bot (PTB) ``Application`` does real
HTTP against this aiohttp server on 127.0.0.1.  The fake is deliberately *strict*: PTB validates
nothing on the client side, so every limit Telegram enforces (text length, HTML markup, inline
answers, callback data, commands, file sizes, ...) is enforced here, with Telegram's error shapes
and (as far as known) Telegram's error descriptions.

Wiring it up::

    from tests.telegram_fake import FakeTelegram, fake_telegram  # fixture

    async def test_echo(fake_telegram: FakeTelegram) -> None:
        app = (
            ApplicationBuilder()
            .token(fake_telegram.token)
            .base_url(fake_telegram.api_url)        # base_url + "/bot"; PTB appends the token
            .base_file_url(fake_telegram.file_url)  # base_url + "/file/bot"
            .build()
        )
        ...start the app / polling...
        fake_telegram.send_message("hello", user_id=42)
        call = await fake_telegram.wait_for("sendMessage", chat_id=42)
        assert call.result["text"] == "hello"
        assert fake_telegram.errors == []

Where the fake is knowingly *stricter* than Telegram (so anything it accepts, Telegram accepts):

* A bare ``&`` that does not start ``&lt;`` ``&gt;`` ``&amp;`` ``&quot;`` or a numeric reference
  (with the ``;``) is refused; Telegram keeps it as text.  ``strict_html_entities=False`` restores
  Telegram's leniency.
* Tags inside ``<code>``/``<pre>`` (other than ``<pre><code class="language-x">``), nested
  ``<blockquote>`` and end tags without a name (``</>``) are refused; Telegram drops or accepts
  them.
* More than 100 entities is an error; Telegram silently drops the extras.
* Text lengths are counted in UTF-16 code units (Telegram's entity unit), never less than the
  number of characters.
* An inline keyboard button must carry exactly one action field; Telegram uses the first it finds.

Where it is knowingly *laxer*: webhook URLs may be plain ``http://`` on any port, documents cannot
be sent by URL (refused with a clear error), and only the methods listed in ``_METHODS`` exist;
any other real method answers 404 "Not Found: ... is not implemented by the fake".

Webhook delivery follows Telegram's documented behaviour: up to ``max_connections`` (setWebhook,
default 40) updates in flight at once, those of one chat (or, for inline queries, of one user)
one at a time and in order; an update is delivered again until the webhook answers 2xx (here
20 tries, backing off to 0.5 s). :meth:`FakeTelegram.balance` puts a load balancer in front of
several bot replicas: each delivery goes to the next backend in turn. :meth:`FakeTelegram.hold`
keeps matching bot calls waiting (not executed) until released, so a test can kill a bot in the
middle of an update; a call whose client went away is recorded as abandoned and never executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import itertools
import json
import logging
import mimetypes
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import aiohttp
import pytest_asyncio
from aiohttp import web

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "DEFAULT_USER_ID",
    "TOKEN",
    "ApiError",
    "EntityParseError",
    "FakeTelegram",
    "Hold",
    "RecordedCall",
    "StoredFile",
    "UploadedFile",
    "WaitTimeout",
    "WebhookDelivery",
    "fake_telegram",
    "format_text",
    "parse_html",
    "parse_markdown_v2",
    "utf16_len",
]

_LOGGER = logging.getLogger(__name__)

JSONDict = dict[str, Any]
ChatType = Literal["private", "group", "supergroup"]

TOKEN: Final[str] = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
BOT_USERNAME: Final[str] = "citebot_test_bot"
BOT_ID: Final[int] = int(TOKEN.split(":", 1)[0])
BOT_FIRST_NAME: Final[str] = "CiteBot Test"

DEFAULT_USER_ID: Final[int] = 111_111_111
DEFAULT_FIRST_NAME: Final[str] = "Alice"
DEFAULT_GROUP_CHAT_ID: Final[int] = -987_654_321
DEFAULT_SUPERGROUP_CHAT_ID: Final[int] = -1_001_234_567_890

# Telegram's limits (PTB names most of them in telegram.constants).
MAX_MESSAGE_LENGTH: Final[int] = 4096
MAX_CAPTION_LENGTH: Final[int] = 1024
MAX_ENTITIES: Final[int] = 100
MAX_INLINE_RESULTS: Final[int] = 50
MAX_INLINE_RESULT_ID_BYTES: Final[int] = 64
MAX_NEXT_OFFSET_BYTES: Final[int] = 64
MAX_CALLBACK_DATA_BYTES: Final[int] = 64
MAX_CALLBACK_ANSWER_LENGTH: Final[int] = 200
MAX_COMMANDS: Final[int] = 100
MAX_COMMAND_LENGTH: Final[int] = 32
MAX_COMMAND_DESCRIPTION_LENGTH: Final[int] = 256
# telegram-bot-api's Client.h: MAX_DOWNLOAD_FILE_SIZE = 20 << 20 (PTB's constant says 20_000_000).
MAX_DOWNLOAD_FILE_SIZE: Final[int] = 20 << 20
MAX_UPLOAD_FILE_SIZE: Final[int] = 50 << 20
MAX_GET_UPDATES_LIMIT: Final[int] = 100

_QUERY_INVALID: Final[str] = "query is too old and response timeout expired or query ID is invalid"
_WEBHOOK_CONFLICT: Final[str] = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
_NOT_MODIFIED: Final[str] = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


# --------------------------------------------------------------------------------------------
# Errors and records
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """A Telegram-shaped error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(
        self, status: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = dict(parameters) if parameters else None

    def to_json(self) -> JSONDict:
        """The response body Telegram would send for this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(message: str) -> ApiError:
    """A 400 error; Telegram prefixes every 400 description with ``Bad Request: ``."""
    return ApiError(400, f"Bad Request: {message}")


class EntityParseError(ValueError):
    """Markup Telegram refuses; ``str(exc)`` is the text after ``can't parse entities: ``."""


class WaitTimeout(AssertionError):
    """Raised by :meth:`FakeTelegram.wait_for` (an AssertionError, so pytest reports it well)."""


@dataclass
class UploadedFile:
    """One multipart file part of a request."""

    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class StoredFile:
    """A file known to the fake: downloadable via getFile + ``/file/bot<token>/<file_path>``."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_size: int
    file_name: str | None = None
    mime_type: str | None = None

    def as_document(self) -> JSONDict:
        """The ``Document`` object Telegram puts into a Message."""
        doc: JSONDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.file_name is not None:
            doc["file_name"] = self.file_name
        if self.mime_type is not None:
            doc["mime_type"] = self.mime_type
        return doc


@dataclass
class RecordedCall:
    """One Bot API request the bot made, with the fake's answer."""

    method: str
    http_method: str
    params: JSONDict = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int | None = None
    response: JSONDict | None = None
    injected: bool = False  # the answer came from fail_next(), not from validation
    abandoned: bool = False  # the client disconnected before the answer (a cancelled long poll)
    started_at: float = 0.0
    finished_at: float = 0.0
    index: int = -1  # position in FakeTelegram.calls

    @property
    def ok(self) -> bool:
        """Whether Telegram answered ``"ok": true``."""
        return bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        """The ``result`` of a successful call (a Message dict for send/edit methods)."""
        return self.response.get("result") if self.response else None

    @property
    def description(self) -> str | None:
        """The error description of a failed call."""
        return self.response.get("description") if self.response else None

    @property
    def chat_id(self) -> Any:
        """The ``chat_id`` parameter, if any."""
        return self.params.get("chat_id")

    @property
    def text(self) -> str:
        """The raw ``text`` parameter (markup included); "" if the call has none."""
        text = self.params.get("text")
        return text if isinstance(text, str) else ""

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"{self.status} {self.description!r}"
        if self.abandoned:
            state = "abandoned"
        params = {k: v for k, v in self.params.items() if k != "results"}
        return f"<RecordedCall #{self.index} {self.method} {params!r} -> {state}>"


@dataclass
class WebhookDelivery:
    """One attempt of the fake to push an update to the bot's webhook."""

    update_id: int
    url: str
    status: int | None
    error: str | None = None


class Hold:
    """Bot calls matching a predicate wait here, unexecuted, until :meth:`release`."""

    def __init__(self, predicate: Callable[[RecordedCall], bool], *, limit: int | None) -> None:
        self.predicate = predicate
        self.limit = limit
        self.held: list[RecordedCall] = []
        self._released = asyncio.Event()
        self._arrived = asyncio.Event()

    async def wait_held(self, *, timeout: float = 5.0) -> RecordedCall:
        """The first call caught by this hold (waits for it)."""
        try:
            await asyncio.wait_for(self._arrived.wait(), timeout)
        except TimeoutError:
            raise WaitTimeout(f"no call was held within {timeout}s") from None
        return self.held[0]

    def release(self) -> None:
        """Let held calls (and later matching ones) through."""
        self._released.set()

    async def _pass(self, call: RecordedCall) -> None:
        if self._released.is_set() or not self.predicate(call):
            return
        if self.limit is not None and len(self.held) >= self.limit:
            return
        self.held.append(call)
        self._arrived.set()
        await self._released.wait()


@dataclass
class _Fault:
    method: str  # lower-case method name or "*"
    status: int
    description: str
    parameters: JSONDict | None
    remaining: int


# --------------------------------------------------------------------------------------------
# Text and entities
# --------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _utf16_slice(text: str, offset: int, length: int) -> str:
    """``text[offset:offset+length]`` with offset and length in UTF-16 code units."""
    units = text.encode("utf-16-le", "surrogatepass")
    return units[2 * offset : 2 * (offset + length)].decode("utf-16-le", "surrogatepass")


def _byte_offset(text: str, pos: int) -> int:
    # Telegram reports parse errors at byte offsets of the UTF-8 text it received.
    return len(text[:pos].encode("utf-8", "surrogatepass"))


_HTML_SPACE: Final = frozenset(" \t\n\r\f\v\0")
_HTML_TAGS: Final = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_SIMPLE_TAG_TYPES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
_NAMED_HTML_ENTITIES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# Strict form: name or number, always terminated by ";" (what html.escape() produces).
_STRICT_ENTITY_RE: Final = re.compile(
    r"&(?:(?P<name>lt|gt|amp|quot)|#(?P<dec>[0-9]{1,8})|#x(?P<hex>[0-9a-fA-F]{1,7}));"
)
# tdlib's form: ";" optional, any run of letters is looked up, unknown names stay text.
_LENIENT_ENTITY_RE: Final = re.compile(
    r"&(?:(?P<name>[A-Za-z]+)|#(?P<dec>[0-9]+)|#x(?P<hex>[0-9a-fA-F]+));?"
)
_TG_USER_LINK_RE: Final = re.compile(r"tg://user\?id=(\d+)", re.IGNORECASE)
_TG_EMOJI_LINK_RE: Final = re.compile(r"tg://emoji\?id=(\d+)", re.IGNORECASE)


def _decode_html_entity(text: str, pos: int, *, strict: bool) -> tuple[str, int] | None:
    """Decode the HTML entity at ``text[pos] == "&"``; None if it is not a supported one."""
    match = (_STRICT_ENTITY_RE if strict else _LENIENT_ENTITY_RE).match(text, pos)
    if match is None:
        return None
    if match["name"] is not None:
        char = _NAMED_HTML_ENTITIES.get(match["name"])
        return (char, match.end()) if char is not None else None
    digits = match["dec"] if match["dec"] is not None else match["hex"]
    if len(digits) > 8:
        return None
    code = int(digits, 10 if match["dec"] is not None else 16)
    if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def _resolve_link(url: str) -> JSONDict | None:
    """Entity fields for a link target, or None if Telegram would drop the link."""
    url = url.strip()
    if (user := _TG_USER_LINK_RE.fullmatch(url)) is not None:
        return {
            "type": "text_mention",
            "user": {"id": int(user[1]), "is_bot": False, "first_name": "User"},
        }
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"http", "https", "ftp"}:
        return {"type": "text_link", "url": url} if parts.netloc else None
    if scheme in {"tg", "ton", "mailto"}:
        return {"type": "text_link", "url": url}
    if not scheme and re.match(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(/|$)", url):
        return {"type": "text_link", "url": f"http://{url}"}
    return None


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    utf16_start: int
    byte_offset: int
    out_index: int
    language: str | None = None
    had_child_tag: bool = False


def parse_html(
    text: str, *, strict_entities: bool = True, warnings: list[str] | None = None
) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML into (plain text, entities), refusing what Telegram refuses.

    A port of tdlib's ``parse_html`` (the parser behind the Bot API), made stricter where noted
    in the module docstring.  Raises EntityParseError with Telegram's wording.
    """
    out: list[str] = []
    utf16 = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    n = len(text)
    i = 0
    while i < n:
        char = text[i]
        if char == "&":
            decoded = _decode_html_entity(text, i, strict=strict_entities)
            if decoded is None:
                if strict_entities:
                    raise EntityParseError(
                        f'Unescaped "&" at byte offset {_byte_offset(text, i)}: write it as '
                        '"&amp;" (Telegram would keep it as text; the fake is strict)'
                    )
                decoded = ("&", i + 1)
            out.append(decoded[0])
            utf16 += utf16_len(decoded[0])
            i = decoded[1]
            continue
        if char != "<":
            out.append(char)
            utf16 += 2 if ord(char) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        if i + 1 < n and text[i + 1] == "/":
            # End tag.
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            j = i + 2
            while j < n and text[j] not in _HTML_SPACE and text[j] != ">":
                j += 1
            end_name = text[i + 2 : j].lower()
            while j < n and text[j] in _HTML_SPACE:
                j += 1
            if j >= n or text[j] != ">":
                raise EntityParseError(
                    f"Unclosed end tag at byte offset {_byte_offset(text, begin)}"
                )
            top = stack[-1]
            if end_name != top.name:  # tdlib accepts "</>"; the fake wants the name
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{top.name}>", found "</{end_name}>"'
                )
            stack.pop()
            _close_html_tag(top, stack[-1] if stack else None, utf16, out, entities, warnings)
            i = j + 1
            continue

        # Start tag.
        j = i + 1
        while j < n and text[j] not in _HTML_SPACE and text[j] != ">":
            j += 1
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        name = text[i + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs, i = _parse_html_attributes(text, j, name, begin, strict_entities)
        offset = _byte_offset(text, begin)

        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
            )
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")
        for open_tag in stack:
            if open_tag.name in {"code", "pre"}:
                code_in_pre = (
                    name == "code"
                    and open_tag is stack[-1]
                    and open_tag.name == "pre"
                    and not open_tag.had_child_tag
                    and open_tag.utf16_start == utf16
                )
                if not code_in_pre:
                    raise EntityParseError(
                        f'Tag "{name}" is not allowed inside "{open_tag.name}" at byte offset '
                        f"{offset}"
                    )
            if name == "blockquote" and open_tag.name == "blockquote":
                raise EntityParseError(f'Nested "blockquote" tags at byte offset {offset}')
        if stack:
            stack[-1].had_child_tag = True
        stack.append(_OpenTag(name, attrs, utf16, offset, len(out)))

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return "".join(out), entities


def _parse_html_attributes(
    text: str, pos: int, tag: str, begin: int, strict_entities: bool
) -> tuple[dict[str, str], int]:
    """Parse attributes from ``pos`` to the closing ``>``; returns (attrs, index after ``>``)."""
    n = len(text)
    attrs: dict[str, str] = {}
    unclosed = f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
    while True:
        while pos < n and text[pos] in _HTML_SPACE:
            pos += 1
        if pos >= n:
            raise EntityParseError(unclosed)
        if text[pos] == ">":
            return attrs, pos + 1
        name_begin = pos
        while pos < n and text[pos] not in _HTML_SPACE and text[pos] not in "=>":
            pos += 1
        attr_name = text[name_begin:pos]
        if not attr_name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        while pos < n and text[pos] in _HTML_SPACE:
            pos += 1
        if pos >= n:
            raise EntityParseError(unclosed)
        if text[pos] != "=":
            if tag == "blockquote" and attr_name == "expandable":
                attrs["expandable"] = ""
                continue
            raise EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte '
                f"offset {_byte_offset(text, begin)}"
            )
        pos += 1
        while pos < n and text[pos] in _HTML_SPACE:
            pos += 1
        if pos >= n:
            raise EntityParseError(unclosed)
        if text[pos] not in "'\"":
            # An unquoted "name token": letters, digits, periods, hyphens.
            token_begin = pos
            while pos < n and ((text[pos].isascii() and text[pos].isalnum()) or text[pos] in ".-"):
                pos += 1
            value = text[token_begin:pos].lower()
            if pos >= n or (text[pos] not in _HTML_SPACE and text[pos] != ">"):
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, token_begin)}"
                )
        else:
            quote = text[pos]
            pos += 1
            chars: list[str] = []
            while pos < n and text[pos] != quote:
                if text[pos] == "&":
                    decoded = _decode_html_entity(text, pos, strict=strict_entities)
                    if decoded is None:
                        if strict_entities:
                            raise EntityParseError(
                                f'Unescaped "&" at byte offset {_byte_offset(text, pos)}: write '
                                'it as "&amp;" (Telegram would keep it as text; the fake is '
                                "strict)"
                            )
                        decoded = ("&", pos + 1)
                    chars.append(decoded[0])
                    pos = decoded[1]
                    continue
                chars.append(text[pos])
                pos += 1
            if pos >= n:
                raise EntityParseError(unclosed)
            pos += 1
            value = "".join(chars)
        attrs[attr_name] = value


def _close_html_tag(
    tag: _OpenTag,
    parent: _OpenTag | None,
    utf16: int,
    out: list[str],
    entities: list[JSONDict],
    warnings: list[str] | None,
) -> None:
    """Turn a closed tag into an entity (if it covers any text)."""
    if tag.name == "code" and parent is not None and parent.name == "pre":
        # <pre><code class="language-x"> is one "pre" entity with a language.
        css_class = tag.attrs.get("class", "")
        if css_class.startswith("language-") and len(css_class) > len("language-"):
            parent.language = css_class[len("language-") :]
        return
    length = utf16 - tag.utf16_start
    if length == 0:
        return  # Telegram drops empty entities
    entity: JSONDict
    if tag.name in _SIMPLE_TAG_TYPES:
        entity = {"type": _SIMPLE_TAG_TYPES[tag.name]}
    elif tag.name == "span":
        entity = {"type": "spoiler"}
    elif tag.name == "tg-emoji":
        entity = {"type": "custom_emoji", "custom_emoji_id": tag.attrs["emoji-id"]}
    elif tag.name == "code":
        entity = {"type": "code"}
    elif tag.name == "pre":
        entity = {"type": "pre"}
        if tag.language:
            entity["language"] = tag.language
    elif tag.name == "blockquote":
        expandable = "expandable" in tag.attrs
        entity = {"type": "expandable_blockquote" if expandable else "blockquote"}
    else:  # "a"
        href = tag.attrs.get("href")
        target = href if href is not None else "".join(out[tag.out_index :])
        resolved = _resolve_link(target)
        if resolved is None:
            if warnings is not None:
                warnings.append(f"link {target!r} dropped: Telegram keeps only valid URLs")
            return
        entity = resolved
    entities.append(
        {"type": entity.pop("type"), "offset": tag.utf16_start, "length": length, **entity}
    )


_MDV2_RESERVED: Final = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_TYPE_NAMES: Final = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _MdOpen:
    type: str
    argument: str | None
    utf16_start: int
    byte_offset: int
    out_index: int


def parse_markdown_v2(
    text: str, *, warnings: list[str] | None = None
) -> tuple[str, list[JSONDict]]:
    """Parse Telegram MarkdownV2 into (plain text, entities); a port of tdlib's parser.

    Supports bold, italic, underline, strikethrough, spoiler, code, pre (with language), links,
    custom emoji and ``>`` line blockquotes (not the ``**>`` expandable form).
    """
    out: list[str] = []
    utf16 = 0
    stack: list[_MdOpen] = []
    entities: list[JSONDict] = []
    quote_start: int | None = None
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else ""

    def reserved_error(k: int) -> EntityParseError:
        return EntityParseError(
            f"Character '{text[k]}' is reserved and must be escaped with the preceding '\\'"
        )

    i = 0
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            utf16 += 1
            i += 2
            continue
        in_code = bool(stack) and stack[-1].type in {"code", "pre"}
        line_start = i == 0 or text[i - 1] == "\n"
        if line_start and not in_code:
            if char == ">":
                if quote_start is None:
                    quote_start = utf16
                i += 1
                continue
            if quote_start is not None:
                # The quote ends before the newline that ended its last line.
                if utf16 - 1 > quote_start:
                    entities.append(
                        {
                            "type": "blockquote",
                            "offset": quote_start,
                            "length": utf16 - 1 - quote_start,
                        }
                    )
                quote_start = None
        if char not in ("`" if in_code else _MDV2_RESERVED):
            out.append(char)
            utf16 += 2 if ord(char) > 0xFFFF else 1
            i += 1
            continue

        top = stack[-1] if stack else None
        is_end = False
        if top is not None:
            is_end = {
                "bold": char == "*",
                "italic": char == "_" and at(i + 1) != "_",
                "code": char == "`",
                "pre": char == "`" and at(i + 1) == "`" and at(i + 2) == "`",
                "text_link": char == "]",
                "custom_emoji": char == "]",
                "underline": char == "_" and at(i + 1) == "_",
                "strikethrough": char == "~",
                "spoiler": char == "|" and at(i + 1) == "|",
            }[top.type]

        if not is_end:
            begin = i
            argument: str | None = None
            if char == "_":
                if at(i + 1) == "_":
                    i += 1
                    kind = "underline"
                else:
                    kind = "italic"
            elif char == "*":
                kind = "bold"
            elif char == "~":
                kind = "strikethrough"
            elif char == "|":
                if at(i + 1) != "|":
                    raise reserved_error(i)
                i += 1
                kind = "spoiler"
            elif char == "[":
                kind = "text_link"
            elif char == "`":
                if at(i + 1) == "`" and at(i + 2) == "`":
                    i += 3
                    kind = "pre"
                    j = i
                    while j < n and text[j] not in _HTML_SPACE and text[j] != "`":
                        j += 1
                    if i != j and j < n and text[j] != "`":
                        argument = text[i:j]
                        i = j
                    if at(i) in ("\n", "\r"):
                        if at(i + 1) in ("\n", "\r") and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            elif char == "!" and at(i + 1) == "[":
                i += 1
                kind = "custom_emoji"
            else:
                raise reserved_error(i)
            stack.append(_MdOpen(kind, argument, utf16, _byte_offset(text, begin), len(out)))
            i += 1
            continue

        assert top is not None
        stack.pop()
        entity: JSONDict | None = {"type": top.type}
        if top.type in {"underline", "spoiler"}:
            i += 1
        elif top.type == "pre":
            i += 2
            if top.argument:
                entity = {"type": "pre", "language": top.argument}
        elif top.type in {"text_link", "custom_emoji"}:
            if at(i + 1) != "(":
                if top.type == "custom_emoji":
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                url = "".join(out[top.out_index :])
            else:
                i += 2
                url_begin = i
                chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                        chars.append(text[i + 1])
                        i += 2
                        continue
                    chars.append(text[i])
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}"
                    )
                url = "".join(chars)
            if top.type == "custom_emoji":
                emoji = _TG_EMOJI_LINK_RE.fullmatch(url)
                if emoji is None:
                    raise EntityParseError("Custom emoji URL must have an emoji identifier")
                entity = {"type": "custom_emoji", "custom_emoji_id": emoji[1]}
            else:
                entity = _resolve_link(url)
                if entity is None and warnings is not None:
                    warnings.append(f"link {url!r} dropped: Telegram keeps only valid URLs")
        if entity is not None and utf16 != top.utf16_start:
            entities.append(
                {
                    "type": entity.pop("type"),
                    "offset": top.utf16_start,
                    "length": utf16 - top.utf16_start,
                    **entity,
                }
            )
        i += 1

    if stack:
        raise EntityParseError(
            f"Can't find end of {_MDV2_TYPE_NAMES[stack[-1].type]} entity at byte offset "
            f"{stack[-1].byte_offset}"
        )
    if quote_start is not None and utf16 > quote_start:
        entities.append(
            {"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start}
        )
    return "".join(out), entities


_ENTITY_TYPES: Final = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "date_time",
    }
)
_TRIM_CHARS: Final = " \t\n\r\f\v"


def _validate_explicit_entities(text: str, entities: Any) -> list[JSONDict]:
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    result: list[JSONDict] = []
    for index, entity in enumerate(entities):
        if not isinstance(entity, dict):
            raise bad_request(f"can't parse MessageEntity {index}: must be an Object")
        kind, offset, length = entity.get("type"), entity.get("offset"), entity.get("length")
        if kind not in _ENTITY_TYPES:
            raise bad_request(f"can't parse MessageEntity {index}: unsupported type {kind!r}")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise bad_request(f"can't parse MessageEntity {index}: bad offset/length")
        if offset + length > total:
            raise bad_request(f"can't parse entities: entity {index} ends beyond the text")
        if kind == "text_link" and not isinstance(entity.get("url"), str):
            raise bad_request(f"can't parse MessageEntity {index}: text_link needs url")
        if kind == "text_mention" and not isinstance(entity.get("user"), dict):
            raise bad_request(f"can't parse MessageEntity {index}: text_mention needs user")
        if kind == "custom_emoji" and not isinstance(entity.get("custom_emoji_id"), str):
            raise bad_request(
                f"can't parse MessageEntity {index}: custom_emoji needs custom_emoji_id"
            )
        if length:
            result.append(dict(entity))
    return result


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip leading/trailing whitespace as Telegram does, keeping entities aligned."""
    stripped_left = text.lstrip(_TRIM_CHARS)
    shift = utf16_len(text) - utf16_len(stripped_left)
    result_text = stripped_left.rstrip(_TRIM_CHARS)
    total = utf16_len(result_text)
    result: list[JSONDict] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return result_text, result


def format_text(
    text: Any,
    *,
    parse_mode: Any = None,
    entities: Any = None,
    kind: Literal["message", "caption"] = "message",
    strict_entities: bool = True,
    warnings: list[str] | None = None,
) -> tuple[str, list[JSONDict]]:
    """Validate a message text or caption the way Telegram does; return (text, entities).

    Applies the parse mode (HTML, MarkdownV2; legacy Markdown is refused by the fake) or the
    explicit entities, trims whitespace, then checks emptiness, length (UTF-16 units) and the
    entity count.  Raises ApiError (400) with Telegram's descriptions.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise bad_request(f"{kind} text must be a String")
    if entities is not None:
        plain, parsed = text, _validate_explicit_entities(text, entities)
    else:
        mode = parse_mode.lower() if isinstance(parse_mode, str) else parse_mode
        try:
            if mode in (None, ""):
                plain, parsed = text, []
            elif mode == "html":
                plain, parsed = parse_html(text, strict_entities=strict_entities, warnings=warnings)
            elif mode == "markdownv2":
                plain, parsed = parse_markdown_v2(text, warnings=warnings)
            elif mode == "markdown":
                raise bad_request(
                    "fake Telegram does not implement the legacy parse_mode Markdown; use HTML"
                )
            else:
                raise bad_request("unsupported parse_mode")
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    plain, parsed = _trim(plain, parsed)
    parsed.sort(key=lambda e: (e["offset"], -e["length"]))
    length = utf16_len(plain)
    if kind == "message":
        if not plain:
            raise bad_request("message text is empty")
        if length > MAX_MESSAGE_LENGTH:
            raise bad_request("message is too long")
    elif length > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    if len(parsed) > MAX_ENTITIES:
        # Telegram silently drops entities beyond 100; the fake refuses so the bot notices.
        raise bad_request(
            f"can't parse entities: too many entities ({len(parsed)} > {MAX_ENTITIES}; "
            "Telegram would silently drop the rest)"
        )
    return plain, parsed


# Entities Telegram computes for messages users send (a subset: commands, mentions, URLs).
_BOT_COMMAND_RE: Final = re.compile(
    r"(?<![\w/.@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])"
)
_MENTION_RE: Final = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}(?![\w@])")
_URL_RE: Final = re.compile(
    r"(?<![\w@/.])(?:(?:https?|ftp)://[^\s<>\"]+"
    r"|(?:[A-Za-z0-9-]+\.)+(?:com|org|net|io|edu|gov|info|dev|app|me|ru|by|uk|de|fr|eu|us)"
    r"(?::\d+)?(?:/[^\s<>\"]*)?(?![\w.-]*\w))",
    re.IGNORECASE,
)


def _auto_entities(text: str) -> list[JSONDict]:
    """bot_command, url and mention entities as Telegram computes them for user messages."""
    found: list[tuple[int, int, str]] = []  # (start, end, type) in str indices

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in found)

    for match in _BOT_COMMAND_RE.finditer(text):
        found.append((match.start(), match.end(), "bot_command"))
    for match in _URL_RE.finditer(text):
        end = match.end()
        while end > match.start() and text[end - 1] in ".,;:!?)'\"":
            end -= 1  # trailing punctuation is not part of a detected URL
        if end > match.start() and free(match.start(), end):
            found.append((match.start(), end, "url"))
    for match in _MENTION_RE.finditer(text):
        if free(match.start(), match.end()):
            found.append((match.start(), match.end(), "mention"))
    found.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, end, kind in found
    ]


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------

# PTB sends string values raw and JSON-encodes everything else, so a form value "123" may be the
# string "123" (a text) or the integer 123 (a chat_id).  Type information is lost on the wire;
# these parameters are documented as String and are never JSON-decoded.
_STRING_PARAMS: Final = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "url",
        "secret_token",
        "next_offset",
        "file_id",
        "description",
        "short_description",
        "name",
        "title",
        "language_code",
        "action",
        "emoji",
        "query",
        "switch_pm_text",
        "switch_pm_parameter",
        "inline_message_id",
        "business_connection_id",
        "ip_address",
        "document",
        "photo",
        "thumbnail",
        "message_effect_id",
        "custom_emoji_id",
        "certificate",
        "result_id",
        "start_parameter",
    }
)
_JSON_NUMBER_RE: Final = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


def _decode_param(name: str, raw: str) -> Any:
    """Undo PTB's encoding of one form/query value (see _STRING_PARAMS)."""
    if name in _STRING_PARAMS:
        return raw
    stripped = raw.strip()
    if (
        stripped[:1] in ("{", "[")
        or stripped in ("true", "false", "null")
        or _JSON_NUMBER_RE.fullmatch(stripped)
    ):
        try:
            return json.loads(stripped)
        except ValueError:
            return raw
    return raw


def _p_int(params: Mapping[str, Any], name: str, *, required: str | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required is not None:
            raise bad_request(required)
        return None
    if isinstance(value, bool):
        raise bad_request(f'field "{name}" must be of type Integer')
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise bad_request(f'field "{name}" must be of type Integer')


def _p_num(params: Mapping[str, Any], name: str, default: float) -> float:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise bad_request(f'field "{name}" must be a Number')
    try:
        return float(value)
    except (TypeError, ValueError):
        raise bad_request(f'field "{name}" must be a Number') from None


def _p_str(params: Mapping[str, Any], name: str, *, required: str | None = None) -> str | None:
    value = params.get(name)
    if value is None:
        if required is not None:
            raise bad_request(required)
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # JSON bodies may carry numbers where Telegram expects strings
    if not isinstance(value, str):
        raise bad_request(f'field "{name}" must be of type String')
    if value == "" and required is not None:
        raise bad_request(required)
    return value


def _p_bool(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name)
    if value in (None, "", False, 0, "false", "False", "0"):
        return False
    if value in (True, 1, "true", "True", "1"):
        return True
    raise bad_request(f'field "{name}" must be of type Boolean')


def _p_json(params: Mapping[str, Any], name: str, kind: type) -> Any:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    if not isinstance(value, kind):
        what = "an Array" if kind is list else "an Object"
        raise bad_request(f'field "{name}" must be {what}')
    return value


def _loose_eq(actual: Any, expected: Any) -> bool:
    return bool(actual == expected or (actual is not None and str(actual) == str(expected)))


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

_SEND_METHODS: Final = frozenset({"sendMessage", "sendDocument"})
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_UPDATE_TYPES: Final = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
# What Telegram delivers when allowed_updates was never set (or set to []).
_DEFAULT_UPDATE_TYPES: Final = _UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
_BUTTON_ACTIONS: Final = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_INLINE_RESULT_TYPES: Final = frozenset(
    {
        "article",
        "photo",
        "gif",
        "mpeg4_gif",
        "video",
        "audio",
        "voice",
        "document",
        "location",
        "venue",
        "contact",
        "game",
        "sticker",
    }
)
_COMMAND_SCOPES: Final = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_START_PARAMETER_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SECRET_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LANGUAGE_CODE_RE: Final = re.compile(r"[a-z]{2}")
# Real Telegram methods the fake does not implement answer 404 with a clear description.
_KNOWN_UNIMPLEMENTED: Final = frozenset(
    m.lower()
    for m in (
        "sendPhoto",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendSticker",
        "forwardMessage",
        "forwardMessages",
        "copyMessage",
        "copyMessages",
        "editMessageCaption",
        "editMessageMedia",
        "deleteMessages",
        "getChat",
        "getChatMember",
        "getChatAdministrators",
        "getChatMemberCount",
        "leaveChat",
        "pinChatMessage",
        "unpinChatMessage",
        "setMessageReaction",
        "getUserProfilePhotos",
        "logOut",
        "close",
        "sendInvoice",
        "answerWebAppQuery",
    )
)
_UNSET: Final[Any] = object()


class FakeTelegram:
    """A strict fake Telegram Bot API server (aiohttp on 127.0.0.1, random free port).

    Bot side: every request is answered like Telegram would and recorded in :attr:`calls`.
    Test side: :meth:`send_message`, :meth:`send_document`, :meth:`send_callback_query`,
    :meth:`send_inline_query` create updates; :meth:`wait_for` awaits the bot's calls;
    :meth:`fail_next` injects errors; :attr:`errors` lists every refused request.
    """

    def __init__(
        self,
        *,
        token: str = TOKEN,
        bot_username: str = BOT_USERNAME,
        bot_id: int | None = None,
        bot_first_name: str = BOT_FIRST_NAME,
        privacy_mode: bool = False,
        supports_inline_queries: bool = True,
        strict_html_entities: bool = True,
        flood_limits: bool = False,
        auto_webhook_delivery: bool = True,
        inline_query_ttl: float | None = None,
        first_update_id: int = 100_000_001,
    ) -> None:
        """Configure the fake; nothing listens until :meth:`start`.

        Args:
            token: the bot token the fake accepts (any other answers 401 Unauthorized).
            bot_username: the username getMe reports (PTB's CommandHandler matches /cmd@name).
            bot_id: the bot's user id; defaults to the token's numeric prefix, like Telegram.
            privacy_mode: if True, group messages are delivered only when they are commands,
                mention the bot or reply to the bot (Telegram's privacy mode).  Off by default so
                tests also see what the bot does with group chatter it must ignore.
            strict_html_entities: refuse a bare ``&`` in HTML (Telegram keeps it as text).
            flood_limits: opt in to Telegram's flood limits (1 msg/s per private chat,
                20 msgs/min per group, 30 msgs/s overall) answered with 429.
            auto_webhook_delivery: while a webhook is set, POST new updates to it (as Telegram
                does) with the secret from setWebhook.
            inline_query_ttl: seconds after which an inline query can no longer be answered
                (Telegram: a few seconds); None means never expire.
            first_update_id: the first update's id. Telegram's ids only grow: a bot that keeps
                state across fakes (claims in a database) needs each fake to start higher.
        """
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id if bot_id is not None else int(token.split(":", 1)[0])
        self.bot_first_name = bot_first_name
        self.privacy_mode = privacy_mode
        self.supports_inline_queries = supports_inline_queries
        self.strict_html_entities = strict_html_entities
        self.flood_limits = flood_limits
        self.auto_webhook_delivery = auto_webhook_delivery
        self.inline_query_ttl = inline_query_ttl

        # Recording.
        self.calls: list[RecordedCall] = []
        self.warnings: list[str] = []
        self.downloads: list[str] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        #: Updates being delivered right now, and to which URL.
        self.webhook_in_flight: dict[int, str] = {}
        self.dropped_updates: list[JSONDict] = []
        #: Updates given up on after the last delivery attempt failed.
        self.undelivered_updates: list[JSONDict] = []
        self.backends: list[str] = []
        self._backend_turn = itertools.count()
        self._holds: list[Hold] = []

        # Telegram state.
        self.chats: dict[int, JSONDict] = {}
        self.files: dict[str, StoredFile] = {}
        self.inline_answers: dict[str, JSONDict] = {}
        self.callback_answers: dict[str, JSONDict] = {}
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_params: JSONDict = {}
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self._messages: dict[int, dict[int, JSONDict]] = {}
        self._next_message_id: dict[int, int] = {}
        self._deleted: set[tuple[int, int]] = set()
        self._bot_sent: list[tuple[int, int]] = []
        self._blocked_users: set[int] = set()
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._bot_texts: dict[tuple[str, str], str] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._inline_queries: dict[str, JSONDict] = {}
        self._callback_queries: dict[str, JSONDict] = {}
        self._inline_messages: dict[str, JSONDict] = {}
        self._updates: list[JSONDict] = []
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self._ids = itertools.count(1)
        self._next_update_id = first_update_id
        self._faults: list[_Fault] = []
        self._flood_global: deque[float] = deque()
        self._flood_chat: dict[int, deque[float]] = {}
        self._consumed: set[int] = set()

        # Machinery.
        self._poll_generation = 0
        self._updates_changed = asyncio.Event()
        self._calls_changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_wake = asyncio.Event()
        self._port: int | None = None
        self._methods: dict[str, tuple[str, Callable[[JSONDict, dict[str, UploadedFile]], Any]]] = {
            name.lower(): (name, getattr(self, f"_m_{attr}"))
            for name, attr in (
                ("getMe", "get_me"),
                ("getUpdates", "get_updates"),
                ("setWebhook", "set_webhook"),
                ("deleteWebhook", "delete_webhook"),
                ("getWebhookInfo", "get_webhook_info"),
                ("sendMessage", "send_message"),
                ("sendDocument", "send_document"),
                ("editMessageText", "edit_message_text"),
                ("editMessageReplyMarkup", "edit_message_reply_markup"),
                ("deleteMessage", "delete_message"),
                ("sendChatAction", "send_chat_action"),
                ("answerCallbackQuery", "answer_callback_query"),
                ("answerInlineQuery", "answer_inline_query"),
                ("setMyCommands", "set_my_commands"),
                ("getMyCommands", "get_my_commands"),
                ("deleteMyCommands", "delete_my_commands"),
                ("setMyDescription", "set_my_description"),
                ("getMyDescription", "get_my_description"),
                ("setMyShortDescription", "set_my_short_description"),
                ("getMyShortDescription", "get_my_short_description"),
                ("setMyName", "set_my_name"),
                ("getMyName", "get_my_name"),
                ("setChatMenuButton", "set_chat_menu_button"),
                ("getChatMenuButton", "get_chat_menu_button"),
                ("getFile", "get_file"),
            )
        }

    # ---------------------------------------------------------------- lifecycle and URLs

    async def start(self) -> None:
        """Start listening on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=MAX_UPLOAD_FILE_SIZE + (1 << 20))
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation: a client that gives up a long poll (PTB cancels its polling task
        # on stop) cancels our handler, so the fake does not answer into a dead socket.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=2.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession()
        self._closing = False

    async def stop(self) -> None:
        """Release held long polls, stop webhook delivery and close the server."""
        self._closing = True
        self._wake_pollers()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port the fake listens on."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """PTB's ``base_url``: ``base_url + "/bot"`` (PTB appends the token)."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        """PTB's ``base_file_url``: ``base_url + "/file/bot"``."""
        return f"{self.base_url}/file/bot"

    @property
    def bot_user(self) -> JSONDict:
        """The bot as a Telegram ``User`` (what getMe returns)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": self.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def bot_kwargs(self) -> JSONDict:
        """Keyword arguments for ``telegram.Bot(**fake.bot_kwargs())``."""
        return {"token": self.token, "base_url": self.api_url, "base_file_url": self.file_url}

    # ---------------------------------------------------------------- inspection

    @property
    def errors(self) -> list[RecordedCall]:
        """Requests the fake refused (validation, auth, unknown method, flood limits).

        Excludes errors injected with :meth:`fail_next` and long polls the client abandoned, so
        ``assert fake.errors == []`` means "Telegram would have accepted everything".
        """
        return [c for c in self.calls if not c.ok and not c.injected and not c.abandoned]

    @property
    def rejected_calls(self) -> list[RecordedCall]:
        """Every call that did not succeed, injected faults included."""
        return [c for c in self.calls if not c.ok and not c.abandoned]

    def calls_to(self, method: str, **params: Any) -> list[RecordedCall]:
        """Recorded calls of ``method`` (case-insensitive) whose params match ``params``."""
        return [c for c in self.calls if self._matches(c, method, params, ok=None)]

    def sent_messages(self, chat_id: int | None = None) -> list[JSONDict]:
        """Messages the bot sent (current state: edits applied, deleted ones left out)."""
        result: list[JSONDict] = []
        for cid, message_id in self._bot_sent:  # in sending order, across chats
            message = self._messages.get(cid, {}).get(message_id)
            if message is not None and (chat_id is None or cid == chat_id):
                result.append(copy.deepcopy(message))
        return result

    def last_sent(self, chat_id: int | None = None) -> JSONDict:
        """The most recent message the bot sent (to ``chat_id``); AssertionError if none."""
        messages = self.sent_messages(chat_id)
        assert messages, f"the bot sent no message to chat {chat_id}"
        return messages[-1]

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """Current state of a message, or None if unknown or deleted."""
        found = self._messages.get(chat_id, {}).get(message_id)
        return copy.deepcopy(found) if found is not None else None

    def chat_history(self, chat_id: int) -> list[JSONDict]:
        """All live messages of a chat (users' and the bot's), oldest first."""
        return [copy.deepcopy(m) for m in self._messages.get(chat_id, {}).values()]

    def is_deleted(self, chat_id: int, message_id: int) -> bool:
        """Whether the bot deleted this message."""
        return (chat_id, message_id) in self._deleted

    def commands(
        self, *, language_code: str = "", scope: Mapping[str, Any] | None = None
    ) -> list[JSONDict]:
        """The command menu set with setMyCommands for exactly this scope and language."""
        key = (self._scope_key(dict(scope) if scope else None), language_code)
        return copy.deepcopy(self._commands.get(key, []))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by the bot (getUpdates offset) or delivered by webhook."""
        return copy.deepcopy(self._updates)

    def assert_no_errors(self) -> None:
        """Fail with a readable list if the fake refused any request."""
        errors = self.errors
        assert not errors, "Telegram would have refused:\n" + "\n".join(map(repr, errors))

    # ---------------------------------------------------------------- waiting

    def mark(self) -> int:
        """Current number of recorded calls; pass as ``since=`` to wait only for later calls."""
        return len(self.calls)

    def _matches(
        self,
        call: RecordedCall,
        what: str | Callable[[RecordedCall], bool],
        params: Mapping[str, Any],
        ok: bool | None,
    ) -> bool:
        if call.abandoned:
            return False
        if ok is not None and call.ok != ok:
            return False
        if isinstance(what, str):
            if call.method.lower() != what.lower():
                return False
        elif not what(call):
            return False
        return all(_loose_eq(call.params.get(k), v) for k, v in params.items())

    async def wait_for(
        self,
        what: str | Callable[[RecordedCall], bool],
        *,
        timeout: float = 5.0,
        ok: bool | None = True,
        since: int = 0,
        **params: Any,
    ) -> RecordedCall:
        """Wait for a bot call matching a method name (or predicate) and ``params``; return it.

        Each call is returned at most once across wait_for() calls, so two successive
        ``wait_for("sendMessage")`` return the bot's first and second message.  By default only
        successful calls match (``ok=None`` matches refused ones too); a call the fake refused
        therefore shows up in the timeout message instead.  Raises WaitTimeout.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._calls_changed
            for call in self.calls[since:]:
                if call.index not in self._consumed and self._matches(call, what, params, ok):
                    self._consumed.add(call.index)
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n".join(f"  {c!r}" for c in self.calls[-15:]) or "  (none)"
                wanted = what if isinstance(what, str) else getattr(what, "__name__", "predicate")
                raise WaitTimeout(
                    f"no call {wanted} {params or ''} (ok={ok}) within {timeout}s; recent calls:\n"
                    f"{recent}"
                )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def assert_no_call(
        self,
        what: str | Callable[[RecordedCall], bool],
        *,
        within: float = 0.5,
        since: int | None = None,
        **params: Any,
    ) -> None:
        """Assert that no matching call (successful or not) arrives within ``within`` seconds."""
        start = self.mark() if since is None else since
        try:
            call = await self.wait_for(what, timeout=within, ok=None, since=start, **params)
        except WaitTimeout:
            return
        raise AssertionError(f"unexpected call: {call!r}")

    async def wait_until(self, predicate: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` (checked after every call and update) is true."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WaitTimeout(f"condition not met within {timeout}s")
            changed = self._calls_changed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, 0.05))

    # ---------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (or ``"*"``) fail with ``status``.

        429 answers ``Too Many Requests: retry after N`` with ``parameters.retry_after`` (PTB
        raises RetryAfter); 500/502 answer Telegram-shaped server errors (PTB: NetworkError);
        400/403 need a ``description`` or get a generic one.  Injected answers are recorded with
        ``injected=True`` and are not counted in :attr:`errors`.
        """
        parameters: JSONDict | None = None
        if status == 429:
            default = f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        else:
            default = {
                400: "Bad Request: injected failure",
                403: "Forbidden: bot was blocked by the user",
                500: "Internal Server Error",
                502: "Bad Gateway",
                503: "Service Unavailable",
            }.get(status, f"Error {status}")
        self._faults.append(
            _Fault(method.lower(), status, description or default, parameters, count)
        )

    def block_bot(self, user_id: int) -> None:
        """Simulate the user blocking the bot: sends to their private chat answer 403."""
        self._blocked_users.add(user_id)

    # ---------------------------------------------------------------- test-side: users and chats

    def _user(
        self, user_id: int, first_name: str | None, username: str | None, language_code: str | None
    ) -> JSONDict:
        user: JSONDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name
            or (DEFAULT_FIRST_NAME if user_id == DEFAULT_USER_ID else f"User{user_id}"),
        }
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    def add_chat(
        self,
        chat_id: int,
        chat_type: ChatType = "private",
        *,
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        """Register a chat the bot may write to (normally done by the first user message)."""
        existing = self.chats.get(chat_id)
        if existing is not None:
            if existing["type"] != chat_type:
                raise ValueError(f"chat {chat_id} is a {existing['type']} chat, not {chat_type}")
            return copy.deepcopy(existing)
        if chat_type == "private" and chat_id <= 0:
            raise ValueError("private chat ids are positive (they equal the user id)")
        if chat_type != "private" and chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat: JSONDict = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name or (
                DEFAULT_FIRST_NAME if chat_id == DEFAULT_USER_ID else f"User{chat_id}"
            )
        else:
            chat["title"] = title or "Test Group"
        if username:
            chat["username"] = username
        self.chats[chat_id] = chat
        self._messages.setdefault(chat_id, {})
        return copy.deepcopy(chat)

    def _resolve_chat_id(self, chat_id: int | None, chat_type: ChatType, user_id: int) -> int:
        if chat_id is not None:
            return chat_id
        if chat_type == "private":
            return user_id
        return DEFAULT_GROUP_CHAT_ID if chat_type == "group" else DEFAULT_SUPERGROUP_CHAT_ID

    def _store_message(self, chat_id: int, message: JSONDict) -> JSONDict:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        stored = {"message_id": message_id, **message}
        self._messages.setdefault(chat_id, {})[message_id] = stored
        return stored

    def _reply_copy(self, message: JSONDict) -> JSONDict:
        # Telegram nests reply_to_message one level only.
        reply = copy.deepcopy(message)
        reply.pop("reply_to_message", None)
        return reply

    def _message_ref(self, message: JSONDict | RecordedCall | int, chat_id: int) -> JSONDict:
        if isinstance(message, RecordedCall):
            message = message.result
        if isinstance(message, int):
            message_id, cid = message, chat_id
        elif isinstance(message, Mapping) and "message_id" in message:
            message_id = int(message["message_id"])
            cid = int(message.get("chat", {}).get("id", chat_id))
        else:
            raise ValueError(f"not a message: {message!r}")
        stored = self._messages.get(cid, {}).get(message_id)
        if stored is None:
            raise ValueError(f"message {message_id} does not exist in chat {cid}")
        return stored

    def _incoming_message(
        self,
        *,
        chat_id: int | None,
        chat_type: ChatType,
        user_id: int,
        first_name: str | None,
        username: str | None,
        language_code: str | None,
        chat_title: str | None,
        reply_to_message: JSONDict | RecordedCall | int | None,
        content: JSONDict,
    ) -> JSONDict:
        cid = self._resolve_chat_id(chat_id, chat_type, user_id)
        chat = self.add_chat(
            cid,
            chat_type,
            title=chat_title,
            first_name=first_name if chat_type == "private" else None,
            username=username if chat_type == "private" else None,
        )
        message: JSONDict = {
            "from": self._user(user_id, first_name, username, language_code),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if reply_to_message is not None:
            message["reply_to_message"] = self._reply_copy(self._message_ref(reply_to_message, cid))
        return self._store_message(cid, message)

    def _privacy_allows(self, message: JSONDict) -> bool:
        if not self.privacy_mode or message["chat"]["type"] == "private":
            return True
        text = message.get("text") or message.get("caption") or ""
        for entity in message.get("entities", []) + message.get("caption_entities", []):
            part = _utf16_slice(text, entity["offset"], entity["length"])
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                target = part.partition("@")[2]
                if not target or target.lower() == self.bot_username.lower():
                    return True
            if entity["type"] == "mention" and part[1:].lower() == self.bot_username.lower():
                return True
        reply = message.get("reply_to_message")
        return bool(reply and reply.get("from", {}).get("id") == self.bot_id)

    # ---------------------------------------------------------------- test-side: updates

    def _new_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def enqueue_update(self, update: JSONDict) -> JSONDict:
        """Queue a raw Update dict (``update_id`` is assigned if missing); returns it."""
        update = copy.deepcopy(update)
        if "update_id" not in update:
            update["update_id"] = self._new_update_id()
        kinds = [k for k in update if k != "update_id"]
        if len(kinds) != 1 or kinds[0] not in _UPDATE_TYPES:
            raise ValueError(f"an Update has exactly one known field besides update_id: {kinds}")
        if kinds[0] not in self._allowed_updates:
            # Telegram does not even create updates the bot did not ask for.
            self.dropped_updates.append(update)
            return copy.deepcopy(update)
        self._updates.append(update)
        self._wake_pollers()
        self._kick_webhook_delivery()
        return copy.deepcopy(update)

    def build_message_update(
        self,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: ChatType = "private",
        user_id: int = DEFAULT_USER_ID,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        chat_title: str | None = None,
        reply_to_message: JSONDict | RecordedCall | int | None = None,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """Create (and store in the chat) a user message, returning its Update without queueing.

        Useful with :meth:`post_webhook_update`; :meth:`send_message` is build + queue.
        """
        if not text:
            raise ValueError("Telegram users cannot send empty messages")
        content: JSONDict = {"text": text}
        computed = entities if entities is not None else _auto_entities(text)
        if computed:
            content["entities"] = copy.deepcopy(computed)
        message = self._incoming_message(
            chat_id=chat_id,
            chat_type=chat_type,
            user_id=user_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            chat_title=chat_title,
            reply_to_message=reply_to_message,
            content=content,
        )
        return {"update_id": self._new_update_id(), "message": copy.deepcopy(message)}

    def send_message(
        self,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: ChatType = "private",
        user_id: int = DEFAULT_USER_ID,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        chat_title: str | None = None,
        reply_to_message: JSONDict | RecordedCall | int | None = None,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """A user sends ``text``; queues and returns the Update (``update["message"]``).

        ``chat_id`` defaults to ``user_id`` for private chats and to a fixed group id otherwise.
        Entities are computed like Telegram does (bot_command for ``/cmd`` and ``/cmd@bot``,
        ``mention`` for ``@username``, ``url``) unless ``entities`` is given.
        ``reply_to_message`` is a message dict, a RecordedCall of a send, or a message id.
        With ``privacy_mode`` on, group messages Telegram would not deliver are stored in the
        chat but not queued.
        """
        update = self.build_message_update(
            text,
            chat_id=chat_id,
            chat_type=chat_type,
            user_id=user_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            chat_title=chat_title,
            reply_to_message=reply_to_message,
            entities=entities,
        )
        if not self._privacy_allows(update["message"]):
            return update
        return self.enqueue_update(update)

    def register_file(
        self,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
        folder: str = "documents",
    ) -> StoredFile:
        """Store a file so getFile and the file download URL serve it.

        ``size`` overrides the reported ``file_size`` (e.g. to test the 20 MB limit cheaply).
        """
        number = next(self._ids)
        extension = ""
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        elif mime_type:
            extension = mimetypes.guess_extension(mime_type) or ""
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{number:06d}{self.bot_id:x}F4k3",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"{folder}/file_{number}{extension}",
            data=bytes(data),
            file_size=len(data) if size is None else size,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def send_document(
        self,
        file_bytes: bytes,
        file_name: str,
        mime_type: str,
        *,
        caption: str | None = None,
        caption_entities: list[JSONDict] | None = None,
        size: int | None = None,
        chat_id: int | None = None,
        chat_type: ChatType = "private",
        user_id: int = DEFAULT_USER_ID,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        chat_title: str | None = None,
        reply_to_message: JSONDict | RecordedCall | int | None = None,
    ) -> JSONDict:
        """A user sends a document; registers the file and queues/returns the Update."""
        stored = self.register_file(file_bytes, file_name=file_name, mime_type=mime_type, size=size)
        content: JSONDict = {"document": stored.as_document()}
        if caption:
            content["caption"] = caption
            computed = caption_entities if caption_entities is not None else _auto_entities(caption)
            if computed:
                content["caption_entities"] = copy.deepcopy(computed)
        message = self._incoming_message(
            chat_id=chat_id,
            chat_type=chat_type,
            user_id=user_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            chat_title=chat_title,
            reply_to_message=reply_to_message,
            content=content,
        )
        update: JSONDict = {"update_id": self._new_update_id(), "message": copy.deepcopy(message)}
        if not self._privacy_allows(update["message"]):
            return update
        return self.enqueue_update(update)

    def send_callback_query(
        self,
        message: JSONDict | RecordedCall,
        data: str,
        *,
        user_id: int | None = None,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        check_button: bool = True,
    ) -> JSONDict:
        """A user presses an inline button with ``callback_data == data`` under ``message``.

        ``message`` is a bot message dict or the RecordedCall that sent it.  With
        ``check_button`` the button must exist in the message's *current* keyboard, as only
        real buttons can be pressed.  Queues and returns the Update.
        """
        chat_id = 0
        if isinstance(message, RecordedCall):
            chat_id = int(message.result["chat"]["id"])
        elif isinstance(message, Mapping):
            chat_id = int(message["chat"]["id"])
        stored = self._message_ref(message, chat_id)
        if check_button:
            buttons = [
                b for row in stored.get("reply_markup", {}).get("inline_keyboard", []) for b in row
            ]
            if not any(b.get("callback_data") == data for b in buttons):
                raise ValueError(
                    f"message {stored['message_id']} has no button with callback_data {data!r}; "
                    f"buttons: {buttons}"
                )
        if user_id is None:
            user_id = (
                stored["chat"]["id"] if stored["chat"]["type"] == "private" else DEFAULT_USER_ID
            )
        query_id = str(4_000_000_000_000_000 + next(self._ids))
        query: JSONDict = {
            "id": query_id,
            "from": self._user(user_id, first_name, username, language_code),
            "message": copy.deepcopy(stored),
            "chat_instance": str(abs(hash(("chat", stored["chat"]["id"]))) % 10**18),
            "data": data,
        }
        self._callback_queries[query_id] = {"answered": False, "created": time.monotonic()}
        return self.enqueue_update({"callback_query": query})

    def send_inline_query(
        self,
        query: str,
        *,
        offset: str = "",
        user_id: int = DEFAULT_USER_ID,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        chat_type: str | None = "sender",
    ) -> JSONDict:
        """A user types ``@bot query``; queues and returns the Update (``["inline_query"]``)."""
        if len(query) > 256:
            raise ValueError("inline queries are at most 256 characters")
        query_id = str(5_000_000_000_000_000 + next(self._ids))
        inline: JSONDict = {
            "id": query_id,
            "from": self._user(user_id, first_name, username, language_code),
            "query": query,
            "offset": offset,
        }
        if chat_type is not None:
            inline["chat_type"] = chat_type
        self._inline_queries[query_id] = {
            "answered": False,
            "created": time.monotonic(),
            "query": query,
            "from": inline["from"],
        }
        return self.enqueue_update({"inline_query": inline})

    def send_chosen_inline_result(
        self, inline_query: JSONDict | str, result_id: str, *, user_id: int | None = None
    ) -> JSONDict:
        """The user picks ``result_id`` from the bot's answer to ``inline_query`` (update or id)."""
        if isinstance(inline_query, Mapping):
            query_id = str(inline_query.get("inline_query", inline_query)["id"])
        else:
            query_id = str(inline_query)
        info = self._inline_queries.get(query_id)
        answer = self.inline_answers.get(query_id)
        if info is None or answer is None:
            raise ValueError(f"inline query {query_id} was not answered")
        result = next((r for r in answer["results"] if r.get("id") == result_id), None)
        if result is None:
            raise ValueError(f"result {result_id!r} was not in the answer")
        user = copy.deepcopy(info["from"])
        if user_id is not None:
            user["id"] = user_id
        chosen: JSONDict = {"result_id": result_id, "from": user, "query": info["query"]}
        if result.get("reply_markup"):
            inline_message_id = f"AgAAA{next(self._ids):08d}"
            chosen["inline_message_id"] = inline_message_id
            content = result.get("input_message_content") or {}
            self._inline_messages[inline_message_id] = {
                "text": content.get("message_text"),
                "entities": [],
                "reply_markup": result["reply_markup"],
            }
        return self.enqueue_update({"chosen_inline_result": chosen})

    async def post_webhook_update(
        self,
        update: JSONDict,
        *,
        secret: str | None = _UNSET,
        url: str | None = None,
    ) -> int:
        """POST ``update`` to the webhook URL (from setWebhook unless ``url``); return the status.

        ``secret`` defaults to the secret_token from setWebhook; ``None`` sends no header.
        """
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook is set (the bot did not call setWebhook)")
        if secret is _UNSET:
            secret = self.webhook_secret
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        assert self._session is not None, "FakeTelegram is not started"
        async with self._session.post(
            target,
            data=json.dumps(update),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=10),
        ) as response:
            await response.read()
            return response.status

    # ---------------------------------------------------------------- update delivery machinery

    def _wake_pollers(self) -> None:
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()

    def _notify_calls(self) -> None:
        self._calls_changed.set()
        self._calls_changed = asyncio.Event()

    def _kick_webhook_delivery(self) -> None:
        if not (self.webhook_url and self.auto_webhook_delivery and self._updates):
            return
        self._webhook_wake.set()
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhook())

    def balance(self, backends: list[str]) -> None:
        """Deliver webhook updates to ``backends`` in turn (a load balancer in front of bot
        replicas) instead of straight to the URL given to setWebhook; a failed delivery is
        tried again on the next backend."""
        self.backends = list(backends)

    def hold(self, predicate: Callable[[RecordedCall], bool], *, limit: int | None = None) -> Hold:
        """Keep bot calls matching ``predicate`` (the first ``limit`` of them, if given)
        waiting, unexecuted, until released."""
        found = Hold(predicate, limit=limit)
        self._holds.append(found)
        return found

    @staticmethod
    def _sequence_key(update: JSONDict) -> tuple[str, Any]:
        """Telegram delivers the updates of one chat (of one user, without a chat) in order."""
        kind = next(k for k in update if k != "update_id")
        body = update[kind]
        chat = body.get("chat") or (body.get("message") or {}).get("chat")
        if chat is not None:
            return ("chat", chat.get("id"))
        sender = body.get("from") or {}
        return ("user", sender.get("id"))

    async def _deliver_webhook(self) -> None:
        """Push queued updates to the webhook like Telegram: several at once, in order per
        chat, each again until the webhook answers 2xx (briefly, here)."""
        attempts: dict[int, int] = {}
        not_before: dict[int, float] = {}
        in_flight: dict[int, asyncio.Task[None]] = {}
        loop = asyncio.get_running_loop()

        async def deliver(update: JSONDict) -> None:
            update_id = update["update_id"]
            url = self.webhook_url or ""
            if self.backends:
                url = self.backends[next(self._backend_turn) % len(self.backends)]
            self.webhook_in_flight[update_id] = url
            status: int | None = None
            error: str | None = None
            try:
                status = await self.post_webhook_update(update, url=url)
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                error = repr(exc)
            finally:
                self.webhook_in_flight.pop(update_id, None)
            self.webhook_deliveries.append(WebhookDelivery(update_id, url, status, error))
            if status is not None and 200 <= status < 300:
                self._updates = [u for u in self._updates if u is not update]
            else:
                attempts[update_id] = attempts.get(update_id, 0) + 1
                if attempts[update_id] >= 20:
                    # Telegram keeps retrying for a long time; a test has failed long before.
                    self._updates = [u for u in self._updates if u is not update]
                    self.undelivered_updates.append(update)
                else:
                    # PTB sets the webhook before its server listens: the first tries may fail.
                    not_before[update_id] = loop.time() + min(0.05 * attempts[update_id], 0.5)
            self._notify_calls()

        try:
            await self._delivery_loop(deliver, in_flight, not_before)
        finally:
            for task in in_flight.values():
                task.cancel()

    async def _delivery_loop(
        self,
        deliver: Callable[[JSONDict], Any],
        in_flight: dict[int, asyncio.Task[None]],
        not_before: dict[int, float],
    ) -> None:
        loop = asyncio.get_running_loop()
        while (self._updates or in_flight) and self.webhook_url and not self._closing:
            self._webhook_wake.clear()
            limit = _p_int(self.webhook_params, "max_connections") or 40
            now = loop.time()
            waiting = [t for t in not_before.values() if t > now]
            seen: set[tuple[str, Any]] = set()
            for update in list(self._updates):
                key = self._sequence_key(update)
                if key in seen:
                    continue  # an earlier update of this chat is not delivered yet
                seen.add(key)
                update_id = update["update_id"]
                if update_id in in_flight or not_before.get(update_id, 0.0) > now:
                    continue
                if len(in_flight) >= limit:
                    break
                in_flight[update_id] = loop.create_task(deliver(update))
            wake = loop.create_task(self._webhook_wake.wait())
            timeout = max(0.0, min(waiting) - now) if waiting else None
            await asyncio.wait(
                {wake, *in_flight.values()}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            wake.cancel()
            for update_id, task in list(in_flight.items()):
                if task.done():
                    del in_flight[update_id]
                    task.result()

    # ---------------------------------------------------------------- HTTP

    def _record(self, call: RecordedCall) -> None:
        call.finished_at = time.monotonic()
        call.index = len(self.calls)
        self.calls.append(call)
        if not call.ok and not call.injected and not call.abandoned:
            _LOGGER.warning("fake Telegram refused %r", call)
        self._notify_calls()

    @staticmethod
    def _json(body: JSONDict, status: int) -> web.Response:
        return web.json_response(body, status=status)

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, dict[str, UploadedFile]]:
        params: JSONDict = {k: _decode_param(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.method not in ("POST", "PUT") or not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON encoded request body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON request body must be an Object")
            params.update(body)
            return params, files
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = UploadedFile(
                        name, value.filename, value.content_type, value.file.read()
                    )
                else:
                    params[name] = _decode_param(name, str(value))
            return params, files
        await request.read()
        return params, files

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/"):
            return self._handle_file(request)
        match = re.fullmatch(r"/bot([^/]*)/([^/]+)", path)
        if match is None:
            return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        token, raw_method = match.groups()
        entry = self._methods.get(raw_method.lower())
        call = RecordedCall(
            method=entry[0] if entry else raw_method,
            http_method=request.method,
            started_at=time.monotonic(),
        )
        try:
            try:
                if token != self.token:
                    raise ApiError(401, "Unauthorized")
                if entry is None:
                    if raw_method.lower() in _KNOWN_UNIMPLEMENTED:
                        raise ApiError(
                            404, f"Not Found: {raw_method} is not implemented by the fake"
                        )
                    raise ApiError(404, "Not Found")
                call.params, call.files = await self._read_params(request)
                for held in self._holds:
                    await held._pass(call)
                self._apply_fault(call)
                self._check_flood(call.method, call.params)
                result = entry[1](call.params, call.files)
                if inspect.isawaitable(result):
                    result = await result
                call.status, call.response = 200, {"ok": True, "result": result}
            except ApiError as exc:
                call.status, call.response = exc.status, exc.to_json()
            except Exception as exc:  # a bug in the fake or input it did not foresee
                _LOGGER.exception("fake Telegram crashed on %s", call.method)
                call.status = 500
                call.response = {
                    "ok": False,
                    "error_code": 500,
                    "description": f"Internal Server Error: fake crashed: {exc!r}",
                }
        except asyncio.CancelledError:
            call.abandoned = True
            self._record(call)
            raise
        self._record(call)
        assert call.response is not None and call.status is not None
        return self._json(call.response, call.status)

    def _handle_file(self, request: web.Request) -> web.Response:
        match = re.fullmatch(r"/file/bot([^/]*)/(.+)", request.path)
        if match is None:
            return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        token, file_path = match.groups()
        if token != self.token:
            return self._json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        stored = self._files_by_path.get(file_path)
        if stored is None or stored.file_size > MAX_DOWNLOAD_FILE_SIZE:
            return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        self.downloads.append(file_path)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    def _apply_fault(self, call: RecordedCall) -> None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.method in ("*", call.method.lower()):
                fault.remaining -= 1
                call.injected = True
                raise ApiError(fault.status, fault.description, fault.parameters)
        self._faults = [f for f in self._faults if f.remaining > 0]

    def _check_flood(self, method: str, params: JSONDict) -> None:
        if not self.flood_limits or method not in _SEND_METHODS:
            return
        now = time.monotonic()
        while self._flood_global and now - self._flood_global[0] >= 1.0:
            self._flood_global.popleft()
        if len(self._flood_global) >= 30:
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        raw_chat_id = params.get("chat_id")
        chat_id = raw_chat_id if isinstance(raw_chat_id, int) else None
        if isinstance(raw_chat_id, str) and re.fullmatch(r"-?\d+", raw_chat_id):
            chat_id = int(raw_chat_id)
        if chat_id is not None:
            window, limit = (60.0, 20) if chat_id < 0 else (1.0, 1)
            sent = self._flood_chat.setdefault(chat_id, deque())
            while sent and now - sent[0] >= window:
                sent.popleft()
            if len(sent) >= limit:
                retry_after = max(1, int(window - (now - sent[0]) + 0.999))
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
            sent.append(now)
        self._flood_global.append(now)

    # ---------------------------------------------------------------- shared validation

    def _chat(self, params: JSONDict) -> JSONDict:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            for chat in self.chats.values():
                if chat.get("username", "").lower() == raw[1:].lower():
                    return chat
            raise bad_request("chat not found")
        chat_id = _p_int(params, "chat_id")
        assert chat_id is not None
        found = self.chats.get(chat_id)
        if found is None:
            raise bad_request("chat not found")
        return found

    def _check_can_write(self, chat: JSONDict) -> None:
        if chat["type"] == "private" and chat["id"] in self._blocked_users:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _text(
        self, text: Any, parse_mode: Any, entities: Any, kind: Literal["message", "caption"]
    ) -> tuple[str, list[JSONDict]]:
        return format_text(
            text,
            parse_mode=parse_mode,
            entities=entities,
            kind=kind,
            strict_entities=self.strict_html_entities,
            warnings=self.warnings,
        )

    def _validate_inline_keyboard(self, markup: Any) -> JSONDict:
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        if sum(len(row) for row in rows) > 100:
            raise bad_request("REPLY_MARKUP_TOO_LONG")
        for row in rows:
            for button in row:
                if not isinstance(button, dict):
                    raise bad_request(
                        "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                    )
                if not isinstance(button.get("text"), str):
                    raise bad_request(
                        'can\'t parse inline keyboard button: Field "text" must be of type String'
                    )
                if not button["text"].strip():
                    raise bad_request("BUTTON_TEXT_INVALID")
                actions = [a for a in _BUTTON_ACTIONS if a in button and button[a] is not None]
                if not actions:
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard"
                    )
                if len(actions) > 1:
                    # Telegram silently uses the first; a button meant two things is a bot bug.
                    raise bad_request(
                        "can't parse inline keyboard button: exactly one of "
                        f"{'/'.join(actions)} must be used (the fake is strict)"
                    )
                action = actions[0]
                value = button[action]
                if action == "callback_data":
                    if (
                        not isinstance(value, str)
                        or not 1 <= len(value.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                    ):
                        raise bad_request("BUTTON_DATA_INVALID")
                elif action == "url":
                    if not isinstance(value, str) or not self._valid_button_url(value):
                        raise bad_request("BUTTON_URL_INVALID")
                elif action in ("switch_inline_query", "switch_inline_query_current_chat"):
                    if not isinstance(value, str):
                        raise bad_request(
                            "can't parse inline keyboard button: "
                            f'Field "{action}" must be of type String'
                        )
                elif action in (
                    "web_app",
                    "login_url",
                    "copy_text",
                    "switch_inline_query_chosen_chat",
                ):
                    if not isinstance(value, dict):
                        raise bad_request(
                            "can't parse inline keyboard button: "
                            f'Field "{action}" must be of type Object'
                        )
                    if action in ("web_app", "login_url") and not str(
                        value.get("url", "")
                    ).startswith("https://"):
                        raise bad_request("BUTTON_URL_INVALID")
        return markup

    @staticmethod
    def _valid_button_url(url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https"):
            return bool(parts.netloc) and " " not in url
        return parts.scheme == "tg" and len(url) > len("tg://")

    def _validate_reply_markup(self, params: JSONDict, *, inline_only: bool) -> JSONDict | None:
        markup = _p_json(params, "reply_markup", dict)
        if markup is None:
            return None
        if "inline_keyboard" in markup:
            return self._validate_inline_keyboard(markup)
        if inline_only:
            raise bad_request("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not rows or not all(isinstance(r, list) for r in rows):
                raise bad_request('field "keyboard" must be an Array of Arrays')
            for row in rows:
                for button in row:
                    label = (
                        button
                        if isinstance(button, str)
                        else (button.get("text") if isinstance(button, dict) else None)
                    )
                    if not isinstance(label, str) or not label:
                        raise bad_request(
                            'can\'t parse keyboard button: Field "text" must be of type String'
                        )
        elif markup.get("remove_keyboard") is not True and markup.get("force_reply") is not True:
            raise bad_request(
                'can\'t find field "inline_keyboard", "keyboard", "remove_keyboard" or '
                '"force_reply"'
            )
        return None  # reply keyboards are not part of the returned Message

    def _reply_target(
        self, params: JSONDict, chat: JSONDict
    ) -> tuple[JSONDict | None, JSONDict | None]:
        """Resolve reply_parameters / reply_to_message_id; returns (replied message, quote)."""
        reply = _p_json(params, "reply_parameters", dict)
        if reply is None:
            message_id = _p_int(params, "reply_to_message_id")
            if message_id is None:
                return None, None
            reply = {
                "message_id": message_id,
                "allow_sending_without_reply": _p_bool(params, "allow_sending_without_reply"),
            }
        message_id = _p_int(reply, "message_id", required="message to be replied not found")
        target_chat = chat
        if reply.get("chat_id") not in (None, chat["id"]):
            target_chat = self._chat({"chat_id": reply["chat_id"]})
        target = self._messages.get(target_chat["id"], {}).get(message_id or 0)
        if target is None:
            if _p_bool(reply, "allow_sending_without_reply"):
                return None, None
            raise bad_request("message to be replied not found")
        quote = reply.get("quote")
        quote_info: JSONDict | None = None
        if quote is not None:
            source = target.get("text") or target.get("caption") or ""
            if not isinstance(quote, str) or not quote or quote not in source:
                raise bad_request("QUOTE_TEXT_INVALID")
            quote_info = {
                "text": quote,
                "position": utf16_len(source[: source.index(quote)]),
                "is_manual": True,
            }
        return target, quote_info

    def _bot_message(
        self, chat: JSONDict, params: JSONDict, content: JSONDict, markup: JSONDict | None
    ) -> JSONDict:
        target, quote = self._reply_target(params, chat)
        message: JSONDict = {
            "from": self.bot_user,
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
        }
        if target is not None:
            message["reply_to_message"] = self._reply_copy(target)
        if quote is not None:
            message["quote"] = quote
        message.update(content)
        if markup is not None:
            message["reply_markup"] = copy.deepcopy(markup)
        stored = self._store_message(chat["id"], message)
        self._bot_sent.append((chat["id"], stored["message_id"]))
        return copy.deepcopy(stored)

    def _find_bot_message(
        self, params: JSONDict, *, action: str
    ) -> tuple[JSONDict | None, str | None]:
        inline_id = _p_str(params, "inline_message_id")
        if inline_id:
            if inline_id not in self._inline_messages:
                raise bad_request("MESSAGE_ID_INVALID")
            return self._inline_messages[inline_id], inline_id
        chat = self._chat(params)
        message_id = _p_int(params, "message_id", required="message identifier is not specified")
        message = self._messages.get(chat["id"], {}).get(message_id or 0)
        if message is None:
            raise bad_request(f"message to {action} not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad_request(f"message can't be {action}ed")
        return message, None

    # ---------------------------------------------------------------- methods

    def _m_get_me(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return self.bot_user

    def _check_no_webhook(self) -> None:
        if self.webhook_url:
            raise ApiError(409, _WEBHOOK_CONFLICT)

    async def _m_get_updates(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> list[JSONDict]:
        self._check_no_webhook()
        offset = _p_int(params, "offset") or 0
        limit = min(max(_p_int(params, "limit") or MAX_GET_UPDATES_LIMIT, 1), MAX_GET_UPDATES_LIMIT)
        timeout = max(_p_num(params, "timeout", 0.0), 0.0)
        allowed = _p_json(params, "allowed_updates", list)
        if allowed is not None:
            unknown = set(allowed) - _UPDATE_TYPES
            if unknown:
                self.warnings.append(f"allowed_updates has unknown types {sorted(unknown)}")
            self._allowed_updates = frozenset(allowed) & _UPDATE_TYPES or _DEFAULT_UPDATE_TYPES
        # Confirm (forget) updates below offset; a negative offset keeps the last -offset ones.
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

        # A newer getUpdates terminates an older one still waiting, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._updates_changed
            if self._closing:
                return []
            if generation != self._poll_generation:
                # Give a client that already gave up (PTB cancels its poll on stop) the time to
                # disconnect, so only a real second bot instance sees the conflict.
                await asyncio.sleep(0.05)
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            self._check_no_webhook()  # again: setWebhook may arrive during a long poll
            batch = self._updates[:limit]
            if batch:
                return copy.deepcopy(batch)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _m_set_webhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        url = _p_str(params, "url") or ""
        if not url:
            return self._m_delete_webhook(params, files)
        parts = urlsplit(url)
        # Telegram demands HTTPS on ports 443/80/88/8443; the fake accepts local http test URLs.
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = _p_str(params, "secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.fullmatch(secret):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        max_connections = _p_int(params, "max_connections")
        if max_connections is not None and not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed = _p_json(params, "allowed_updates", list)
        if allowed is not None:
            self._allowed_updates = frozenset(allowed) & _UPDATE_TYPES or _DEFAULT_UPDATE_TYPES
        if _p_bool(params, "drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = url
        self.webhook_secret = secret
        self.webhook_params = {k: v for k, v in params.items() if k != "certificate"}
        self._wake_pollers()  # a held getUpdates now conflicts
        self._kick_webhook_delivery()
        return True

    def _m_delete_webhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        if _p_bool(params, "drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = None
        self.webhook_secret = None
        self.webhook_params = {}
        return True

    def _m_get_webhook_info(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info["max_connections"] = _p_int(self.webhook_params, "max_connections") or 40
            if "allowed_updates" in self.webhook_params:
                info["allowed_updates"] = sorted(self._allowed_updates)
        failed = [d for d in self.webhook_deliveries if d.status is None or d.status >= 300]
        if failed:
            info["last_error_message"] = (
                failed[-1].error or f"Wrong response from the webhook: {failed[-1].status}"
            )
        return info

    def _m_send_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._chat(params)
        self._check_can_write(chat)
        if "text" not in params:
            raise bad_request("message text is empty")
        entities = _p_json(params, "entities", list)
        text, parsed = self._text(params.get("text"), params.get("parse_mode"), entities, "message")
        markup = self._validate_reply_markup(params, inline_only=False)
        content: JSONDict = {"text": text}
        if parsed:
            content["entities"] = parsed
        preview = _p_json(params, "link_preview_options", dict)
        if preview is not None:
            if preview.get("url") is not None and not isinstance(preview["url"], str):
                raise bad_request('field "url" of link_preview_options must be of type String')
            content["link_preview_options"] = preview
        elif _p_bool(params, "disable_web_page_preview"):
            content["link_preview_options"] = {"is_disabled": True}
        return self._bot_message(chat, params, content, markup)

    def _m_send_document(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._chat(params)
        self._check_can_write(chat)
        document = params.get("document")
        upload: UploadedFile | None = None
        if "document" in files:
            upload = files["document"]
        elif isinstance(document, str) and document.startswith("attach://"):
            upload = files.get(document[len("attach://") :])
            if upload is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
        elif isinstance(document, str) and document.startswith(("http://", "https://")):
            raise bad_request("fake Telegram cannot fetch documents by URL; upload the bytes")
        if upload is not None:
            if len(upload.data) > MAX_UPLOAD_FILE_SIZE:
                raise ApiError(413, "Request Entity Too Large")
            if not upload.data:
                raise bad_request("file must be non-empty")
            stored = self.register_file(
                upload.data,
                file_name=upload.filename,
                mime_type=upload.content_type or "application/octet-stream",
            )
        elif isinstance(document, str) and document in self.files:
            stored = self.files[document]
        else:
            raise bad_request("there is no document in the request")
        caption_entities = _p_json(params, "caption_entities", list)
        caption, parsed = self._text(
            params.get("caption"), params.get("parse_mode"), caption_entities, "caption"
        )
        markup = self._validate_reply_markup(params, inline_only=False)
        content: JSONDict = {"document": stored.as_document()}
        if caption:
            content["caption"] = caption
            if parsed:
                content["caption_entities"] = parsed
        return self._bot_message(chat, params, content, markup)

    def _m_edit_message_text(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> JSONDict | bool:
        message, inline_id = self._find_bot_message(params, action="edit")
        assert message is not None
        if "text" not in message or message.get("text") is None:
            raise bad_request("there is no text in the message to edit")
        entities = _p_json(params, "entities", list)
        text, parsed = self._text(params.get("text"), params.get("parse_mode"), entities, "message")
        markup = self._validate_reply_markup(params, inline_only=True)
        if (
            text == message["text"]
            and parsed == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise bad_request(_NOT_MODIFIED)
        message["text"] = text
        message["entities"] = parsed
        if not parsed:
            message.pop("entities")
        # Editing without reply_markup removes the inline keyboard, as on Telegram.
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = copy.deepcopy(markup)
        if inline_id is not None:
            return True
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _m_edit_message_reply_markup(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> JSONDict | bool:
        message, inline_id = self._find_bot_message(params, action="edit")
        assert message is not None
        markup = self._validate_reply_markup(params, inline_only=True)
        if markup == message.get("reply_markup"):
            raise bad_request(_NOT_MODIFIED)
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = copy.deepcopy(markup)
        if inline_id is not None:
            return True
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _m_delete_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        chat = self._chat(params)
        message_id = _p_int(params, "message_id", required="message identifier is not specified")
        assert message_id is not None
        message = self._messages.get(chat["id"], {}).get(message_id)
        if message is None:
            raise bad_request("message to delete not found")
        # In groups a bot without admin rights can delete only its own messages.
        if chat["type"] != "private" and message.get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be deleted")
        del self._messages[chat["id"]][message_id]
        self._deleted.add((chat["id"], message_id))
        return True

    def _m_send_chat_action(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        chat = self._chat(params)
        self._check_can_write(chat)
        if _p_str(params, "action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _m_answer_callback_query(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        query_id = _p_str(params, "callback_query_id", required=_QUERY_INVALID)
        info = self._callback_queries.get(query_id or "")
        if info is None or info["answered"]:
            raise bad_request(_QUERY_INVALID)
        text = _p_str(params, "text")
        if text is not None and utf16_len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        url = _p_str(params, "url")
        if url is not None and not self._valid_button_url(url):
            raise bad_request("URL_INVALID")
        info["answered"] = True
        self.callback_answers[query_id or ""] = dict(params)
        return True

    def _m_answer_inline_query(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        query_id = _p_str(params, "inline_query_id", required=_QUERY_INVALID)
        info = self._inline_queries.get(query_id or "")
        if info is None or info["answered"]:
            raise bad_request(_QUERY_INVALID)
        if (
            self.inline_query_ttl is not None
            and time.monotonic() - info["created"] > self.inline_query_ttl
        ):
            raise bad_request(_QUERY_INVALID)
        results = _p_json(params, "results", list)
        if results is None:
            raise bad_request("results must be an Array")
        if len(results) > MAX_INLINE_RESULTS:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            self._validate_inline_result(result, seen)
        next_offset = params.get("next_offset")
        if next_offset is not None:
            if not isinstance(next_offset, str):
                next_offset = str(next_offset)
            if len(next_offset.encode("utf-8")) > MAX_NEXT_OFFSET_BYTES:
                raise bad_request("NEXT_OFFSET_INVALID")
        cache_time = _p_int(params, "cache_time")
        if cache_time is not None and cache_time < 0:
            raise bad_request("cache_time must be non-negative")
        button = _p_json(params, "button", dict)
        if button is not None:
            if not isinstance(button.get("text"), str) or not button["text"]:
                raise bad_request(
                    'can\'t parse InlineQueryResultsButton: Field "text" must be of type String'
                )
            has_start, has_app = "start_parameter" in button, "web_app" in button
            if has_start == has_app:
                raise bad_request(
                    "InlineQueryResultsButton needs exactly one of start_parameter and web_app"
                )
            if has_start and not (
                isinstance(button["start_parameter"], str)
                and _START_PARAMETER_RE.fullmatch(button["start_parameter"])
            ):
                raise bad_request("START_PARAM_INVALID")
        switch_pm = _p_str(params, "switch_pm_parameter")
        if switch_pm is not None and not _START_PARAMETER_RE.fullmatch(switch_pm):
            raise bad_request("START_PARAM_INVALID")
        info["answered"] = True
        self.inline_answers[query_id or ""] = {
            "results": copy.deepcopy(results),
            "next_offset": next_offset,
            "cache_time": 300 if cache_time is None else cache_time,
            "is_personal": _p_bool(params, "is_personal"),
            "button": button,
        }
        return True

    def _validate_inline_result(self, result: Any, seen: set[str]) -> None:
        if not isinstance(result, dict):
            raise bad_request("can't parse inline query result: must be an Object")
        result_id = result.get("id")
        if (
            not isinstance(result_id, str)
            or not 1 <= len(result_id.encode("utf-8")) <= MAX_INLINE_RESULT_ID_BYTES
        ):
            raise bad_request("RESULT_ID_INVALID")
        if result_id in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(result_id)
        kind = result.get("type")
        if kind not in _INLINE_RESULT_TYPES:
            raise bad_request(f"can't parse inline query result: unsupported type {kind!r}")
        if kind == "article":
            if not isinstance(result.get("title"), str) or not result["title"]:
                raise bad_request(
                    'can\'t parse InlineQueryResultArticle: Field "title" must be of type String'
                )
            if not isinstance(result.get("input_message_content"), dict):
                raise bad_request(
                    'can\'t parse InlineQueryResultArticle: Field "input_message_content" must be '
                    "of type Object"
                )
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            self._text(
                content["message_text"],
                content.get("parse_mode"),
                content.get("entities"),
                "message",
            )
        elif content is not None and not isinstance(content, dict):
            raise bad_request('Field "input_message_content" must be of type Object')
        if "caption" in result:
            self._text(
                result["caption"],
                result.get("parse_mode"),
                result.get("caption_entities"),
                "caption",
            )
        if result.get("reply_markup") is not None:
            self._validate_inline_keyboard(result["reply_markup"])

    @staticmethod
    def _scope_key(scope: JSONDict | None) -> str:
        if not scope or scope.get("type") == "default":
            return "default"
        parts = [str(scope.get("type"))]
        for key in ("chat_id", "user_id"):
            if key in scope:
                parts.append(f"{key}={scope[key]}")
        return ":".join(parts)

    def _command_key(self, params: JSONDict) -> tuple[str, str]:
        scope = _p_json(params, "scope", dict)
        if scope is not None:
            kind = scope.get("type")
            if kind not in _COMMAND_SCOPES:
                raise bad_request("unsupported scope type")
            if (
                kind in ("chat", "chat_administrators", "chat_member")
                and scope.get("chat_id") is None
            ):
                raise bad_request("chat_id is empty")
            if kind in ("chat", "chat_administrators", "chat_member"):
                # Telegram knows a chat only once the user has talked to the bot.
                self._chat({"chat_id": scope["chat_id"]})
            if kind == "chat_member" and scope.get("user_id") is None:
                raise bad_request("user_id is empty")
        language_code = _p_str(params, "language_code") or ""
        if language_code and not _LANGUAGE_CODE_RE.fullmatch(language_code):
            raise bad_request("invalid language code specified")
        return self._scope_key(scope), language_code

    def _m_set_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        commands = _p_json(params, "commands", list)
        if commands is None:
            raise bad_request("commands must be an Array")
        if len(commands) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        clean: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand: must be an Object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if (
                not isinstance(description, str)
                or not 1 <= len(description) <= MAX_COMMAND_DESCRIPTION_LENGTH
            ):
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        key = self._command_key(params)
        if clean:
            self._commands[key] = clean
        else:
            self._commands.pop(key, None)
        return True

    def _m_get_my_commands(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> list[JSONDict]:
        return copy.deepcopy(self._commands.get(self._command_key(params), []))

    def _m_delete_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        self._commands.pop(self._command_key(params), None)
        return True

    def _set_bot_text(self, params: JSONDict, field_name: str, limit: int, error: str) -> bool:
        value = _p_str(params, field_name) or ""
        if len(value) > limit:
            raise bad_request(error)
        language_code = _p_str(params, "language_code") or ""
        if language_code and not _LANGUAGE_CODE_RE.fullmatch(language_code):
            raise bad_request("invalid language code specified")
        self._bot_texts[(field_name, language_code)] = value
        return True

    def _get_bot_text(self, params: JSONDict, field_name: str) -> JSONDict:
        language_code = _p_str(params, "language_code") or ""
        default = self.bot_first_name if field_name == "name" else ""
        return {field_name: self._bot_texts.get((field_name, language_code), default)}

    def bot_text(self, field_name: str, language_code: str = "") -> str | None:
        """What the bot set with setMyDescription/setMyShortDescription/setMyName."""
        return self._bot_texts.get((field_name, language_code))

    def _m_set_my_description(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        return self._set_bot_text(params, "description", 512, "BOT_DESCRIPTION_INVALID")

    def _m_get_my_description(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return self._get_bot_text(params, "description")

    def _m_set_my_short_description(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        return self._set_bot_text(params, "short_description", 120, "BOT_SHORT_DESCRIPTION_INVALID")

    def _m_get_my_short_description(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> JSONDict:
        return self._get_bot_text(params, "short_description")

    def _m_set_my_name(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        return self._set_bot_text(params, "name", 64, "BOT_NAME_INVALID")

    def _m_get_my_name(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return self._get_bot_text(params, "name")

    def _m_set_chat_menu_button(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        chat_id = None
        if params.get("chat_id") not in (None, ""):
            chat_id = self._chat(params)["id"]
        button = _p_json(params, "menu_button", dict) or {"type": "default"}
        kind = button.get("type")
        if kind not in ("commands", "web_app", "default"):
            raise bad_request("unsupported menu button type")
        if kind == "web_app" and not (
            isinstance(button.get("text"), str)
            and isinstance(button.get("web_app"), dict)
            and str(button["web_app"].get("url", "")).startswith("https://")
        ):
            raise bad_request("BUTTON_URL_INVALID")
        self.menu_buttons[chat_id] = button
        return True

    def _m_get_chat_menu_button(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat_id = None
        if params.get("chat_id") not in (None, ""):
            chat_id = self._chat(params)["id"]
        button = (
            self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "default"}
        )
        return copy.deepcopy(button)

    def _m_get_file(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        file_id = _p_str(params, "file_id", required="file_id is empty")
        stored = self.files.get(file_id or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_FILE_SIZE:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }


@pytest_asyncio.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A started :class:`FakeTelegram` (token :data:`TOKEN`), stopped after the test."""
    fake = FakeTelegram()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
