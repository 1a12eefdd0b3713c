# chatd for deployment: PostgreSQL and Redis come from DATABASE_URL and REDIS_URL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CHATD_HOST=0.0.0.0 CHATD_PORT=8080
WORKDIR /app

COPY pyproject.toml README.md ./
COPY chatd ./chatd
COPY sql ./sql
COPY templates ./templates
COPY static ./static
# Editable, so that chatd finds sql/, templates/ and static/ beside the package.
RUN pip install --no-cache-dir -e . && useradd --system --no-create-home chatd
USER chatd

EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/healthz')"
CMD ["chatd", "serve"]
