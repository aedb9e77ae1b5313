FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data

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
CMD ["python", "-m", "bot"]
