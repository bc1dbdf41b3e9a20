# Kirimin production image: uvicorn serving HTTP and the WebSocket relay on :8000
# (the faster of the two supported servers; docs/performance.md).
#   docker build -t kirimin .
#   docker run -e SECRET_KEY=... -e DATABASE_URL=... -e REDIS_URL=... -p 8000:8000 kirimin
# Every setting comes from the environment; see README.md, "Configuration".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY manage.py ./
COPY config/ config/
COPY accounts/ accounts/
COPY groups/ groups/
COPY posts/ posts/
COPY moderation/ moderation/
COPY relay/ relay/
RUN pip install . \
    && rm -rf build *.egg-info \
    && chmod 755 config/docker-entrypoint.sh

# Unprivileged user; /data holds the SQLite file when no DATABASE_URL is given.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin kirimin \
    && mkdir /data && chown kirimin:kirimin /data
USER kirimin

# No SECRET_KEY here on purpose: it must come from the environment at run time.
ENV DEBUG=0 \
    SQLITE_PATH=/data/db.sqlite3

EXPOSE 8000

# Sent with the first ALLOWED_HOSTS entry as Host, so Django accepts it whatever the
# deployment's host names are ("*" and a leading "." are reduced to a plain name).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; h = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('*.') or 'localhost'; r.urlopen(r.Request('http://127.0.0.1:8000/healthz/', headers={'Host': h}), timeout=4)"]

ENTRYPOINT ["/app/config/docker-entrypoint.sh"]
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--ws", "websockets-sansio", "--ws-per-message-deflate", "false", "--http", "config.http:HeadDeadline", "--no-proxy-headers", "--no-access-log"]
