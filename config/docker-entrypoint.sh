#!/bin/sh
# Container entrypoint: refuse a placeholder secret, migrate, then exec the command
# (daphne by default). Set MIGRATE_ON_START=0 when a separate one-shot container
# runs the migrations, as docker-compose.yml does, so that scaled-out replicas never
# race each other through `migrate`.
set -eu

case "${SECRET_KEY:-}" in
  "" | change-me*)
    echo "Refusing to start: set SECRET_KEY to a long random value, e.g." >&2
    echo "  python -c 'import secrets; print(secrets.token_urlsafe(50))'" >&2
    exit 78
    ;;
esac

if [ "${MIGRATE_ON_START:-1}" != "0" ]; then
  python manage.py migrate --noinput
fi

exec "$@"
