"""The command line: ``python -m bot serve [--socket] [--sandbox]``, ``demo``, ``sandbox``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import Coroutine
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import logs
from bot.home.scopes import scopes_of
from bot.journal import JournalUnavailable
from bot.settings import FIX, Mode, Settings, SettingsError, read_all_settings

# Allocations (net) between two collections of the youngest generation; Python's default is 700.
# Under a burst, a thousand requests in flight keep their objects alive across those frequent
# collections, so the objects climb to the oldest generation and get traversed again and again.
# Measured over the benchmark's bursts of 50, 200 and 1000 (three rounds, gc.callbacks): the
# collector took 1.1-1.4 s of the bot's time with the default, 0.7 s with this. The longest
# pauses stay about as long (100-150 ms, when a burst's live objects are traversed at all).
GC_YOUNG_THRESHOLD = 20_000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Slack bot that creates Oracle B2C Service tasks from /task.",
    )
    commands = parser.add_subparsers(dest="action", required=True)
    serve = commands.add_parser("serve", help="run the bot (HTTP mode by default)")
    serve.add_argument("--socket", action="store_true", help="use Socket Mode (no public URL)")
    serve.add_argument(
        "--sandbox",
        action="store_true",
        help="use the embedded B2C sandbox instead of a real Oracle site",
    )
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on")
    serve.add_argument(
        "--port",
        type=int,
        default=None,
        help="port (default $PORT): Slack's requests and /healthz, or /healthz alone in Socket "
        "Mode",
    )
    demo = commands.add_parser(
        "demo", help="run one command (or one Workflow Builder step) offline and print what happens"
    )
    demo.add_argument(
        "command_line", nargs="?", help='e.g. "/task Return customer call @contact 83"'
    )
    demo.add_argument(
        "--step",
        metavar="JSON",
        help='run the Workflow Builder step with these inputs instead, e.g. \'{"name": '
        '"Replacement part request", "contact": "83", "priority": "High"}\'',
    )
    demo.add_argument("--json", action="store_true", help="print the result as JSON")
    demo.add_argument(
        "--round-trip",
        action="store_true",
        help="then an agent changes the task in B2C Service and someone replies in its thread "
        "(synced threads, both ways)",
    )
    doctor = commands.add_parser(
        "doctor", help="check the settings, Slack, Oracle and the journal, and say what to fix"
    )
    doctor.add_argument("--json", action="store_true", help="print the checklist as JSON")
    doctor.add_argument(
        "--socket",
        action="store_true",
        help="check for Socket Mode (default: HTTP mode, or "
        "Socket Mode when only SLACK_APP_TOKEN is set)",
    )
    doctor.add_argument(
        "--write",
        action="store_true",
        help="also create a task named 'doctor check …' in Oracle, and delete it",
    )
    sandbox = commands.add_parser("sandbox", help="serve the embedded B2C sandbox alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8399)
    sandbox.add_argument("--latency", type=float, default=0.0, help="seconds added per call")
    return parser


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_config_token,
        settings.b2c_password,
        settings.b2c_session_token,
        settings.b2c_oauth_token,
    ]
    found = [v.get_secret_value() for v in values if v is not None]
    if settings.database_url and "@" in settings.database_url:
        credentials = settings.database_url.split("://", 1)[-1].rsplit("@", 1)[0]
        found.append(credentials.partition(":")[2])
    return found


async def _serve(args: argparse.Namespace) -> None:
    from bot.app import build_runtime
    from bot.server import serve_http, serve_socket

    mode = Mode.SOCKET if args.socket else Mode.HTTP
    settings, malformed = read_all_settings()
    problems = settings.problems(mode, sandbox=args.sandbox, malformed=malformed)
    if problems:  # every one at once, each once, and the fix once
        raise SettingsError("\n".join([*problems, f"→ {FIX}"]))
    logs.configure(settings.log_level, settings.log_format, _secrets(settings))
    scopes = await check_slack_token(settings)
    try:
        runtime = await build_runtime(settings, mode, use_sandbox=args.sandbox, scopes=scopes)
    except JournalUnavailable as error:
        raise SettingsError(str(error)) from None
    settle_heap()
    if runtime.sandbox is not None:
        logging.getLogger("bot").info(
            "using the embedded B2C sandbox at %s", runtime.sandbox.base_url
        )
    port = args.port if args.port is not None else settings.port
    if mode is Mode.SOCKET:
        assert settings.slack_app_token is not None
        await serve_socket(runtime, settings.slack_app_token.get_secret_value(), args.host, port)
    else:
        await serve_http(runtime, args.host, port)


async def _doctor(args: argparse.Namespace) -> int:
    from bot.doctor import run_doctor

    settings, problems = read_all_settings()
    logs.configure("WARNING", "text", _secrets(settings))
    report = await run_doctor(settings, problems, socket=args.socket, write=args.write)
    print(report.json() if args.json else report.text())
    return 1 if report.failed else 0


# Slack's answers to auth.test that mean the token itself is wrong
TOKEN_REFUSED = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}


async def check_slack_token(settings: Settings) -> set[str] | None:
    """A bot token Slack refuses stops start-up with one line; Slack being unreachable does
    not (the bot retries its calls, and the journal keeps what it could not post). The
    token's scopes, when Slack said them (``bot.home.scopes``)."""
    assert settings.slack_bot_token is not None
    slack = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    try:
        return scopes_of(await slack.auth_test())
    except SlackApiError as error:
        code = error.response.get("error", "")
        if code in TOKEN_REFUSED:
            raise SettingsError(
                f"Slack refused SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token "
                "(xoxb-…) again from the app's OAuth & Permissions page"
            ) from None
        logging.getLogger("bot").warning("auth.test answered %s at start-up", code)
    except Exception as error:  # Slack unreachable: start anyway
        logging.getLogger("bot").warning(
            "could not reach Slack at start-up (%s)", type(error).__name__
        )
    return None


async def _sandbox(args: argparse.Namespace) -> None:
    from bot.server import _until_signalled
    from bot.standins.sandbox import PASSWORD, USERNAME, B2CSandbox

    logs.configure("INFO")
    sandbox = B2CSandbox(latency=args.latency)
    sandbox.seed_tasks()
    url = await sandbox.start(args.host, args.port)
    print(f"B2C sandbox at {url} (user {USERNAME!r}, password {PASSWORD!r})", flush=True)
    try:
        await _until_signalled()
    finally:
        await sandbox.stop()


def settle_heap() -> None:
    """Start-up is over: its objects (modules, settings, caches) live as long as the process,
    so move them out of the collector's sight (``gc.freeze``), and collect the young generation
    less often (see GC_YOUNG_THRESHOLD)."""
    gc.collect()
    gc.freeze()
    _young, *older = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *older)


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run the bot's event loop: uvloop where it is installed (Linux and macOS), which halves
    the loop's own cost per request under bursts (see docs/benchmarks.md); asyncio's otherwise."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.action == "demo":
            logging.basicConfig(level=logging.WARNING)
            if args.step is not None:
                from bot.demo_step import run_step_demo

                if args.command_line is not None or args.round_trip:
                    print(
                        "error: --step runs the step alone (no command, no --round-trip)",
                        file=sys.stderr,
                    )
                    return 2
                return asyncio.run(run_step_demo(args.step, as_json=args.json, out=sys.stdout))
            if args.command_line is None:
                print("error: give a command (\"/task …\") or --step '{…}'", file=sys.stderr)
                return 2
            from bot.demo import main as demo_main

            return demo_main(args.command_line, args.json, args.round_trip)
        if args.action == "sandbox":
            asyncio.run(_sandbox(args))
            return 0
        if args.action == "doctor":
            return asyncio.run(_doctor(args))
        _run(_serve(args))
        return 0
    except SettingsError as error:
        for line in str(error).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
