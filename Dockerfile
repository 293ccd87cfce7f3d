# One image for every pulse-etl process: API, workers, beat, flower and migrations differ only by
# command (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, pinned by the lock, in a layer of their own: a code change does not reinstall them.
COPY requirements.lock ./
RUN pip install -r requirements.lock

# Then the code, installed without resolving anything again (for the `etl` command).
COPY pyproject.toml README.md celeryconfig.py ./
COPY etl ./etl
COPY api ./api
RUN pip install --no-deps .

# Migrations run from here: `alembic upgrade head` reads ./alembic.ini.
COPY alembic.ini ./
COPY alembic ./alembic

# Every process imports the code from /app, not the installed copy: etl/migrations.py finds
# alembic.ini and alembic/ beside the etl package, so `etl db upgrade` and `etl doctor` work in a
# container (from site-packages they would look for them there).
ENV PYTHONPATH=/app

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin pulse
USER pulse

EXPOSE 8000
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"]
