"""`posctl`: run the local stack, migrate, seed, stream and serve."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pos_app import cli as runtime
from pos_app.settings import get_settings


def _print(lines: list[str]) -> None:
    for line in lines:
        print(line)


def cmd_stack(args: argparse.Namespace) -> int:
    from pos_app.events.topics import ensure_topics_sync
    from stack import install, services
    from stack.processes import StartError

    settings = get_settings()
    if args.kafka_brokers is not None:
        settings = settings.model_copy(update={"kafka_brokers": args.kafka_brokers})
    try:
        if args.action == "install":
            install.ensure_all(settings)
            print("installed: MariaDB, Kafka jars, Spark connector jars, FerretDB")
        elif args.action == "up":
            _print(services.up(settings, args.services or None))
            _print(ensure_topics_sync(settings))
        elif args.action == "down":
            _print(services.down(settings))
        elif args.action == "stop":
            for name in args.services or [s.name for s in services.SERVICES]:
                stopped = services.stop_service(settings, name)
                print(f"{name}: {'stopped' if stopped else 'was not running'}")
        elif args.action == "status":
            lines, healthy = services.status(settings)
            _print(lines)
            return 0 if healthy else 1
        elif args.action == "restart":
            for name in args.services or [s.name for s in services.SERVICES]:
                services.stop_service(settings, name)
            _print(services.up(settings, args.services or None))
    except (StartError, install.InstallError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def cmd_stream(args: argparse.Namespace) -> int:
    """The stream job: in the foreground (`pos_app.cli`), or as a stack process."""
    settings = runtime.stream_settings(args)
    if args.action == "stop":
        from stack.processes import ProcessFiles, stop

        stopped = stop(ProcessFiles(settings.state_dir, "stream"))
        print("stream: stopped" if stopped else "stream: was not running")
        return 0
    if args.detach:
        from stack.streamproc import start_detached

        print(start_detached(settings))
        return 0
    return runtime.cmd_stream(args)


def cmd_spark(args: argparse.Namespace) -> int:
    """A Spark standalone cluster on this machine, for `posctl stream --master`."""
    from stack import spark_cluster
    from stack.processes import StartError

    settings = get_settings()
    if args.action == "down":
        _print(spark_cluster.down(settings) or ["spark: was not running"])
        return 0
    try:
        url = spark_cluster.up(settings, workers=args.workers, port=args.port)
    except StartError as error:
        print(error, file=sys.stderr)
        spark_cluster.down(settings)
        return 1
    print(f"spark master {url} with {args.workers} workers; run: posctl stream --master {url}")
    return 0


def cmd_superset(args: argparse.Namespace) -> int:
    from stack.superset import bundle, client, server

    settings = get_settings()
    try:
        if args.action == "up":
            _print(server.up(settings))
        elif args.action == "provision":
            done = client.provision(settings, args.database)
            print(
                f"superset: dashboard {done.url} (id {done.dashboard_id}), "
                f"{len(done.charts)} charts, refreshes every {bundle.REFRESH_SECONDS} s"
            )
        elif args.action == "down":
            _print(server.down(settings))
        elif args.action == "status":
            lines, healthy = server.status(settings)
            _print(lines)
            return 0 if healthy else 1
    except (server.SupersetError, client.ProvisionError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """One archive of the shop's MySQL database, raw store and settings (stack/backup.py)."""
    from stack.backup import BackupError, backup

    try:
        made = backup(get_settings(), Path(args.out))
    except BackupError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"backup: {made.archive} ({made.tables} tables, {made.documents:,} raw documents)")
    print(f"checksum: {made.checksum}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from pos_app.db.report_grants import grant_report_tables
    from stack.backup import BackupError, restore

    settings = get_settings()
    try:
        restored = restore(settings, Path(args.archive))
    except BackupError as error:
        print(error, file=sys.stderr)
        return 1
    grant_report_tables(settings)  # grants live outside the database, not in its dump
    print(
        f"restored into {settings.mysql_database}: {restored['tables']} tables, "
        f"{restored['documents']:,} raw documents; `posctl verify` compares them"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posctl", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    stack = sub.add_parser("stack", help="the local Kafka, MariaDB and FerretDB")
    stack.add_argument("action", choices=["install", "up", "down", "status", "stop", "restart"])
    stack.add_argument("services", nargs="*", help="only these (mariadb, kafka, ferretdb)")
    stack.add_argument(
        "--kafka-brokers",
        type=int,
        help="run Kafka as a KRaft cluster of this many brokers on loopback (default: "
        "POS_KAFKA_BROKERS, 1); see docs/scaling.md",
    )
    stack.set_defaults(func=cmd_stack)

    # The stream job also runs as a stack process: in the background, stopped by name.
    stream = runtime.add_commands(sub, stream_actions=["run", "stop"])
    stream.add_argument("--detach", action="store_true", help="run in the background")
    stream.set_defaults(func=cmd_stream)

    spark = sub.add_parser("spark", help="a Spark standalone cluster on this machine")
    spark.add_argument("action", choices=["up", "down"])
    spark.add_argument("--workers", type=int, default=2, help="workers of one core each")
    spark.add_argument("--port", type=int, default=7177, help="the master's port")
    spark.set_defaults(func=cmd_spark)

    superset = sub.add_parser("superset", help="Apache Superset and its Sales dashboard")
    superset.add_argument("action", choices=["up", "provision", "down", "status"])
    superset.add_argument(
        "--database", help="MySQL database the dashboard reads (default: POS_MYSQL_DATABASE)"
    )
    superset.set_defaults(func=cmd_superset)

    saved = sub.add_parser(
        "backup", help="the shop's MySQL database, raw events and settings in one archive"
    )
    saved.add_argument("--out", default="backups", help="folder for the archive (./backups)")
    saved.set_defaults(func=cmd_backup)
    restoring = sub.add_parser("restore", help="a `posctl backup` archive onto an empty shop")
    restoring.add_argument("archive", help="the .tar.gz (its .sha256 beside it)")
    restoring.set_defaults(func=cmd_restore)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
