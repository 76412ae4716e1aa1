"""Static checks on the Docker files and the demo catalog (no Docker engine needed)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

from pos_app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
CATALOG = ROOT / "data" / "demo_catalog.csv"

# What every app container must be given; None means "set, value comes from the host".
APP_ENV: dict[str, str | None] = {
    "POS_ENVIRONMENT": None,
    "POS_SECRET_KEY": None,
    "POS_MYSQL_HOST": "mysql",
    "POS_MYSQL_PORT": "3306",
    "POS_MYSQL_USER": "pos",
    "POS_MYSQL_PASSWORD": None,
    "POS_MYSQL_DATABASE": "pos",
    "POS_KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
    "POS_MONGO_URL": "mongodb://mongo:27017/",
    "POS_MONGO_DATABASE": "pos",
    "POS_SPARK_MASTER": "local[*]",
    "POS_STATE_DIR": "/var/lib/pos/state",
}

CATALOG_HEADER = [
    "sku",
    "name",
    "name_my",
    "category",
    "size",
    "colour",
    "unit_price",
    "reorder_point",
    "opening_stock",
    "barcode",
]
CATEGORIES = {"Longyi", "Taikpon", "Eingyi", "Gaung Baung", "Sandals", "Bags"}


def _compose() -> dict:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _environment(service: dict) -> dict[str, str]:
    """A service's environment as a dict, whether written as a mapping or a list."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, None) for item in env)
        env = dict(pairs)
    return {str(k): ("" if v is None else str(v)) for k, v in env.items()}


def _app_services(compose: dict) -> dict[str, dict]:
    """Services that run the app image: the ones built from this repo."""
    return {name: svc for name, svc in compose["services"].items() if "build" in svc}


def test_compose_parses_and_names_the_services() -> None:
    services = _compose()["services"]
    assert {"kafka", "mysql", "mongo", "stream", "app", "migrate"} <= set(services)


def test_kafka_is_single_node_kraft() -> None:
    kafka = _compose()["services"]["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.[\w.-]+", kafka["image"])
    env = _environment(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_NODE_ID"] == "1"
    assert "healthcheck" in kafka


def test_app_services_share_the_image_and_settings() -> None:
    compose = _compose()
    apps = _app_services(compose)
    assert {"migrate", "stream", "app"} <= set(apps)
    # The app and migrate share the image without Java; the stream job has its own.
    assert apps["app"]["image"] == apps["migrate"]["image"] != apps["stream"]["image"]
    assert (apps["app"]["build"]["target"], apps["stream"]["build"]["target"]) == (
        "app",
        "stream",
    )
    for name, svc in apps.items():
        env = _environment(svc)
        for var, expected in APP_ENV.items():
            assert var in env, f"{name} lacks {var}"
            if expected is not None:
                # The value, or a host variable that defaults to it (the cluster profile).
                assert env[var] in (expected, f"${{{var}:-{expected}}}"), f"{name}: {var}"
        # Secrets come from the host and must be required, never defaulted.
        for var in ("POS_SECRET_KEY", "POS_MYSQL_PASSWORD"):
            assert re.fullmatch(rf"\$\{{{var}:\?[^}}]*\}}", env[var]), f"{name}: {var}"
    assert _environment(apps["stream"])["POS_STREAM_CHECKPOINT_DIR"] == "/var/lib/pos/checkpoints"


def test_app_services_wait_for_their_dependencies() -> None:
    services = _compose()["services"]
    assert services["migrate"]["depends_on"]["mysql"]["condition"] == "service_healthy"
    for name in ("stream", "app"):
        deps = services[name]["depends_on"]
        assert deps["kafka"]["condition"] == "service_healthy"
        assert deps["mongo"]["condition"] == "service_healthy"
        assert deps["migrate"]["condition"] == "service_completed_successfully"


def _published_host_ips(port: object) -> list[str]:
    """Host addresses a `ports` entry binds (short or long syntax); '' means all interfaces."""
    if isinstance(port, dict):
        return [str(port.get("host_ip", ""))] if "published" in port else []
    text = str(port).split("/", 1)[0]
    if text.startswith("["):  # [::1]:8000:8000
        return [text[1 : text.index("]")]]
    parts = text.split(":")
    if len(parts) == 3:
        return [parts[0]]
    # "8000" or "8000:8000": Docker binds every interface.
    return [""]


def test_published_ports_bind_only_loopback() -> None:
    for name, svc in _compose()["services"].items():
        for port in svc.get("ports", []):
            for ip in _published_host_ips(port):
                assert ip == "127.0.0.1", f"{name} publishes {port!r} beyond 127.0.0.1"
    app_ports = _compose()["services"]["app"]["ports"]
    assert "127.0.0.1:8000:8000" in app_ports


def test_dockerfile_installs_the_app_and_spark_jars() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    # Join continuation lines so each RUN step is one line.
    steps = re.sub(r"\\\n\s*", " ", text).splitlines()
    assert any(re.search(r"\bpip install\b.*\s\.(\s|$)", s) for s in steps)
    mvn = [s for s in steps if re.search(r"\bmvn\b", s)]
    assert mvn, "no Maven step"
    assert any("-f stack/spark/pom.xml" in s and "dependency:copy-dependencies" in s for s in mvn)
    assert any("stack/spark/pom.xml" in s for s in steps if s.startswith("COPY"))
    # The jars land under the state folder the containers are given.
    assert any(f"-DoutputDirectory={APP_ENV['POS_STATE_DIR']}/jars/spark" in s for s in mvn)
    assert re.search(r"^USER\s+(?!root\b|0\b)\S+", text, re.M), "runtime must not be root"


def _stages() -> dict[str, list[str]]:
    """Each stage of the Dockerfile (by its name): its base, then its steps, one a line."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        found = re.match(r"FROM\s+(\S+)\s+AS\s+(\S+)", line)
        if found:
            current = stages.setdefault(found.group(2), [found.group(1)])
        elif line.strip() and not line.startswith("#"):
            current.append(line)
    return stages


def _lineage(stages: dict[str, list[str]], name: str) -> list[str]:
    """The stage's steps with its bases' before them."""
    base, *steps = stages[name]
    return (_lineage(stages, base) if base in stages else []) + steps


def test_the_app_image_has_no_java_and_the_stream_image_has() -> None:
    stages = _stages()
    assert list(stages)[-1] == "app", "app must be the default (last) target"
    assert not any("openjdk" in step or "jars" in step for step in _lineage(stages, "app"))
    stream = _lineage(stages, "stream")
    assert any("openjdk-17-jre-headless" in step for step in stream)
    assert any(step.startswith("COPY --from=spark-jars") for step in stream)


def test_the_image_installs_the_locked_dependencies_before_the_source() -> None:
    for target in ("app", "stream"):
        steps = _lineage(_stages(), target)
        locked = next((i for i, s in enumerate(steps) if "--require-hashes -r" in s), None)
        source = next((i for i, s in enumerate(steps) if s.startswith("COPY . /app")), None)
        assert locked is not None and source is not None, f"{target}: no locked install"
        assert locked < source, f"{target}: the source is copied before the dependencies"
        assert any(s.startswith("COPY requirements/app.lock") for s in steps[:locked])
        # After the source, only the project itself: nothing resolved anew.
        assert any("pip install --no-deps ." in s for s in steps[source:])


def test_compose_pos_variables_are_settings_fields() -> None:
    env_names = {f"POS_{field.upper()}" for field in Settings.model_fields}
    for name, svc in _compose()["services"].items():
        for var in _environment(svc):
            if var.startswith("POS_"):
                assert var in env_names, f"{name} sets {var}, which Settings does not read"


def _catalog_rows() -> list[dict[str, str]]:
    with CATALOG.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == CATALOG_HEADER
        rows = list(reader)
    for row in rows:
        assert None not in row and None not in row.values(), f"ragged row: {row}"
    return rows


def test_demo_catalog_is_well_formed() -> None:
    rows = _catalog_rows()
    assert 40 <= len(rows) <= 60
    skus = [row["sku"] for row in rows]
    assert len(skus) == len(set(skus)), "duplicate SKUs"
    for row in rows:
        assert re.fullmatch(r"[A-Z0-9-]+", row["sku"]), row["sku"]
        assert row["name"].strip() and row["name_my"].strip(), row["sku"]
        # Burmese names are in Myanmar script (U+1000..U+109F).
        assert re.search(r"[\u1000-\u109f]", row["name_my"]), row["sku"]
        assert row["category"] in CATEGORIES, row["sku"]
        assert re.fullmatch(r"[1-9]\d*", row["unit_price"]), row["sku"]
        assert re.fullmatch(r"\d+", row["reorder_point"]), row["sku"]
        assert re.fullmatch(r"\d+", row["opening_stock"]), row["sku"]
        assert re.fullmatch(r"\d{13}", row["barcode"]), row["sku"]  # EAN-13
    assert {row["category"] for row in rows} == CATEGORIES


def test_demo_catalog_shows_low_stock() -> None:
    low = [
        row["sku"]
        for row in _catalog_rows()
        if int(row["opening_stock"]) <= int(row["reorder_point"]) * 1.5
    ]
    assert low, "the demo should start with some SKUs near their reorder point"


def test_superset_runs_the_pinned_version_on_loopback_only_with_its_profile() -> None:
    from stack.superset.server import SUPERSET_VERSION

    services = _compose()["services"]
    superset = services["superset"]
    assert superset["image"] == f"apache/superset:{SUPERSET_VERSION}"
    assert superset["profiles"] == ["superset"]
    assert superset["ports"] == ["127.0.0.1:8088:8088"]
    env = _environment(superset)
    # Its secrets come from the host and must be given: never a default password.
    for var in ("SUPERSET_SECRET_KEY", "SUPERSET_ADMIN_PASSWORD"):
        assert re.fullmatch(rf"\$\{{{var}:\?[^}}]*\}}", env[var]), var
    config = superset["volumes"][1].split(":")[0]
    assert (ROOT / config).is_file()
    provision = services["superset-provision"]
    assert provision["profiles"] == ["superset"]
    assert provision["command"] == ["posctl", "superset", "provision"]
    assert provision["depends_on"]["superset"]["condition"] == "service_healthy"
    # The shop runs without Superset: nothing outside the profile waits for it.
    for name, svc in services.items():
        if "superset" not in svc.get("profiles", []):
            assert not {"superset", "superset-provision"} & set(svc.get("depends_on", {})), name


def test_cluster_profile_runs_three_kraft_brokers_and_a_spark_cluster() -> None:
    services = _compose()["services"]
    brokers = {name: services[name] for name in ("kafka-1", "kafka-2", "kafka-3")}
    envs = {name: _environment(svc) for name, svc in brokers.items()}
    voters = "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
    for number, (name, svc) in enumerate(brokers.items(), start=1):
        env = envs[name]
        assert svc["profiles"] == ["cluster"]
        assert svc["image"] == services["kafka"]["image"]
        assert "healthcheck" in svc
        assert env["KAFKA_NODE_ID"] == str(number)
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == voters
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        # Acknowledged writes survive a broker: three copies, two in sync before acks=all.
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
        assert not svc.get("ports"), f"{name} must not be published"
    # Same cluster id, each its own data volume.
    assert len({env["CLUSTER_ID"] for env in envs.values()}) == 1
    volumes = [svc["volumes"][0].split(":")[0] for svc in brokers.values()]
    assert len(set(volumes)) == 3 and set(volumes) <= set(_compose()["volumes"])
    # Spark: a master and two workers from the app image (the same Spark as the driver).
    app_image = _app_services(_compose())["stream"]["image"]
    for name in ("spark-master", "spark-worker-1", "spark-worker-2"):
        svc = services[name]
        assert svc["profiles"] == ["cluster"] and svc["image"] == app_image, name
        command = " ".join(svc["command"])
        main = "deploy.master.Master" if name == "spark-master" else "deploy.worker.Worker"
        assert f"org.apache.spark.{main}" in command, name
    for name in ("spark-worker-1", "spark-worker-2"):
        assert "spark://spark-master:7077" in " ".join(services[name]["command"])
    # The shop runs without the cluster: nothing outside the profile waits for it.
    for name, svc in services.items():
        if "cluster" not in svc.get("profiles", []):
            deps = set(svc.get("depends_on", {}))
            assert not deps & {*brokers, "spark-master", "spark-worker-1", "spark-worker-2"}, name


def test_compose_starts_a_real_shop_empty() -> None:
    """The migrate service under the default production environment seeds nothing."""
    migrate = _compose()["services"]["migrate"]
    assert "seed" not in " ".join(migrate["command"])


def test_seed_demo_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    from pos_app import cli
    from pos_app.settings import get_settings

    monkeypatch.setenv("POS_ENVIRONMENT", "production")
    monkeypatch.setenv("POS_SECRET_KEY", "a" * 40)
    monkeypatch.setenv("POS_MYSQL_PASSWORD", "not-the-default")
    monkeypatch.setenv("POS_MYSQL_REPORT_PASSWORD", "not-the-default-either")
    monkeypatch.setenv("POS_MYSQL_PORT", "1")  # nothing may be written: no server there
    get_settings.cache_clear()
    try:
        assert cli.main(["seed", "demo"]) == 2
    finally:
        get_settings.cache_clear()


def test_superset_admin_password_is_never_on_a_command_line() -> None:
    """A command line is readable by anyone on the host (`ps`): the password goes to
    Superset's prompt instead, in compose as in `posctl superset up`."""
    command = " ".join(_compose()["services"]["superset"]["command"])
    assert "SUPERSET_ADMIN_PASSWORD" in command  # it is still set, on stdin
    assert "--password" not in command
    source = (ROOT / "stack" / "superset" / "server.py").read_text()
    assert '"--password"' not in source
