# 乡治 Xiangzhi: one image for web (gunicorn), worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 xiangzhi

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
RUN pip install -c constraints.txt -e .
COPY . .
# collectstatic needs settings; these values exist only for the build step.
RUN DEBUG=0 SECRET_KEY=build-only-not-a-secret ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput -v0 \
 && chown -R xiangzhi:xiangzhi /app

USER xiangzhi
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "5", "--worker-class", "gthread", "--threads", "4", "--access-logfile", "-"]
