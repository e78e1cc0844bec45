"""Running the application: webhook mode, settings, and logs that keep readers' secrets."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from bot.app import build_application, configure_logging
from bot.services import Services
from bot.settings import Settings
from tests.bot.conftest import MakeBot, RunningBot, bot_settings, stop_bot
from tests.documents import CANONICAL
from tests.telegram_fake import FakeTelegram


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_checks_the_secret(
    fake_telegram: FakeTelegram, seeded: Services
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/hook"
    app = build_application(bot_settings(fake_telegram, seeded), services=seeded)
    await app.initialize()
    assert app.post_init is not None and app.updater is not None  # set by build_application
    await app.post_init(app)
    await app.start()
    await app.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="hook", webhook_url=url, secret_token="s3cret"
    )
    try:
        assert fake_telegram.webhook_url == url
        update = fake_telegram.build_message_update(CANONICAL, user_id=2001)
        assert await fake_telegram.post_webhook_update(update, secret="wrong") == 403
        await fake_telegram.assert_no_call("sendMessage", within=1.0, chat_id=2001)
        assert await fake_telegram.post_webhook_update(update, secret="s3cret") == 200
        reply = await fake_telegram.wait_for("sendMessage", chat_id=2001, timeout=20)
        assert "1,200" in reply.text
    finally:
        await stop_bot(app)


async def test_logs_never_hold_the_token_or_the_question(
    make_bot: MakeBot, seeded: Services, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("INFO")
    secret_question = "how many political prisoners remain in Zhodzina prison number 8?"
    with caplog.at_level(logging.INFO):
        running: RunningBot = await make_bot(seeded)
        fake = running.fake
        fake.send_message(secret_question, user_id=777001, first_name="Alesia")
        await fake.wait_for("sendMessage", chat_id=777001, timeout=20)
        fake.send_inline_query("Zhodzina prison", user_id=777001)
        await fake.wait_for("answerInlineQuery", timeout=20)
        fake.fail_next("sendMessage", status=500)
        fake.send_message("Zhodzina question that fails", user_id=777001)
        await fake.wait_for("sendMessage", chat_id=777001, timeout=20)
        await asyncio.sleep(0.2)
    logged = (
        "\n".join(
            record.getMessage() + (caplog.text if record.exc_info else "")
            for record in caplog.records
        )
        + caplog.text
    )
    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert fake.token not in logged
    assert fake.token.split(":")[1] not in logged
    for secret in ("Zhodzina", "777001", "Alesia"):
        assert secret not in logged


def test_missing_or_malformed_token_is_refused() -> None:
    with pytest.raises(ValueError, match="not set"):
        Settings(_env_file=None).token()
    with pytest.raises(ValueError, match="malformed"):
        Settings(_env_file=None, TELEGRAM_BOT_TOKEN="12345").token()
    token = "123456:" + "a" * 35
    assert Settings(_env_file=None, TELEGRAM_BOT_TOKEN=token).token() == token


def test_moderator_ids_parse_from_a_comma_list() -> None:
    settings = Settings(_env_file=None, CITEBOT_MODERATORS="11, 22,33")
    assert settings.moderators == frozenset({11, 22, 33})
