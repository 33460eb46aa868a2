"""Serve the local Slack Web API fake as its own process: ``python bench/slack_fake_server.py``.

Prints ``Slack fake at <url>`` once it listens. ``--latency`` seconds are added to every call.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from bot.standins.slack_fake import SlackFake


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    fake = SlackFake(latency=args.latency)
    url = await fake.start(args.host, args.port)
    print(f"Slack fake at {url}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await fake.stop()


if __name__ == "__main__":
    asyncio.run(main())
