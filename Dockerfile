# citebot: the same steps as `make run` (install torch CPU first, install citebot, ingest the
# bundled corpus, start the bot). Build: docker build -t citebot .
# Run:   docker run -e TELEGRAM_BOT_TOKEN=... -v citebot-data:/data citebot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CITEBOT_DATA_DIR=/data \
    HF_HUB_OFFLINE=1

WORKDIR /app

# torch first and pinned, from PyTorch's CPU index: PyPI's default build is CUDA, several GB.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY retrieval ./retrieval
COPY corpus ./corpus
RUN pip install .

COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh

RUN useradd --create-home --uid 10001 citebot \
    && mkdir -p /data && chown citebot:citebot /data
USER citebot
VOLUME ["/data"]

ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["citebot", "run"]
