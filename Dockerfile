# The step image: every step of a compiled Workflow runs `katib-flows step <verb> ...` in it, and the
# schema upgrade Job of manifests/base runs `katib-flows db upgrade` and its web UI `katib-flows ui`. The
# store URL comes from the environment (KATIB_FLOWS_DB, set from a Secret), never from the image.
#
#   docker build -t ghcr.io/katib-flows/katib-flows:0.1.0 .
#
# Two stages: wheels are built (with the MySQL and PostgreSQL drivers) where build tools are, then only the
# wheels are installed into a clean slim image that runs as an unprivileged user.

FROM python:3.12-slim AS build
WORKDIR /src
COPY collector/ collector/
COPY suggestion/ suggestion/
COPY pyproject.toml README.md ./
COPY katib_flows/ katib_flows/
RUN python -m pip wheel --no-cache-dir --wheel-dir /wheels ./collector ./suggestion '.[mysql,postgres,ui]'

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --uid 1000 --create-home --shell /usr/sbin/nologin katib
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m pip install --no-cache-dir --no-index --find-links /wheels \
        katib-flows-collector katib-flows-suggestion 'katib-flows[mysql,postgres,ui]' \
    && katib-flows --version
USER 1000
WORKDIR /home/katib
ENTRYPOINT ["katib-flows"]
CMD ["--help"]
