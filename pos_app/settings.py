"""One settings object for the app, the CLI and the stream jobs, read from `POS_*` variables."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pos_app.contract import inventory_topic, sales_topic

REPO_ROOT = Path(__file__).resolve().parent.parent

# Local-only defaults. Production mode refuses to start while any of these is in use.
DEFAULT_MYSQL_PASSWORD = "pos-local-only"
DEFAULT_MYSQL_REPORT_PASSWORD = "pos-reports-local-only"
DEFAULT_SECRET_KEY = "local-only-secret-key-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POS_", env_file=None, extra="ignore")

    environment: Literal["local", "production"] = "local"
    secret_key: str = DEFAULT_SECRET_KEY

    # The shop this counter belongs to.
    shop_name: str = "Shwe Longyi Men's Wear"
    shop_address: str = "No. 42, Bogyoke Aung San Road, Yangon"
    shop_timezone: str = "Asia/Yangon"
    currency: str = "MMK"
    # The shop's language: a new user starts in it, and so does the sign-in page when the
    # browser asks for none we have ("en" or "my").
    shop_locale: Literal["en", "my"] = "en"
    # Digits on Burmese pages: Myanmar (၄၅,၀၀၀) or Latin (45,000).
    shop_digits: Literal["myanmar", "latin"] = "myanmar"
    # Reports show amounts of a lakh (100,000 Ks, သိန်း) and more in lakh.
    report_amounts_in_lakh: bool = False
    store_id: str = "yangon-1"
    # The shortest time between two forced refill-plan recomputations of a store
    # (`refresh=true`, which reads all its sales); sooner is 429.
    refill_refresh_seconds: int = Field(default=60, ge=0)
    # Cookies (session, CSRF) marked Secure, sent over https only: None means on in
    # production, else only when the request came over https.
    secure_cookies: bool | None = None
    # Proxies whose X-Forwarded-For/-Proto uvicorn believes (comma-separated addresses, or
    # "*"): the TLS-terminating proxy in front of the app. Only loopback by default.
    forwarded_allow_ips: str = "127.0.0.1"
    register_id: str = "counter-1"
    # Commercial tax (pos_app/tax.py): none, included in prices, or added on top; percent.
    tax_mode: Literal["none", "included", "added"] = "none"
    tax_rate: Decimal = Field(default=Decimal(5), ge=0, le=100)

    mysql_host: str = "127.0.0.1"
    mysql_port: int = 3306
    mysql_user: str = "pos"
    mysql_password: str = DEFAULT_MYSQL_PASSWORD
    mysql_database: str = "pos"
    # The read-only user dashboards (Superset) connect as: SELECT on the shop's tables only.
    mysql_report_user: str = "pos_reports"
    mysql_report_password: str = DEFAULT_MYSQL_REPORT_PASSWORD

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Prefix for every topic name, so tests can run beside the demo shop on one broker.
    kafka_topic_prefix: str = "pos"
    kafka_sales_partitions: int = 3
    # A chain runs Kafka as a cluster: each partition on `replication_factor` brokers, and a
    # write (acks=all) is acknowledged only once `min_insync_replicas` of them have it, so a
    # broker may die without losing an acknowledged sale (see docs/scaling.md).
    kafka_replication_factor: int = 1
    kafka_min_insync_replicas: int = 1
    # How many brokers `posctl stack up` runs on this machine (KRaft, each also a controller).
    kafka_brokers: int = 1

    # How long the relay keeps a published outbox row: receipts and returns read the sales
    # documents the pipeline stores, and the outbox only until then (a week is far more).
    outbox_retention_hours: float = Field(default=168, ge=0)

    # App processes `posctl serve` starts (uvicorn workers); one relay publishes at a time.
    app_workers: int = Field(default=1, ge=1, le=32)
    # Live pages (pos_app/live): how often each app process asks MySQL whether anything new
    # was stored, and how often the counter and Today view poll anyway, should the pushed
    # stream be cut (a proxy that buffers it, a browser without EventSource).
    live_watch_seconds: float = Field(default=0.25, gt=0, le=10)
    live_fallback_poll_seconds: int = Field(default=10, ge=1)

    mongo_url: str = "mongodb://127.0.0.1:27017/"
    mongo_database: str = "pos"
    # Go's soft memory limit for the local FerretDB (GOMEMLIMIT): without it its heap grew
    # past 2 GiB during a large import and stayed there; "off" leaves Go's default.
    ferretdb_memory_limit: str = Field(default="384MiB", pattern=r"^(off|[0-9]+(B|KiB|MiB|GiB))$")

    spark_master: str = "local[*]"
    spark_driver_memory: str = "1g"
    # Where executors reach the driver: loopback here; the stream container's name in Docker.
    spark_driver_host: str = "127.0.0.1"
    # Where the stream job keeps its checkpoint; empty means under the stack's state folder.
    stream_checkpoint_dir: str = ""
    stream_trigger_seconds: float = 0.0
    # The stream job's Prometheus exposition on 127.0.0.1 (micro-batch durations); 0: off.
    stream_metrics_port: int = 0
    # The raw MongoDB copy's trigger: nothing waits on it, and each micro-batch has a fixed
    # Spark cost that the MySQL apply, on the same cores, would otherwise share more often.
    stream_raw_trigger_seconds: float = Field(default=2.0, ge=0)
    # Upper bound of Kafka records per micro-batch, so a backlog is caught up in steps.
    stream_max_offsets_per_trigger: int = 20000
    # The CPUs the stream job (and its Spark) may use: "all", "auto" (all but the first, left
    # to the counter, when there are two or more) or a list such as "1-3,5". On a small
    # machine "auto" keeps a very busy counter fast and makes the pipeline slower to catch
    # up (docs/scaling.md has both sides measured).
    stream_cpus: str = "all"
    # How long a micro-batch's Kafka read waits for more records. Kafka's default, 500 ms,
    # was spent in full on every batch: a sale took 1.2 s to reach the stock table at shop
    # pace, 0.4 s with 10 ms. Under heavy API load 500 ms leaves Spark idle longer, and the
    # counter's p99 lower (docs/scaling.md).
    stream_fetch_wait_ms: int = Field(default=10, ge=0, le=60_000)

    # Superset (`posctl superset up`): where it listens (`up` binds 127.0.0.1 only; the host
    # is for provisioning one that runs elsewhere, e.g. in docker compose), its secret key and
    # admin password (empty means made at random once and kept in the state folder, 0600).
    superset_host: str = "127.0.0.1"
    superset_port: int = 8088
    superset_secret_key: str = ""
    superset_admin_password: str = ""

    # The local stack's state (data, logs, jars): one ignored folder.
    state_dir: Path = REPO_ROOT / ".stack"

    @model_validator(mode="after")
    def _check_kafka_cluster(self) -> Settings:
        if not 1 <= self.kafka_min_insync_replicas <= self.kafka_replication_factor:
            raise ValueError(
                "POS_KAFKA_MIN_INSYNC_REPLICAS must be between 1 and "
                "POS_KAFKA_REPLICATION_FACTOR, or every write would be refused"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production":
            unsafe = []
            if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
                unsafe.append("POS_SECRET_KEY (default or shorter than 32 characters)")
            if self.mysql_password == DEFAULT_MYSQL_PASSWORD:
                unsafe.append("POS_MYSQL_PASSWORD (default)")
            if self.mysql_report_password == DEFAULT_MYSQL_REPORT_PASSWORD:
                unsafe.append("POS_MYSQL_REPORT_PASSWORD (default)")
            if unsafe:
                raise ValueError(
                    "production mode refuses default secrets: set " + ", ".join(unsafe)
                )
        return self

    def as_env(self) -> dict[str, str]:
        """These settings as POS_* variables, for a child process (the stream job, the app)."""
        return {
            f"POS_{name.upper()}": str(value)
            for name, value in self.model_dump().items()
            if value is not None
        }

    def jar_dir(self, name: str) -> Path:
        """Where `posctl stack install` puts jars (`kafka`, `spark`); the image ships them."""
        return self.state_dir / "jars" / name

    def today(self) -> date:
        """The shop's own date (it may differ from the server's)."""
        return datetime.now(ZoneInfo(self.shop_timezone)).date()

    @property
    def sales_topic(self) -> str:
        return sales_topic(self.kafka_topic_prefix)

    @property
    def inventory_topic(self) -> str:
        """Goods received and stock adjustments (keyed by store)."""
        return inventory_topic(self.kafka_topic_prefix)

    def mysql_url(self, driver: Literal["asyncmy", "pymysql"] = "asyncmy") -> str:
        password = quote_plus(self.mysql_password)
        return (
            f"mysql+{driver}://{self.mysql_user}:{password}@{self.mysql_host}:{self.mysql_port}"
            f"/{self.mysql_database}?charset=utf8mb4"
        )

    @property
    def checkpoint_dir(self) -> Path:
        if self.stream_checkpoint_dir:
            return Path(self.stream_checkpoint_dir)
        return self.state_dir / "checkpoints" / self.kafka_topic_prefix


@lru_cache
def get_settings() -> Settings:
    return Settings()
