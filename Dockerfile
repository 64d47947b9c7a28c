# The Parlor application image: web (gunicorn), worker and beat all run it.
# docker-compose.yml builds it; PostgreSQL and Redis are separate containers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# WeasyPrint (the client's PDF export) loads pango; DejaVu has the Cyrillic letters.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# Dependencies before the code, so a code change reuses this layer.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# .mo files and collected static files are build products, not kept in git.
# collectstatic runs with DEBUG=false so that whitenoise's manifest storage
# (the one production uses) writes its hashed names; the settings refuse to
# load without a long SECRET_KEY and ALLOWED_HOSTS then, so give them
# build-only values that never reach a running container.
RUN python scripts/compile_messages.py \
 && DEBUG=false \
    SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only \
    ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput

# Run as an unprivileged user; var/ (beat schedule, media, mail files) is the
# only place it writes, and compose mounts a volume there.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin parlor \
 && mkdir -p /app/var \
 && chown parlor /app/var
USER parlor

EXPOSE 8000
CMD ["gunicorn", "--config", "python:parlor.gunicorn_conf", "parlor.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", \
     "--logger-class", "parlor.logredact.RedactingGunicornLogger"]
