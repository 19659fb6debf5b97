# Bursa: one image for every role, each started by its command (README, "Deploying"):
#   bursa up                 all in one (the default command; see below)
#   bursa db upgrade         migrations (one-shot, before the rest)
#   bursa engine run         the engine (one active, any standbys)
#   bursa api                HTTP and websocket APIs, any number of replicas
#   bursa events relay | bursa mailer run | bursa custody scan | bursa custody sweep | …
#
# Build with scripts/build-image: it makes the base from Debian's packages (no registry
# needed) and checks the web app was built (scripts/build-web, Node.js 20: Debian bookworm
# has 18, so the web app is built outside and copied in from src/bursa/api/web_dist).
# BASE is any Debian bookworm image with python3 (e.g. debian:bookworm-slim + python3).
ARG BASE=bursa-base:bookworm

# --- the compiler and packaging tools (never in the final image) ---------------------------
FROM ${BASE} AS toolchain
# Certificates of a TLS-inspecting proxy between the build and PyPI, if any (PEM text;
# scripts/build-image passes the machine's local ones): trusted by this build stage only.
ARG BUILD_CA_CERTS=""
RUN if [ -n "$BUILD_CA_CERTS" ]; then \
      printf '%s\n' "$BUILD_CA_CERTS" > /usr/local/share/ca-certificates/build.crt \
      && update-ca-certificates >/dev/null; \
    fi
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      python3-venv python3-dev gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 UV_NO_CACHE=1 UV_LINK_MODE=copy \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# uv as scripts/bootstrap pins it; it installs into /opt/bursa, the venv the image ships.
RUN python3 -m venv /opt/tools \
 && /opt/tools/bin/pip install --quiet uv==0.13.9 \
 && python3 -m venv --without-pip /opt/bursa

# --- the pinned requirements, read from pyproject.toml -------------------------------------
# Only the lists are kept, so an edit elsewhere in pyproject.toml (a linter's setting, a
# test tool) does not invalidate the installed dependencies' layer below.
FROM toolchain AS requirements
COPY pyproject.toml /tmp/
RUN python3 -c 'import tomllib; p = tomllib.load(open("/tmp/pyproject.toml", "rb")); \
open("/tmp/runtime.txt", "w").write("\n".join(p["project"]["dependencies"]) + "\n"); \
open("/tmp/build.txt", "w").write("\n".join(p["build-system"]["requires"]) + "\n")'

# --- the pinned dependencies, byte-compiled: a layer kept while they stay the same ---------
FROM toolchain AS dependencies
COPY --from=requirements /tmp/build.txt /tmp/runtime.txt /tmp/
RUN /opt/tools/bin/uv pip install --quiet --python /opt/tools/bin/python -r /tmp/build.txt \
 && /opt/tools/bin/uv pip install --quiet --python /opt/bursa/bin/python -r /tmp/runtime.txt \
 && find /opt/bursa -depth -type d -name tests -path '*/site-packages/*/tests' -prune -exec rm -rf {} + \
 && rm -rf /opt/bursa/bin/activate* /opt/bursa/share \
 && /opt/bursa/bin/python -m compileall -q -j 0 /opt/bursa/lib
# Bursa itself goes to /opt/bursa-app (next stage), on the venv's path through a .pth file,
# so that a change to Bursa rebuilds that small layer only; its command, as pip's would be.
RUN echo /opt/bursa-app > /opt/bursa/lib/python3.11/site-packages/bursa-app.pth \
 && printf '%s\n' '#!/opt/bursa/bin/python' 'import sys' 'from bursa.cli.main import app' \
      'sys.exit(app())' > /opt/bursa/bin/bursa \
 && chmod 755 /opt/bursa/bin/bursa

# --- Bursa: a wheel (its engine compiled by mypyc, setup.py) -------------------------------
FROM dependencies AS build
COPY pyproject.toml setup.py README.md LICENSE /src/
COPY src /src/src
RUN test -f /src/src/bursa/api/web_dist/index.html \
 || { echo "src/bursa/api/web_dist is missing: run scripts/build-web first" >&2; exit 1; }
# Built with the pinned build tools (no isolation: installed above), installed without its
# dependencies (installed above, pinned). The compiled engine modules are touched: the
# installer's file times would make them look older than their sources.
RUN cd /src \
 && /opt/tools/bin/python -m pip wheel --quiet --no-build-isolation --no-deps -w /tmp/wheels . \
 && /opt/tools/bin/uv pip install --quiet --python /opt/bursa/bin/python --no-deps \
      --target /opt/bursa-app /tmp/wheels/*.whl \
 && rm -rf /opt/bursa-app/bin \
 && touch /opt/bursa-app/bursa/engine/*.so \
 && /opt/bursa/bin/python -W error -c 'import bursa.engine.core as c; assert c.__file__.endswith(".so"), c.__file__' \
 && /opt/bursa/bin/bursa --help >/dev/null \
 && /opt/bursa/bin/python -m compileall -q -j 0 /opt/bursa-app

# --- what runs: Debian minbase, python3, the venv ------------------------------------------
FROM ${BASE}
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/bursa --create-home \
      --shell /usr/sbin/nologin bursa
COPY --from=dependencies /opt/bursa /opt/bursa
COPY --from=build /opt/bursa-app /opt/bursa-app
# BURSA_DATA_DIR holds the key files and, when BURSA_DATABASE_URL is unset, the embedded
# PostgreSQL: a volume, so `docker run` keeps them across containers of the same volume.
ENV PATH=/opt/bursa/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BURSA_HOST=0.0.0.0 \
    BURSA_METRICS_HOST=0.0.0.0 \
    BURSA_DATA_DIR=/var/lib/bursa
USER bursa:bursa
WORKDIR /var/lib/bursa
VOLUME /var/lib/bursa
EXPOSE 8000
ENTRYPOINT ["bursa"]
# The all-in-one exchange: with BURSA_DATABASE_URL (and BURSA_SMTP_URL) it runs on that
# PostgreSQL; without, on the embedded demo database in the volume. Roles: pass a command.
CMD ["up"]
