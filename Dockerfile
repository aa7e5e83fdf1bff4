# syntax=docker/dockerfile:1
# spp-ctl container image: the one binary on a slim Debian, run as a non-root user.
#   docker build -t spp-ctl:0.1.0 .
#   docker run --rm -p 7777:7777 spp-ctl:0.1.0 agent -b 0.0.0.0 --simulate
# deploy/kubernetes runs this image for both roles (agent, gateway).

# The toolchain CI builds and tests with.
FROM rust:1.95-bookworm AS build
WORKDIR /src
# The image has no .git: the revision for spp_ctl_build_info comes in as an argument,
#   docker build --build-arg REVISION=$(git rev-parse --short HEAD) .
ARG REVISION=unknown
ENV SPP_CTL_REVISION=$REVISION
COPY . .
# The cache mounts keep downloaded crates and compiled dependencies between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin spp-ctl \
    && install -D -m 0755 target/release/spp-ctl /out/spp-ctl

FROM debian:bookworm-slim
# ca-certificates: an identity provider's jwks_url is fetched over HTTPS.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 spp-ctl \
    && useradd --system --uid 10001 --gid spp-ctl --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin spp-ctl
COPY --from=build /out/spp-ctl /usr/local/bin/spp-ctl
# Numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
# SPP primary and secondaries, REST API, agent metrics; gateway TLS and metrics.
EXPOSE 5555 6666 7777 9478 8443 9477
ENTRYPOINT ["spp-ctl"]
CMD ["agent"]
