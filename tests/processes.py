"""Running the bot as its own process, exactly as an operator does (``python -m bot serve``)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bot_env(**extra: str) -> dict[str, str]:
    """The environment without any of our settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "B2C_", "JOURNAL_", "ALLOWED_"))
        and k not in ("PORT", "LOG_LEVEL", "LOG_FORMAT", "DATABASE_URL")
    }
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    port: int
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.returncode is None:
            self.process.send_signal(sig)
        await asyncio.wait_for(self.process.wait(), 30)
        if self.reader is not None:
            await asyncio.wait_for(self.reader, 10)


async def start_bot(*args: str, cwd: Path, env: dict[str, str]) -> BotProcess:
    """Start ``python -m bot serve ...`` on a free port; return once it is serving (in Socket
    Mode: once its /healthz is)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        *args,
        cwd=cwd,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    lines: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        assert line, "the bot exited: " + "".join(lines)
        lines.append(line)
        match = re.search(
            r"(?:serving Slack requests on|health checks on) http://127\.0\.0\.1:(\d+)", line
        )
        if match:
            break
    bot = BotProcess(process, int(match.group(1)), lines)

    async def drain() -> None:
        assert process.stderr is not None
        async for raw in process.stderr:
            lines.append(raw.decode())

    bot.reader = asyncio.ensure_future(drain())
    return bot
