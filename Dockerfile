FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A C compiler builds the agents' kernel (rl/_kernel.c) below; without one TaskPilot falls back to a
# Python loop about 100 times slower.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin taskpilot
WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY api.py ./
COPY scheduler/ ./scheduler/
COPY rl/ ./rl/
COPY xai/ ./xai/
COPY web/ ./web/
COPY frontend/ ./frontend/
COPY dataset_rl/ ./dataset_rl/

# Build the kernel and the parsed-data cache at image build time, so start-up only loads them.
RUN python -m rl.kernel && python -m scheduler data
# Workflows are kept in .data/taskpilot.db (TASKPILOT_DATABASE): the only folder the service writes to.
RUN mkdir -p /app/.data && chown taskpilot /app/.data

USER taskpilot

ENV PORT=8000
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)" || exit 1

# Connection bounds: see the Makefile's SERVE (the same flags).
CMD ["sh", "-c", "uvicorn api:app --host 0.0.0.0 --port ${PORT:-8000} --http web.connections:BoundedHttpToolsProtocol --limit-concurrency 100 --timeout-keep-alive 5 --timeout-graceful-shutdown 8"]
