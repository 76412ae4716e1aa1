# syntax=docker/dockerfile:1
# Images for docker-compose.yml, two targets:
#   app (the default): the FastAPI app and the posctl CLI (migrate, seed); no Java.
#   stream: the Spark stream job (and the Spark cluster's daemons): Java 17 and the Kafka
#   connector jars besides.
# Python comes from the official python image (jammy only ships 3.10).

FROM python:3.11-slim-bookworm AS python-deps
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The pinned, hashed dependencies before any source: this layer is rebuilt only when the
# lock file changes, not with every change to the code.
COPY requirements/app.lock /tmp/app.lock
RUN pip install --require-hashes -r /tmp/app.lock && rm /tmp/app.lock
# Runtime runs as an unprivileged user; the state and checkpoint folders are its own so that
# named volumes mounted there inherit that ownership.
RUN set -eux; \
    groupadd --system --gid 10001 pos; \
    useradd --system --uid 10001 --gid pos --home-dir /var/lib/pos --shell /usr/sbin/nologin pos; \
    mkdir -p /var/lib/pos/state /var/lib/pos/checkpoints; \
    chown pos:pos /var/lib/pos /var/lib/pos/state /var/lib/pos/checkpoints
# Paths relative to the repo (templates, static, migrations, data) resolve to /app.
ENV HOME=/var/lib/pos \
    POS_STATE_DIR=/var/lib/pos/state \
    PYTHONPATH=/app
WORKDIR /app

# Spark 4 needs Java 17. The man1 folder works around the JRE's postinst on slim images.
FROM python-deps AS java
ENV JAVA_HOME=/opt/java
RUN set -eux; \
    mkdir -p /usr/share/man/man1; \
    apt-get update; \
    apt-get install -y --no-install-recommends openjdk-17-jre-headless; \
    rm -rf /var/lib/apt/lists/*; \
    ln -s "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" /opt/java

# Resolve the Spark Kafka connector jars (pyspark lacks them) with Maven in a throwaway stage,
# so Maven and its repository cache stay out of the runtime image.
FROM java AS spark-jars
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

FROM java AS stream
COPY --from=spark-jars /var/lib/pos/state/jars /var/lib/pos/state/jars
COPY . /app
# The project alone (its posctl entry point): its dependencies are in the layer above.
RUN pip install --no-deps . && rm -rf build ./*.egg-info
USER 10001:10001
CMD ["posctl", "stream"]

FROM python-deps AS app
COPY . /app
RUN pip install --no-deps . && rm -rf build ./*.egg-info
USER 10001:10001
EXPOSE 8000
CMD ["posctl", "serve", "--host", "0.0.0.0", "--port", "8000"]
