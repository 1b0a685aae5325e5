# deepviz: one stateless web server of 2 worker processes. Build: docker build -t deepviz .
# Run: docker run -p 8000:8000 deepviz   (then open http://localhost:8000)
# For a lecture hall, put nginx in front (deploy/nginx.conf); DEEPVIZ_WORKERS sets the workers.

# 1. The wheel, built from the source: what a user installs is what the image runs.
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY deepviz ./deepviz
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# 2. The image: the wheel and its dependencies, no source tree, no build tools.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEEPVIZ_WORKERS=2 \
    DEEPVIZ_HOST=0.0.0.0

# The app needs no torch at run time (torch is the tests' oracle only), so none is installed.
RUN useradd --create-home --uid 10001 deepviz
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels

USER 10001
WORKDIR /home/deepviz
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["deepviz", "serve", "--host", "0.0.0.0", "--port", "8000"]
