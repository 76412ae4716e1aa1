"""Helpers for the cluster tests: their own Kafka cluster and Spark cluster, on ports and a
state folder of their own, so the single broker the other tests use is left alone."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

from pos_app.settings import Settings
from stack import services, spark_cluster
from stack.processes import ProcessFiles, stop


def free_port_pair() -> int:
    """A port p with p + 1 also free (a Kafka node's broker and controller ports)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two neighbouring free ports on 127.0.0.1")


def own_state_dir(base: Settings, folder: Path) -> Path:
    """A state folder for the test's processes that shares the installed jars."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "jars").symlink_to(base.state_dir / "jars")
    return folder


@contextlib.contextmanager
def kafka_cluster(settings: Settings) -> Iterator[list[services.KafkaNode]]:
    """settings.kafka_brokers KRaft nodes in settings.state_dir, stopped afterwards."""
    nodes = services.kafka_nodes(settings)
    try:
        services.start_kafka(settings)
        yield nodes
    finally:
        for node in nodes:
            stop(ProcessFiles(settings.state_dir, node.process), timeout=20)


@contextlib.contextmanager
def spark_standalone(settings: Settings, workers: int) -> Iterator[str]:
    """A Spark master and `workers` workers; yields the master URL."""
    try:
        yield spark_cluster.up(settings, workers=workers, port=free_port_pair())
    finally:
        spark_cluster.down(settings)
