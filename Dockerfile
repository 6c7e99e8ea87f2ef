# acd daemon: python:3.11-slim, the package without its dev dependencies, run as a non-root
# user. Build and run (host networking: see docker-compose.yml for why):
#   docker build -t acd .
#   docker run --network host -v acd-data:/var/lib/acd acd
# Settings: /etc/acd/acd.yaml (a copy of acd.example.yaml, i.e. every default; mount your
# own over it) and ACD_<SECTION>__<KEY> environment variables, which win over the file.
# Relative paths in the settings (database, recordings, presence, journal) resolve in the
# working directory /var/lib/acd, which is a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Fixed ids, so a volume shared with Asterisk (call recordings) can have one owner: the
# compose file runs Asterisk with the same uid/gid (PUID/PGID).
RUN groupadd --system --gid 10001 acd \
    && useradd --system --uid 10001 --gid acd --home-dir /var/lib/acd --no-create-home \
       --shell /usr/sbin/nologin acd

# The package and its runtime dependencies only (no [dev] extra); sources are not kept. The
# Alembic migrations are installed with it (the "migrations" package; acd serve runs them).
WORKDIR /build
COPY pyproject.toml README.md ./
COPY acd ./acd
COPY migrations ./migrations
RUN pip install . && rm -rf /build

COPY acd.example.yaml /etc/acd/acd.yaml
# The example IVR scenarios (docs/scenarios.md), served until you mount your own here.
COPY ivr_scripts /etc/acd/ivr_scripts
COPY docker/healthcheck.py /usr/local/bin/acd-healthcheck
RUN chmod 0644 /etc/acd/acd.yaml /etc/acd/ivr_scripts/* \
    && chmod 0755 /usr/local/bin/acd-healthcheck \
    && mkdir -p /var/lib/acd/recordings \
    && chown -R acd:acd /var/lib/acd

ENV ACD_CONFIG=/etc/acd/acd.yaml \
    ACD_SCENARIOS__DIRECTORY=/etc/acd/ivr_scripts
WORKDIR /var/lib/acd
VOLUME ["/var/lib/acd"]
USER acd:acd

# FastAGI (fastagi.port) and the HTTP API (http.port). Both listen on 127.0.0.1 by default:
# set ACD_FASTAGI__HOST / ACD_HTTP__HOST to 0.0.0.0 only on a trusted network (FastAGI has
# no authentication).
EXPOSE 4573 8080

# Healthy when the FastAGI port listens (read from /proc: no connection, no log noise).
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["acd-healthcheck"]

ENTRYPOINT ["acd"]
CMD ["serve", "--config", "/etc/acd/acd.yaml"]
