"""`make run` as the README's first command: without a token it explains and opens the chat."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.documents import CANONICAL, ROOT


def test_make_run_without_a_token_explains_and_answers_in_the_terminal(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dotenv = ROOT / ".env"
    if dotenv.exists() and "TELEGRAM_BOT_TOKEN=" in dotenv.read_text(encoding="utf-8"):
        pytest.skip("a .env with a bot token would start the real bot")
    venv = Path(sys.executable).parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "CITEBOT_"))}
    # -o: the test's own virtualenv counts as installed; nothing is installed here.
    command = ["make", "--no-print-directory", "-o", f"{venv}/.installed", "run"]
    done = subprocess.run(
        [*command, f"VENV={venv}", f"DATA_DIR={tmp_path / 'data'}"],
        cwd=ROOT,
        input=f"{CANONICAL}\nWhat is the best pizza in Naples?\n\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    said = " ".join(done.stdout.split())  # the explanation is folded to the terminal's width
    assert "added" in said  # the bundled corpus was ingested into the data directory
    assert "talk to @BotFather" in said
    assert "export TELEGRAM_BOT_TOKEN=<that token>" in said
    assert "1,200 political prisoners" in said
    assert "No reliable passage" in said
