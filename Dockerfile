# The Python minor version CI tests with (a unit test keeps the two equal)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    HEALTH_PORT=8080 \
    MALLOC_ARENA_MAX=2

# A CJK font, so the /usage chart can draw its Chinese labels (bot/core/charts.py looks for it)
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 bot && mkdir -p /data && chown bot:bot /data
WORKDIR /app
# The dependencies first, at the versions of constraints.txt, in a layer of their own that a code change
# doesn't rebuild; then the bot itself, with nothing more to install
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
COPY README.md ./
COPY bot ./bot
RUN pip install --no-deps .

USER bot
VOLUME ["/data"]
# On SIGTERM the bot takes no new jobs, cancels queued ones, gives running ones SHUTDOWN_GRACE_SECONDS (5)
# and a few seconds to tell their members: within `docker stop`'s default 10 s. Raise both together.
STOPSIGNAL SIGTERM
# /healthz answers 200 while the gateway is connected and the database answers (the image has no curl);
# the port is the image's 8080 when an env file leaves HEALTH_PORT empty
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('HEALTH_PORT') or 8080}/healthz\", timeout=4)"]
CMD ["python", "-m", "bot"]
