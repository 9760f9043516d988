# One image for both worker kinds: `newsflow worker clean` or `newsflow worker enrich`.
# (Hardening — multi-stage build, HEALTHCHECK on /healthz — comes with the deployment issue.)
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY workers ./workers
RUN pip install --no-cache-dir . && useradd --uid 10001 --no-create-home newsflow
USER newsflow
ENTRYPOINT ["newsflow"]
CMD ["worker", "clean"]
