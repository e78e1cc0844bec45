"""Run ``citebot`` in a child process and measure it: exit code, output, seconds, peak RSS.

The peak resident set is that of the whole ``citebot`` process, models included, and nothing
of the test's: a child forked from the test process would inherit the test's high-water mark
(Linux carries it over ``exec``), so a small shim process forks the command and reports the
``ru_maxrss`` that ``wait4`` gives for it. ``bench/hostile.py`` uses this too.

Bounds that would make a test slow (the 30-second fetch deadline) can be shortened for the child
only: ``constants={"corpus.fetch.DEADLINE": 2}`` sets them before the command line starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The child sets the constants it is given, then runs the real entry point.
_LAUNCH = """
import importlib, json, os, sys
for name, value in json.loads(os.environ.pop("CITEBOT_TEST_CONSTANTS", "{}")).items():
    module, attribute = name.rsplit(".", 1)
    setattr(importlib.import_module(module), attribute, value)
from bot.cli import main
sys.argv[0] = "citebot"
main()
"""


# Forks the command from a process that holds almost nothing, and reports what it cost.
_SHIM = """
import json, os, sys
report, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execv(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as handle:
    json.dump({"status": status, "maxrss_kb": usage.ru_maxrss}, handle)
sys.exit(0)
"""


@dataclass(frozen=True, slots=True)
class Finished:
    """How a child process ended and what it cost."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss: int  # bytes

    @property
    def peak_mb(self) -> float:
        return self.peak_rss / 2**20


def run_citebot(
    args: Sequence[str],
    *,
    data_dir: Path,
    env: Mapping[str, str] | None = None,
    constants: Mapping[str, object] | None = None,
    timeout: float = 300,
) -> Finished:
    """``citebot ARGS`` against ``data_dir`` in a child process, measured."""
    environment = {
        **os.environ,
        "CITEBOT_DATA_DIR": str(data_dir),
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    if constants:
        environment["CITEBOT_TEST_CONSTANTS"] = json.dumps(dict(constants))
    return run_measured([sys.executable, "-c", _LAUNCH, *args], env=environment, timeout=timeout)


def run_measured(args: Sequence[str], *, env: Mapping[str, str], timeout: float) -> Finished:
    """Run ``args`` to the end (killed after ``timeout`` seconds), measured."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as scratch,
    ):
        report = Path(scratch) / "report.json"
        start = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-c", _SHIM, str(report), *args],
            env=dict(env),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        seconds = time.monotonic() - start
        measured = json.loads(report.read_text()) if report.exists() else None
        out.seek(0)
        err.seek(0)
        return Finished(
            returncode=os.waitstatus_to_exitcode(measured["status"]) if measured else -9,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            seconds=seconds,
            peak_rss=measured["maxrss_kb"] * 1024 if measured else 0,
        )
