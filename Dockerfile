# syntax=docker/dockerfile:1
# Baton's webhook server: `docker build -t baton .` then
#   docker run -p 3000:3000 -v baton-data:/data --env-file .env baton
# (or mount a Probot-style .env, quotes and multi-line PEM included, at /app/.env).

# Build stage: a virtualenv with Baton and its dependencies (all ship wheels: no compiler).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/baton
COPY pyproject.toml README.md ./
COPY app ./app
RUN /opt/baton/bin/pip install --no-cache-dir .

# Run stage: the virtualenv only, as an unprivileged user, the queue on a volume.
FROM python:3.11-slim
LABEL org.opencontainers.image.title="Baton" \
      org.opencontainers.image.description="GitHub App: tickets, claims, contract scans and a verification gate for agents and humans" \
      org.opencontainers.image.licenses="MIT"
ENV PATH=/opt/baton/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=3000 \
    BATON_DB=/data/baton.db
RUN groupadd --system --gid 10001 baton \
    && useradd --system --uid 10001 --gid baton --no-create-home --shell /usr/sbin/nologin baton \
    && mkdir -p /data /app \
    && chown baton:baton /data
COPY --from=build /opt/baton /opt/baton
WORKDIR /app
USER 10001:10001
# The delivery queue: a delivery accepted (202) survives a restart only if this persists.
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
CMD ["baton", "serve"]
