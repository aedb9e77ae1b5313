FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    HEALTH_PORT=8080

# A CJK font, so the /usage chart can draw its Chinese labels (bot/core/charts.py looks for it)
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 bot && mkdir -p /data && chown bot:bot /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .

USER bot
VOLUME ["/data"]
# On SIGTERM the bot takes no new jobs, cancels queued ones, gives running ones SHUTDOWN_GRACE_SECONDS (5)
# and a few seconds to tell their members: within `docker stop`'s default 10 s. Raise both together.
STOPSIGNAL SIGTERM
# /healthz answers 200 while the gateway is connected and the database answers (the image has no curl)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['HEALTH_PORT']}/healthz\", timeout=4)"]
CMD ["python", "-m", "bot"]
