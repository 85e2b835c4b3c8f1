# Slim production image: werkmatch served by uvicorn as an unprivileged user.
# DATABASE_URL (PostgreSQL) and WERKMATCH_SECRET_KEY must be given at run time.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
COPY matching ./matching
COPY migrations ./migrations
COPY scripts ./scripts
COPY data ./data
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 WERKMATCH_ENVIRONMENT=production
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --home-dir /app --create-home werkmatch
WORKDIR /app
USER werkmatch
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health'); sys.exit(0)"
CMD ["werkmatch", "serve", "--host", "0.0.0.0", "--port", "8000"]
