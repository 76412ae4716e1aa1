"""The running system's commands: migrate, seed, users and keys, import, plan, stream,
rebuild and verify, serve. `posctl` (the `posctl` package) adds the local stack's."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pos_app.settings import REPO_ROOT, Settings, get_settings

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def cmd_db(args: argparse.Namespace) -> int:
    from pos_app.db.migrate import upgrade

    upgrade(get_settings(), args.revision)
    print(f"database {get_settings().mysql_database} at {args.revision}")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from pos_app.catalog.demo_users import ensure_demo_users
    from pos_app.catalog.seed import load_catalog_csv

    settings = get_settings()
    if settings.environment == "production":
        # Made-up sales and demo passwords must never land in a real shop's books.
        print(
            "seed demo refused: POS_ENVIRONMENT is production; demo data is for a local try-out",
            file=sys.stderr,
        )
        return 2
    path = Path(args.file) if args.file else REPO_ROOT / "data" / "demo_catalog.csv"
    added, updated = load_catalog_csv(settings, path)
    print(f"catalog from {path.name}: {added} products added, {updated} updated")
    print(ensure_demo_users(settings))
    if args.no_history:
        return 0
    return _seed_history(settings, path, years=args.years)


def _seed_history(settings: Settings, catalog_path: Path, *, years: int) -> int:
    """Publish the demo shop's sales history (and goods received) through Kafka; the
    stream job applies it, and ignores what an earlier run already published."""
    import asyncio
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pos_app.catalog import demo_history
    from pos_app.catalog.seed import parse_catalog
    from pos_app.imports.load import publish_records

    now = datetime.now(ZoneInfo(settings.shop_timezone))
    history = demo_history.build(
        parse_catalog(catalog_path), store_id=settings.store_id, today=now, years=years
    )
    records = demo_history.records(
        history, sales_topic=settings.sales_topic, inventory_topic=settings.inventory_topic
    )
    print(
        f"history for {settings.store_id}: {len(history.sales):,} sales "
        f"({history.lines:,} lines, {demo_history.revenue(history):,.0f} Ks) and "
        f"{len(history.receipts)} goods receipts, from 1 January {now.year - years}"
    )
    seconds = asyncio.run(publish_records(settings, records, unit="events"))
    print(f"published {len(records):,} events in {seconds:.1f} s; the stream job applies them")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    import asyncio

    from pos_app.db.engine import make_async_engine
    from pos_app.planning.service import compute_plan

    settings = get_settings()
    store = args.store or settings.store_id

    async def run() -> None:
        engine = make_async_engine(settings)
        try:
            async with engine.begin() as conn:
                plan = await compute_plan(
                    conn, store_id=store, today=settings.today(), months=args.months
                )
        finally:
            await engine.dispose()
        orders = [r for r in plan.rows if r.suggested_order > 0]
        print(
            f"refill plan for {store}: {len(plan.rows)} product-months, "
            f"{len(orders)} orders, {sum(r.suggested_order for r in orders):,} units"
        )
        if plan.backtest:
            b = plan.backtest
            print(
                f"backtest over {b.months} months: MAE {b.mae} (baseline {b.baseline_mae}), "
                f"WAPE {b.wape} (baseline {b.baseline_wape})"
            )
        else:
            print("backtest: not enough history (needs sales at least 13 months back)")
        for r in orders:
            print(f"  {r.month:%Y-%m} {r.sku:<14} order {r.suggested_order:>4}  {r.reason}")

    asyncio.run(run())
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    from pos_app.catalog.cli import export_catalog, import_catalog

    settings = get_settings()
    if args.action == "export":
        return export_catalog(settings, Path(args.file))
    return import_catalog(settings, Path(args.file), apply=args.yes)


def cmd_user(args: argparse.Namespace) -> int:
    import getpass

    from pos_app.auth.cli import create_user_sync, set_pin_sync, unlock_user_sync

    if args.action == "pin":
        if args.password_stdin:
            pin = sys.stdin.readline().strip()
        else:
            pin = getpass.getpass(f"approval PIN for {args.username} (4 to 8 digits): ")
            if getpass.getpass("again: ") != pin:
                print("the PINs differ", file=sys.stderr)
                return 1
        try:
            set_pin_sync(get_settings(), username=args.username, pin=pin)
        except ValueError as error:  # no such user, not a manager, not 4-8 digits
            print(error, file=sys.stderr)
            return 1
        print(f"approval PIN of {args.username} set")
        return 0
    if args.action == "unlock":
        addresses = unlock_user_sync(get_settings(), username=args.username)
        if addresses is None:
            print(f"no user {args.username!r}", file=sys.stderr)
            return 1
        print(f"user {args.username} may sign in again ({addresses} address(es) were held back)")
        return 0
    if args.role is None:
        print("posctl user create needs --role", file=sys.stderr)
        return 2
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            print("the passwords differ", file=sys.stderr)
            return 1
    try:
        create_user_sync(
            get_settings(),
            username=args.username,
            password=password,
            role=args.role,
            stores=args.store,
        )
    except ValueError as error:  # a weak password, a taken name, an unknown role or store
        print(error, file=sys.stderr)
        return 1
    print(f"user {args.username} ({args.role}) created")
    return 0


def cmd_apikey(args: argparse.Namespace) -> int:
    from pos_app.auth.cli import create_api_key_sync

    try:
        key = create_api_key_sync(
            get_settings(), name=args.name, scopes=args.scopes.split(","), stores=args.store
        )
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    print(key)
    print("Keep it now: it is shown once and stored only as a hash.", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    import asyncio

    from pos_app.csvfile import UnreadableFile
    from pos_app.imports import kaggle
    from pos_app.imports.load import publish, save_products

    settings = get_settings()
    try:
        report = kaggle.read_dir(Path(args.dir))
        stock = kaggle.read_stock_file(Path(args.stock)) if args.stock else {}
    except UnreadableFile as error:
        print(f"import failed, nothing imported: {error}", file=sys.stderr)
        return 1
    for problem in report.problems[: args.show_problems]:
        print(f"row dropped: {problem}", file=sys.stderr)
    if len(report.problems) > args.show_problems:
        print(f"... and {len(report.problems) - args.show_problems} more", file=sys.stderr)
    for summary in report.read:
        encoding = f" (read as {summary.encoding})" if summary.encoding != "utf-8" else ""
        print(
            f"{summary.name}{encoding}: {summary.rows_read:,} rows read, "
            f"{summary.kept:,} kept"
            + "".join(f", {count:,} {reason}" for reason, count in sorted(summary.dropped.items()))
        )
    for failure in report.failed:
        print(f"file not imported: {failure}", file=sys.stderr)
    if report.failed and not args.skip_bad_files:
        print(
            f"import failed, nothing imported: {len(report.failed)} file(s) cannot be read; "
            "fix or remove them, or pass --skip-bad-files to import the others",
            file=sys.stderr,
        )
        return 1
    events = kaggle.sale_events(report.lines, store_id=args.store, timezone=args.timezone)
    print(
        f"files: {report.files} read, {len(report.failed)} skipped; rows read: {report.rows_read:,}"
    )
    for reason, count in sorted(report.dropped.items()):
        print(f"  dropped, {reason}: {count:,}")
    print(
        f"sales: {len(events):,}, lines: {len(report.lines):,}, store {args.store}, "
        f"times read as {args.timezone}"
    )
    if args.dry_run:
        print("dry run: nothing written, nothing published")
        return 0
    found = kaggle.products(report.lines)
    added, updated = save_products(
        settings, found, store_id=args.store, category=args.category, stock=stock
    )
    print(f"catalog: {added} products added, {updated} updated, sold at store {args.store}")
    seconds = asyncio.run(publish(settings, events, rate=None if args.max else args.rate))
    print(f"published {len(events):,} sales ({len(report.lines):,} lines) in {seconds:.1f} s")
    return 0


def stream_settings(args: argparse.Namespace) -> Settings:
    settings = get_settings()
    if args.master:
        settings = settings.model_copy(update={"spark_master": args.master})
    return settings


def cmd_stream(args: argparse.Namespace) -> int:
    """The stream job in the foreground, restarted if it fails."""
    import os

    from pos_app.observability.logs import configure_logging
    from stream_jobs.supervisor import supervise

    configure_logging()
    settings = stream_settings(args)
    job = [sys.executable, "-m", "stream_jobs.sales_stream"]
    return supervise(job, {**os.environ, **settings.as_env()})


def cmd_rebuild(args: argparse.Namespace) -> int:
    """`rebuild` swaps recomputed tables in; `verify` (a dry run) only compares."""
    from stream_jobs.rebuild import rebuild

    verifying = args.command == "verify" or args.dry_run
    outcome = rebuild(
        get_settings(),
        source=args.source,
        store=args.store,
        dry_run=verifying,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    shown = outcome.differences[: args.show]
    for difference in shown:
        print(difference)
    if len(outcome.differences) > len(shown):
        print(f"... and {len(outcome.differences) - len(shown)} more")
    counts: dict[str, int] = {}
    for difference in outcome.differences:
        counts[difference.table] = counts.get(difference.table, 0) + 1
    summary = ", ".join(f"{table}: {n}" for table, n in sorted(counts.items())) or "none"
    what = "swapped in" if outcome.swapped else "compared only (nothing changed)"
    print(
        f"{outcome.events:,} events replayed, {outcome.caught_up} caught up, "
        f"in {outcome.seconds:.1f} s; rows that differ from the live tables: {summary}; {what}"
    )
    return 1 if verifying and outcome.differences else 0


def cmd_i18n(args: argparse.Namespace) -> int:
    from pos_app.i18n.catalogs import update_catalogs

    for locale, count in update_catalogs().items():
        print(f"{locale}: {count} message(s) to translate")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pos_app.observability.logs import uvicorn_log_config

    settings = get_settings()
    # uvicorn[standard] brings uvloop and httptools; "auto" picks them. Each worker runs
    # its own outbox relay: a MySQL named lock lets one publish at a time (events/relay.py).
    workers = args.workers or settings.app_workers
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker counts its own requests: they add up through files in one empty folder.
        folder = settings.state_dir / "run" / "app-metrics"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    uvicorn.run(
        "pos_app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_config=uvicorn_log_config(),
        access_log=False,  # the request middleware logs each request, with its id
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        workers=workers,
        loop="auto",
        http="auto",
        # Open live streams (pos_app/live) never end by themselves: after this uvicorn
        # cancels them, so a shutdown waits seconds, not until every page closes.
        timeout_graceful_shutdown=3,
    )
    return 0


def add_commands(
    sub: Subparsers, *, stream_actions: Sequence[str] = ("run",)
) -> argparse.ArgumentParser:
    """The commands of the running system (`posctl` adds those of the local stack);
    returns the stream command's parser, for `posctl` to extend."""
    db = sub.add_parser("db", help="schema migrations")
    db.add_argument("action", choices=["upgrade"])
    db.add_argument("revision", nargs="?", default="head")
    db.set_defaults(func=cmd_db)

    seed = sub.add_parser(
        "seed", help="the demo shop: catalogue, users and sales history (refused in production)"
    )
    seed.add_argument("what", choices=["demo"])
    seed.add_argument("--file", help="a catalog CSV (default: data/demo_catalog.csv)")
    seed.add_argument(
        "--no-history", action="store_true", help="the catalog only, no sales history"
    )
    seed.add_argument(
        "--years", type=int, default=2, help="full years of history before this one (default 2)"
    )
    seed.set_defaults(func=cmd_seed)

    user = sub.add_parser("user", help="users of the app (the first admin, cashiers, managers)")
    # pin: a manager's or admin's approval PIN for the counter (discounts, refunds)
    user.add_argument("action", choices=["create", "unlock", "pin"])
    user.add_argument("username")
    user.add_argument("--role", choices=["cashier", "manager", "admin"], help="for create")
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password (or PIN) from stdin"
    )
    user.add_argument(
        "--store",
        action="append",
        help="a store the user works for (repeat for more; default: POS_STORE_ID)",
    )
    user.set_defaults(func=cmd_user)

    apikey = sub.add_parser("apikey", help="API keys for integrations")
    apikey.add_argument("action", choices=["create"])
    apikey.add_argument("--name", required=True)
    apikey.add_argument(
        "--scopes", required=True, help="comma-separated, e.g. sales:write,stock:read"
    )
    apikey.add_argument(
        "--store", action="append", help="a store the key may use (repeat; default: POS_STORE_ID)"
    )
    apikey.set_defaults(func=cmd_apikey)

    imports = sub.add_parser("import", help="import sales data through the pipeline")
    imports.add_argument("source", choices=["kaggle"])
    imports.add_argument("dir", help="folder of the Kaggle monthly CSV files")
    imports.add_argument("--stock", help="opening stock per product (Stock_Quantity.csv format)")
    imports.add_argument("--store", default="kaggle-2019", help="store id for the imported sales")
    imports.add_argument("--category", default="Electronics")
    imports.add_argument(
        "--timezone",
        default="America/New_York",
        help="zone of the files' local times (default America/New_York)",
    )
    pace = imports.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=float, help="sales per second (the seed streamed 1/s)")
    pace.add_argument("--max", action="store_true", help="as fast as possible (the default)")
    imports.add_argument("--dry-run", action="store_true", help="read and clean only")
    imports.add_argument(
        "--skip-bad-files",
        action="store_true",
        help="import the readable files when some cannot be read (default: import nothing)",
    )
    imports.add_argument(
        "--show-problems",
        type=int,
        default=20,
        metavar="N",
        help="print the first N skipped rows (default 20)",
    )
    imports.set_defaults(func=cmd_import)

    catalog = sub.add_parser("catalog", help="the catalogue as .csv or .xlsx")
    catalog.add_argument("action", choices=["import", "export"])
    catalog.add_argument("file", help="a .csv or .xlsx file")
    catalog.add_argument(
        "--yes", action="store_true", help="import: apply the good rows (default: preview only)"
    )
    catalog.set_defaults(func=cmd_catalog)

    plan = sub.add_parser("plan", help="the refill plan (forecast and suggested orders)")
    plan.add_argument("what", choices=["refill"])
    plan.add_argument("--months", type=int, choices=range(1, 12), default=3, metavar="1-11")
    plan.add_argument("--store", help="store id (default: POS_STORE_ID)")
    plan.set_defaults(func=cmd_plan)

    stream = sub.add_parser("stream", help="the Spark stream job (foreground by default)")
    stream.add_argument("action", nargs="?", choices=list(stream_actions), default="run")
    stream.add_argument("--master", help="Spark master URL (default: POS_SPARK_MASTER)")
    stream.set_defaults(func=cmd_stream)

    for name, help_text in (
        ("rebuild", "recompute every processed MySQL table from the raw events, swap them in"),
        ("verify", "compare the MySQL tables with a recomputation; exit 1 on a difference"),
    ):
        command = sub.add_parser(name, help=help_text)
        command.add_argument("--from", dest="source", choices=["mongo", "kafka"], default="mongo")
        command.add_argument("--store", help="only this store's rows (others stay as they are)")
        command.add_argument("--show", type=int, default=50, help="differences to print")
        if name == "rebuild":
            command.add_argument("--dry-run", action="store_true", help="compare, do not swap")
        command.set_defaults(func=cmd_rebuild, command=name, dry_run=False)

    i18n = sub.add_parser("i18n", help="the people's pages in English and Burmese")
    i18n.add_argument("action", choices=["extract"], help="add new messages to each catalog")
    i18n.set_defaults(func=cmd_i18n)

    serve = sub.add_parser("serve", help="the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=0, help="app processes (default: POS_APP_WORKERS)"
    )
    serve.set_defaults(func=cmd_serve)
    return stream


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pos_app.cli", description=__doc__)
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
