"""`posctl backup` and `posctl restore`: the shop's data in one archive.

Users, the catalogue, carts, the outbox and the audit log exist only in MySQL, and
`rebuild` recomputes only what the raw events carry, so a backup holds both stores:

- `mysql.sql`: a consistent dump of the shop's database (`mariadb-dump
  --single-transaction`, the stack's own binary: one snapshot, no table locked, the
  counter keeps selling while it runs);
- `mongo/<collection>.jsonl`: the raw store (every raw and rejected event), one
  document a line in MongoDB's canonical extended JSON, with the indexes in the manifest;
- `settings.json`: the settings that give the data its meaning (store, register, time
  zone, currency, tax, database and topic names); secrets never, they come from the
  environment as always;
- `manifest.json`: when, the schema's revision, and each file's SHA-256.

The archive `pos-backup-<database>-<UTC time>.tar.gz` has a `.sha256` beside it
(`sha256sum -c` reads it). `restore` checks both checksums first and goes only onto an
empty shop (no table in the database, no document in the raw store), so it never mixes
two shops' data."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson import json_util
from pymongo import MongoClient
from pymongo.database import Database
from sqlalchemy import Engine, text

from pos_app.db.engine import make_sync_engine
from pos_app.settings import Settings
from stack import install

# What a restored shop needs to read its data as it was; never a password or a key.
KEPT_SETTINGS = (
    "store_id",
    "register_id",
    "shop_name",
    "shop_timezone",
    "currency",
    "shop_locale",
    "tax_mode",
    "tax_rate",
    "mysql_database",
    "mongo_database",
    "kafka_topic_prefix",
)
CHUNK = 1 << 20
CANONICAL = json_util.CANONICAL_JSON_OPTIONS  # types kept exactly: dates, decimals, ids


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why."""


@dataclass(frozen=True)
class Made:
    archive: Path
    checksum: Path
    tables: int
    documents: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _client_options(settings: Settings) -> Iterator[Path]:
    """The app user's credentials in a 0600 file for the mariadb tools: a password on
    their command line would be readable by anyone on the host (`ps`)."""
    with tempfile.TemporaryDirectory(prefix="pos-db-") as folder:
        path = Path(folder) / "client.cnf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        password = settings.mysql_password.replace("\\", "\\\\").replace('"', '\\"')
        with os.fdopen(fd, "w") as out:
            out.write(
                "[client]\n"
                f"user={settings.mysql_user}\n"
                f'password="{password}"\n'
                f"host={settings.mysql_host}\n"
                f"port={settings.mysql_port}\n"
                "protocol=tcp\n"
            )
        yield path


def backup(settings: Settings, out_dir: Path) -> Made:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    archive = out_dir / f"pos-backup-{settings.mysql_database}-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="pos-backup-") as folder:
        work = Path(folder)
        _dump_mysql(settings, work / "mysql.sql")
        mongo = _dump_mongo(settings, work / "mongo")
        kept = settings.model_dump(mode="json", include=set(KEPT_SETTINGS))
        (work / "settings.json").write_text(json.dumps(kept, indent=2, sort_keys=True))
        files = sorted(p for p in work.rglob("*") if p.is_file())
        manifest = {
            "made_at": datetime.now(UTC).isoformat(),
            "schema_revision": _revision(settings),
            "mongo": mongo,
            "files": {str(p.relative_to(work)): sha256_of(p) for p in files},
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        # Private from the first byte: the dump holds password hashes and the audit log.
        fd = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for path in sorted(p for p in work.rglob("*") if p.is_file()):
                tar.add(path, arcname=str(path.relative_to(work)))
    checksum = archive.with_name(archive.name + ".sha256")
    checksum.write_text(f"{sha256_of(archive)}  {archive.name}\n")
    documents = sum(int(c["documents"]) for c in mongo.values())
    return Made(archive, checksum, _table_count(settings), documents)


def _dump_mysql(settings: Settings, target: Path) -> None:
    with _client_options(settings) as options, target.open("wb") as out:
        result = subprocess.run(
            [
                install.find_program("mariadb-dump"),
                f"--defaults-extra-file={options}",
                "--single-transaction",  # one consistent snapshot, InnoDB, no locks
                "--quick",
                "--routines",
                "--triggers",
                "--hex-blob",
                "--default-character-set=utf8mb4",
                "--skip-comments",
                settings.mysql_database,
            ],
            stdout=out,
            stderr=subprocess.PIPE,
            check=False,
        )
    if result.returncode != 0:
        raise BackupError(f"mariadb-dump failed: {result.stderr.decode(errors='replace')}")


def _dump_mongo(settings: Settings, folder: Path) -> dict[str, dict[str, Any]]:
    folder.mkdir()
    described: dict[str, dict[str, Any]] = {}
    with _raw_store(settings) as database:
        for name in sorted(database.list_collection_names()):
            collection = database[name]
            count = 0
            with (folder / f"{name}.jsonl").open("w") as out:
                for document in collection.find().sort("_id"):
                    out.write(
                        json_util.dumps(document, json_options=json_util.CANONICAL_JSON_OPTIONS)
                    )
                    out.write("\n")
                    count += 1
            indexes = [
                {"keys": list(info["key"]), "unique": bool(info.get("unique", False))}
                for index_name, info in collection.index_information().items()
                if index_name != "_id_"
            ]
            described[name] = {"documents": count, "indexes": indexes}
    return described


@contextlib.contextmanager
def _raw_store(settings: Settings) -> Iterator[Database[dict[str, Any]]]:
    client: MongoClient[dict[str, Any]] = MongoClient(
        settings.mongo_url, serverSelectionTimeoutMS=5000
    )
    with client:
        yield client[settings.mongo_database]


def _revision(settings: Settings) -> str | None:
    engine = make_sync_engine(settings)
    try:
        with engine.connect() as conn:
            revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
            return str(revision) if revision is not None else None
    finally:
        engine.dispose()


def _catalog(settings: Settings) -> Engine:
    """An engine on information_schema: the shop's database may be gone."""
    return make_sync_engine(settings.model_copy(update={"mysql_database": "information_schema"}))


def _table_count(settings: Settings) -> int:
    engine = _catalog(settings)
    try:
        with engine.connect() as conn:
            return int(
                conn.scalar(
                    text("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = :db"),
                    {"db": settings.mysql_database},
                )
                or 0
            )
    finally:
        engine.dispose()


# --- Restore ------------------------------------------------------------------------------


def check_archive(archive: Path) -> None:
    """The archive is the one the backup made: its .sha256 matches, else BackupError."""
    checksum = archive.with_name(archive.name + ".sha256")
    if not checksum.is_file():
        raise BackupError(f"{checksum.name} is missing: the archive cannot be checked")
    expected = checksum.read_text().split()[0]
    if sha256_of(archive) != expected:
        raise BackupError(f"{archive.name} does not match its checksum: damaged or altered")


def restore(settings: Settings, archive: Path) -> dict[str, int]:
    """Load the archive into this shop's empty database and raw store; returns what was
    restored (tables, documents)."""
    check_archive(archive)
    _require_empty(settings)
    with tempfile.TemporaryDirectory(prefix="pos-restore-") as folder:
        work = Path(folder)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(work, filter="data")
        manifest = json.loads((work / "manifest.json").read_text())
        for name, digest in manifest["files"].items():
            if sha256_of(work / name) != digest:
                raise BackupError(f"{name} in {archive.name} does not match the manifest")
        _load_mysql(settings, work / "mysql.sql")
        documents = _load_mongo(settings, work / "mongo", manifest["mongo"])
    return {"tables": _table_count(settings), "documents": documents}


def _require_empty(settings: Settings) -> None:
    tables = _table_count(settings)
    with _raw_store(settings) as database:
        documents = sum(
            database[name].estimated_document_count() for name in database.list_collection_names()
        )
    if tables or documents:
        raise BackupError(
            f"restore goes onto an empty shop only: {settings.mysql_database} has {tables} "
            f"table(s), the raw store {settings.mongo_database} {documents} document(s)"
        )


def _load_mysql(settings: Settings, dump: Path) -> None:
    engine = _catalog(settings)
    try:  # the database may have been dropped with the rest
        with engine.begin() as conn:
            name = settings.mysql_database.replace("`", "``")
            conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4"))
    finally:
        engine.dispose()
    with _client_options(settings) as options, dump.open("rb") as source:
        result = subprocess.run(
            [
                install.find_program("mariadb"),
                f"--defaults-extra-file={options}",
                "--default-character-set=utf8mb4",
                settings.mysql_database,
            ],
            stdin=source,
            capture_output=True,
            check=False,
        )
    if result.returncode != 0:
        raise BackupError(
            f"loading the MySQL dump failed: {result.stderr.decode(errors='replace')}"
        )


def _load_mongo(settings: Settings, folder: Path, described: dict[str, dict[str, Any]]) -> int:
    loaded = 0
    with _raw_store(settings) as database:
        for name, about in described.items():
            collection = database[name]
            batch: list[Any] = []
            with (folder / f"{name}.jsonl").open() as source:
                for line in source:
                    batch.append(json_util.loads(line))
                    if len(batch) == 1000:
                        collection.insert_many(batch, ordered=True)
                        loaded, batch = loaded + len(batch), []
            if batch:
                collection.insert_many(batch, ordered=True)
                loaded += len(batch)
            for index in about["indexes"]:
                keys = [(field, direction) for field, direction in index["keys"]]
                collection.create_index(keys, unique=index["unique"])
            if collection.count_documents({}) != about["documents"]:
                raise BackupError(f"the raw store's {name}: not every document came back")
    return loaded
