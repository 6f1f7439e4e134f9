"""``manage.py kuzzle <controller>:<action>``: call any API action, like Kourou's API fallback.

    manage.py kuzzle server:now
    manage.py kuzzle greeting:sayHello -a name=Ada --body '{"from": "cli"}'
    manage.py kuzzle document:get -i idx -c col --id x -a refresh=wait_for --host localhost

Without ``--host`` the request runs in this process: the application starts and the request goes
through the funnel with its whole event life cycle. With ``--host`` it goes to a running server,
over HTTP (``POST /_query``) or WebSocket (:mod:`kuzzle_events.protocols.cli`). Either way the
command only builds a request and prints an envelope; events, rights and controllers are the
funnel's business.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kuzzle_events.protocols.cli import TransportError, run_in_process, send_over_http, send_over_websocket

_ENVELOPE_KEYS = frozenset({"status", "error", "result"})


class Command(BaseCommand):
    help = (
        "Execute an API action (<controller>:<action>) in-process through the funnel, or against a "
        "running server with --host, and print its result as JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", metavar="controller:action", help="the action to run, e.g. server:now")
        parser.add_argument(
            "-a",
            "--arg",
            dest="arguments",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a request argument (repeatable); the value is parsed as JSON when it parses, else kept as text",
        )
        parser.add_argument("--body", help="the request body, a JSON object")
        parser.add_argument("-i", "--index", help="the index argument")
        parser.add_argument("-c", "--collection", help="the collection argument")
        parser.add_argument("--id", dest="document_id", metavar="ID", help="the _id argument")
        parser.add_argument("--jwt", help="authentication token sent with the request")
        parser.add_argument("--display", action="store_true", help="print the whole envelope, not only the result")
        parser.add_argument("--host", help="send the request to the server on this host instead of running it here")
        parser.add_argument("--port", type=int, default=7512, help="the server's port (default 7512)")
        parser.add_argument(
            "--protocol", choices=("http", "websocket"), default="http", help="how to reach the server (default http)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        request = build_request(options)
        host = options["host"]
        try:
            if host is None:
                answer = run_in_process(request)
            elif options["protocol"] == "websocket":
                answer = send_over_websocket(request, host, options["port"])
            else:
                answer = send_over_http(request, host, options["port"])
        except TransportError as failure:
            reason = f": {describe_error(failure.error)}" if failure.error is not None else ""
            raise CommandError(f"{failure}{reason}") from None

        if not is_envelope(answer):
            # A raw response (the handler chose its own body): printed as the server sent it.
            self.stdout.write(answer if isinstance(answer, str) else _pretty(answer))
            return
        if options["display"]:
            self.stdout.write(_pretty(answer))
        error = answer.get("error")
        if error:
            raise CommandError(describe_error(error), returncode=1)
        if not options["display"]:
            self.stdout.write(_pretty(answer.get("result")))


# Building the request -------------------------------------------------------------------------


def build_request(options: dict[str, Any]) -> dict[str, Any]:
    """The request as non-HTTP protocols send it, from the command's options."""
    controller, sep, action = str(options["target"]).rpartition(":")
    if not sep or not controller or not action:
        raise CommandError(f'Expected <controller>:<action> (e.g. "server:now"), got "{options["target"]}".')
    request: dict[str, Any] = {}
    for item in options.get("arguments") or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f'Expected -a KEY=VALUE, got "{item}".')
        request[key] = parse_value(value)
    for option, key in (("index", "index"), ("collection", "collection"), ("document_id", "_id")):
        if options.get(option) is not None:
            request[key] = options[option]
    if options.get("body") is not None:
        try:
            body = json.loads(options["body"])
        except ValueError as error:
            raise CommandError(f"--body is not valid JSON: {error}") from None
        if not isinstance(body, dict):
            raise CommandError("--body must be a JSON object.")
        request["body"] = body
    if options.get("jwt"):
        request["jwt"] = options["jwt"]
    request["controller"] = controller
    request["action"] = action
    return request


def parse_value(text: str) -> Any:
    """``3`` -> 3, ``true`` -> True, ``{"a": 1}`` -> a dict; anything that is not JSON stays text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


# Output ---------------------------------------------------------------------------------------


def is_envelope(answer: Any) -> bool:
    return isinstance(answer, dict) and _ENVELOPE_KEYS <= answer.keys()


def describe_error(error: Any) -> str:
    """``[403] demo.greeting.stranger: The demo does not greet strangers``."""
    if not isinstance(error, dict):
        return str(error)
    return f"[{error.get('status')}] {error.get('id')}: {error.get('message')}"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
