# chatd for deployment: PostgreSQL and Redis come from DATABASE_URL and REDIS_URL.
# Two stages: a wheel is built from the source, and only the wheel is installed (not editable).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY chatd ./chatd
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    CHATD_HOST=0.0.0.0 CHATD_PORT=8080 CHATD_LOG_FORMAT=json
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --no-create-home chatd
# An installed chatd reads its migrations, page and static files from the working directory.
WORKDIR /app
COPY sql ./sql
COPY templates ./templates
COPY static ./static
USER chatd

EXPOSE 8080
# SIGTERM (docker stop) drains: /readyz 503, sockets closed 1001, exit within
# CHATD_SHUTDOWN_TIMEOUT (10 s): give `docker stop` a longer grace (compose.yml: 15 s).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/healthz')"
CMD ["chatd", "serve"]
