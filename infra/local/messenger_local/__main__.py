"""`python -m messenger_local dev|invoke`: the local stack (make dev) and sam-local-invoke-alike."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from messenger_local.gateway import LocalGateway
from messenger_local.services import ENV_NAMES, LocalServices
from messenger_local.web_client import WebClient

ROOT = Path.cwd()


def _pairs(items: list[str], what: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"{what} must be Key=Value, got {item!r}")
        result[key] = value
    return result


def _setup_logging(log_file: Path | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)-5s %(name)s: %(message)s",
        handlers=handlers,
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)


def dev(args: argparse.Namespace) -> int:
    state = (ROOT / args.state_dir).resolve()
    logs = state / "logs"
    _setup_logging(logs / "gateway.log")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalServices(state_dir=state) as services:
        from messenger.bootstrap import apply_mongo_indexes
        from messenger.platform.migrate import apply_migrations

        applied = apply_migrations(services.database_url)
        apply_mongo_indexes(services.mongodb_uri)
        env = {**services.env(), **_pairs(args.env, "--env")}
        gateway = LocalGateway(
            args.template,
            parameters=_pairs(args.param, "--param"),
            env=env,
            host=args.host,
            port=args.port,
            ws_port=args.ws_port,
            state_dir=state,
            function_log_dir=logs / "functions",
        )
        with gateway:
            web: WebClient | None = None
            try:
                web = WebClient(gateway.url, gateway.ws_url or "", args.host, args.web_port).start()
                web_row = f"{web.url}  (open it in two windows: each tab is its own session)"
            except FileNotFoundError as missing:
                web_row = str(missing)
            rows = [
                ("HTTP API", gateway.url),
                ("WebSocket API", f"{gateway.ws_url}/?token=<access_token>  (@connections too)"),
                ("Web client", web_row),
                ("API explorer", f"{gateway.url}/docs  (document: {gateway.url}/openapi.json)"),
                ("Mailbox", f"{gateway.url}/_local/mail?to=<address>"),
                ("Notifications", f"{gateway.url}/_local/notifications?user_id=<id>"),
                ("Postgres", f"{services.database_url}  ({services.origin['postgres']})"),
                ("Redis", f"{services.redis_url}  ({services.origin['redis']})"),
                ("Kafka", f"{services.kafka_bootstrap_servers}  ({services.origin['kafka']})"),
                ("MongoDB", f"{services.mongodb_uri}  ({services.origin['mongodb']})"),
                ("DynamoDB, S3", f"{services.dynamodb_endpoint}  ({services.origin['dynamodb']})"),
                ("Migrations", ", ".join(applied) if applied else "up to date"),
                ("Gateway log", str(logs / "gateway.log")),
                ("Function logs", str(logs / "functions") + "/<Function>.log"),
                ("Service logs", str(logs) + "/<service>.log"),
                ("Dead letters", str(gateway.dead_letter_dir) + "/<Function>.jsonl"),
            ]
            routes = [f"  {r.route_key:<45} -> {r.function}" for r in gateway.template.routes]
            width = max(len(k) for k, _ in rows)
            print("\n  Messenger local stack is up (Ctrl-C stops everything)\n", flush=True)
            for key, value in rows:
                print(f"  {key:<{width}}  {value}")
            print("\n  Routes:\n" + "\n".join(routes), flush=True)
            for mapping in gateway.template.msk_mappings:
                topics = ",".join(mapping.topics)
                print(f"  MSK {topics} [{mapping.consumer_group_id}] -> {mapping.function}")
            for schedule in gateway.template.schedules:
                print(f"  {schedule.expression} -> {schedule.function}")
            for api in gateway.template.websocket_apis:
                for key, route in api.routes.items():
                    print(f"  WebSocket {key:<35} -> {route.function}")
            print(flush=True)
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
            print("\nStopping...", flush=True)
            if web is not None:
                web.stop()
    return 0


def invoke(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING)
    event: Any = {}
    if args.event == "-":
        event = json.load(sys.stdin)
    elif args.event:
        event = json.loads(Path(args.event).read_text())
    # Like `sam local invoke --env-vars`: service URLs come from our own environment.
    given = {name: os.environ[name] for name in ENV_NAMES.values() if os.environ.get(name)}
    gateway = LocalGateway(
        args.template,
        parameters=_pairs(args.param, "--param"),
        env={**given, **_pairs(args.env, "--env")},
        enable_kafka=False,
        enable_schedules=False,
    )
    try:
        result = gateway.invoke(args.function, event)
    finally:
        gateway.runtime.close()
    out = result.payload if result.ok else result.error_payload()
    print(json.dumps(out, indent=2))
    print(
        f"{result.function} {result.request_id} {result.duration_ms:.1f} ms"
        f"{' (cold start)' if result.cold_start else ''}",
        file=sys.stderr,
    )
    return 0 if result.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m messenger_local")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--template", default="template.yaml")
    common.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="Key=Value",
        help="template parameter override (repeatable)",
    )
    common.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment override for every function (repeatable)",
    )
    p_dev = sub.add_parser("dev", parents=[common], help="start services + gateway, print URLs")
    p_dev.add_argument("--host", default="127.0.0.1")
    p_dev.add_argument("--port", type=int, default=3000)
    p_dev.add_argument("--ws-port", type=int, default=3001, help="WebSocket API port")
    p_dev.add_argument("--web-port", type=int, default=3002, help="the web client's port")
    p_dev.add_argument("--state-dir", default=".local")
    p_dev.set_defaults(func=dev)
    p_inv = sub.add_parser("invoke", parents=[common], help="invoke one function once")
    p_inv.add_argument("function", help="the function's logical id")
    p_inv.add_argument("--event", "-e", help="event JSON file ('-' for stdin); default {}")
    p_inv.set_defaults(func=invoke)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
