FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin taskpilot
WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY api.py ./
COPY scheduler/ ./scheduler/
COPY rl/ ./rl/
COPY xai/ ./xai/
COPY frontend/ ./frontend/
COPY dataset_rl/ ./dataset_rl/

USER taskpilot

ENV PORT=8000
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)" || exit 1

CMD ["sh", "-c", "uvicorn api:app --host 0.0.0.0 --port ${PORT:-8000}"]
