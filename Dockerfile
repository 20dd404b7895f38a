# syntax=docker/dockerfile:1
# CipherChat relay image: built with the official Swift image, run on Debian slim as a
# non-root user. docs/DEPLOY.md describes the volumes, ports and settings.
#
#   docker build -t cipherchat .
#   docker run -v cipherchat-data:/var/lib/cipherchat -p 7443:7443 cipherchat

# Swift 6.1 or later builds the package (swift-tools-version 6.1); pin the image you tested.
ARG SWIFT_IMAGE=swift:6.2-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# Dependencies first, so that a change to the sources does not fetch them again.
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product cipherchat --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/cipherchat" /staging/cipherchat

FROM ${RUNTIME_IMAGE}
# libsqlite3 for the store (GRDB links the system's SQLite); curl for the health check.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends ca-certificates curl libsqlite3-0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/cipherchat --shell /usr/sbin/nologin cipherchat \
    && install -d -o cipherchat -g cipherchat -m 0700 /var/lib/cipherchat \
    && install -d -o cipherchat -g cipherchat -m 0700 /var/lib/cipherchat-blobs \
    && install -d -o root -g cipherchat -m 0750 /etc/cipherchat/tls
COPY --from=build /staging/cipherchat /usr/local/bin/cipherchat

USER cipherchat:cipherchat
# The store, the self-signed certificate (when no --tls-cert is given) and the security log.
VOLUME ["/var/lib/cipherchat"]
# A certificate and key from a real CA, mounted read-only (see docs/DEPLOY.md).
VOLUME ["/etc/cipherchat/tls"]
ENV CIPHERCHAT_HOST=0.0.0.0 \
    CIPHERCHAT_PORT=7443 \
    CIPHERCHAT_DATA=/var/lib/cipherchat \
    CIPHERCHAT_METRICS_HOST=0.0.0.0 \
    CIPHERCHAT_METRICS_PORT=9090
EXPOSE 7443 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD curl --fail --silent --max-time 2 "http://127.0.0.1:${CIPHERCHAT_METRICS_PORT}/healthz" || exit 1
# SIGTERM (docker stop) drains: GoingAway to clients, then exit 0 well within docker's 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/cipherchat", "server"]
