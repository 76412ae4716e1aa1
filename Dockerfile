# syntax=docker/dockerfile:1
# App image for docker-compose.yml: the FastAPI app, the posctl CLI and the Spark stream job.
# Spark 4 needs Java 17; Python comes from the official python image (jammy only ships 3.10).

FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    JAVA_HOME=/opt/java
# The man1 folder works around the JRE's postinst on slim images.
RUN set -eux; \
    mkdir -p /usr/share/man/man1; \
    apt-get update; \
    apt-get install -y --no-install-recommends openjdk-17-jre-headless; \
    rm -rf /var/lib/apt/lists/*; \
    ln -s "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" /opt/java

# Resolve the Spark Kafka connector jars (pyspark lacks them) with Maven in a throwaway stage,
# so Maven and its repository cache stay out of the runtime image.
FROM base AS spark-jars
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends maven; \
    rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY stack/spark/pom.xml stack/spark/pom.xml
RUN mvn -q -f stack/spark/pom.xml dependency:copy-dependencies \
        -DincludeScope=runtime \
        -DincludeArtifactIds=spark-sql-kafka-0-10_2.13,spark-token-provider-kafka-0-10_2.13,kafka-clients,commons-pool2 \
        -DoutputDirectory=/var/lib/pos/state/jars/spark \
    && ls /var/lib/pos/state/jars/spark/spark-sql-kafka-0-10_2.13-*.jar

FROM base AS app
WORKDIR /app
# Install the project (dependencies and the posctl entry point) from the repo copy.
COPY . /app
RUN pip install . && rm -rf build ./*.egg-info
# Keep the code importable from /app too, so paths relative to the repo (templates, static,
# migrations, data) resolve to this copy rather than to site-packages.
ENV PYTHONPATH=/app

COPY --from=spark-jars /var/lib/pos/state/jars /var/lib/pos/state/jars

# Runtime runs as an unprivileged user; the state and checkpoint folders are its own so that
# named volumes mounted there inherit that ownership.
RUN set -eux; \
    groupadd --system --gid 10001 pos; \
    useradd --system --uid 10001 --gid pos --home-dir /var/lib/pos --shell /usr/sbin/nologin pos; \
    mkdir -p /var/lib/pos/state /var/lib/pos/checkpoints; \
    chown pos:pos /var/lib/pos /var/lib/pos/state /var/lib/pos/checkpoints
ENV HOME=/var/lib/pos \
    POS_STATE_DIR=/var/lib/pos/state
USER 10001:10001

EXPOSE 8000
CMD ["posctl", "serve", "--host", "0.0.0.0", "--port", "8000"]
