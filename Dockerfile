# syntax=docker/dockerfile:1
#
# Sluice container image: docker build -t sluice .
#   docker run --rm -p 8080:8080 -p 127.0.0.1:9901:9901 -e SLUICE_ADMIN_TOKEN=... \
#     -v "$PWD/my-config:/etc/sluice:ro" sluice
# The config is /etc/sluice/sluice.yaml (deploy/docker/sluice.yaml unless you mount your own
# directory over /etc/sluice; mount the directory, not the file, so live reload sees edits).

# The toolchain Sluice is developed and tested with is Swift 6.3; the manifest needs 6.1 or later
# (swift-tools-version 6.1), so --build-arg SWIFT_VERSION=6.2 (or 6.1) also selects an official
# image, at your own risk.
ARG SWIFT_VERSION=6.3

# ---------------------------------------------------------------------------------------------
# Build stage: the official Swift image.
FROM swift:${SWIFT_VERSION}-bookworm AS build
WORKDIR /src

# Dependencies first, in a layer of their own: it is rebuilt only when Package.swift changes.
# Package.resolved is not copied (and .dockerignore keeps it out): the project does not commit
# it, and a developer's copy may pin commits of a local package mirror that GitHub does not have.
COPY Package.swift ./
RUN swift package resolve

# Then the sources. SwiftPM loads every target of the manifest even for one product, so the
# test and benchmark directories must exist too (they are not compiled: --product sluice).
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks

# --static-swift-stdlib links the Swift runtime, Foundation (with its ICU data), Dispatch and
# every package statically. What stays dynamic is only what the toolchain's
# static-stdlib-args.lnk and Foundation's autolink entries name: glibc (libc, libm; libdl,
# libpthread and libutil are part of libc since glibc 2.34) plus libstdc++ and libgcc_s. `ldd`
# of a Sluice build lists exactly libc, libm, libstdc++, libgcc_s beside the Swift libraries.
# No libcurl or libxml2: Sluice imports neither FoundationNetworking nor FoundationXML.
RUN swift build -c release --static-swift-stdlib --product sluice \
    && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/sluice" /staging/sluice \
    && install -D -m 0755 /usr/libexec/swift/linux/swift-backtrace-static /staging/swift-backtrace-static

# ---------------------------------------------------------------------------------------------
# Runtime stage: Debian slim. It already has libc6, libstdc++6 and libgcc-s1 (apt itself needs
# them); ca-certificates and tzdata are the only additions (trust roots for any future TLS
# upstream, time zones for Foundation). No curl: the HEALTHCHECK below uses bash's /dev/tcp.
FROM debian:bookworm-slim

# Versions are not pinned on purpose: bookworm's point releases replace them (security fixes),
# and a pinned version disappears from the archive, breaking the build.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*

# A fixed UID/GID so volumes, Kubernetes securityContext (runAsUser: 10001) and host files agree.
RUN groupadd --system --gid 10001 sluice \
    && useradd --system --uid 10001 --gid sluice --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin sluice \
    && install -d -o sluice -g sluice -m 0750 /var/cache/sluice \
    && install -d -m 0755 /etc/sluice

COPY --from=build /staging/sluice /usr/local/bin/sluice
# A crash prints a symbolicated backtrace of every thread to stderr (the static backtracer, as
# the binary has no Swift runtime on disk to find one next to).
COPY --from=build /staging/swift-backtrace-static /usr/local/libexec/swift-backtrace-static
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/libexec/swift-backtrace-static

COPY deploy/docker/sluice.yaml /etc/sluice/sluice.yaml

# The ports are above 1024: the non-root user binds them without any capability.
USER 10001:10001
EXPOSE 8080 9901

# /healthz on the admin listener (which deploy/docker/sluice.yaml binds on 0.0.0.0:9901; the
# check connects to 127.0.0.1, inside the container). There is no `sluice health` subcommand,
# and curl would add libcurl and a dozen libraries to an image that otherwise has none, so the
# probe is bash (Essential in Debian) with /dev/tcp: one HTTP/1.1 request, the status line must
# say 200. If you move the admin port, override HEALTHCHECK too.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9901 && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && IFS= read -r -t 2 status <&3 && [[ $status == 'HTTP/1.1 200'* ]]"]

# SIGTERM: stop accepting, finish in-flight requests within timeouts.drain (30s), exit 0.
# Give `docker stop` more than that: docker stop -t 45 (compose: stop_grace_period: 45s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["run", "-c", "/etc/sluice/sluice.yaml"]
