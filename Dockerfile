# syntax=docker/dockerfile:1
# The connector's image: one CLI (bin/connector.ts, compiled) for every role in the compose
# stack: `start` (the scheduled connector), `sink`, `sync`, `replay`, `check`, `status` and
# `mapping export`. The `demo` target adds the Salesforce simulator (`simulator`, for the
# compose demo profile); the default target, `runtime`, ships no test code.
#
#   docker build -t sf-neurons-connector .
#   docker build --target demo -t sf-neurons-connector-demo .
#   docker run --rm sf-neurons-connector --help
#
# NODE_IMAGE: any Debian-based image with Node 22 and npm in it; the public node image by
# default, a locally built one where no registry is reachable (containers/build.sh).
#
# Stages: deps (npm ci with dev dependencies) → build (tsc of the CLI and what it imports, and the
# simulator) → prod-deps (npm ci --omit=dev) → app (compiled product code, production
# node_modules, user 10001) → demo (app + simulator) → runtime (app; the default target).

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# ca-certificates: an optional build secret, the build machine's CA bundle, for networks whose
# proxy re-signs TLS (containers/build.sh passes it); it is not kept in any layer.
RUN --mount=type=secret,id=ca-certificates NODE_EXTRA_CA_CERTS=/run/secrets/ca-certificates npm ci --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json ./
COPY containers/tsconfig.image.json ./containers/
COPY kernel ./kernel
COPY kafka ./kafka
COPY bin ./bin
COPY connectors ./connectors
COPY pipeline ./pipeline
COPY schemas ./schemas
COPY sinks ./sinks
COPY simulator ./simulator
RUN npx tsc -p containers/tsconfig.image.json

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca-certificates NODE_EXTRA_CA_CERTS=/run/secrets/ca-certificates \
    npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS app
ENV NODE_ENV=production
WORKDIR /app
# A user of its own (not the base image's): the files below stay root's, so the process cannot
# change its own code; it writes only to the volumes and tmpfs the compose file gives it.
RUN groupadd --system --gid 10001 connector \
 && useradd --system --uid 10001 --gid connector --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin connector
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json ./
COPY --from=build --chown=root:root /app/dist/kernel ./dist/kernel
COPY --from=build --chown=root:root /app/dist/kafka ./dist/kafka
COPY --from=build --chown=root:root /app/dist/bin ./dist/bin
COPY --from=build --chown=root:root /app/dist/connectors ./dist/connectors
COPY --from=build --chown=root:root /app/dist/pipeline ./dist/pipeline
COPY --from=build --chown=root:root /app/dist/schemas ./dist/schemas
COPY --from=build --chown=root:root /app/dist/sinks ./dist/sinks
# The .avsc schemas and mapping CSVs are read at run time: schemas/files.ts looks beside
# dist/schemas/ first, then in ../../schemas, i.e. /app/schemas.
COPY --chown=root:root schemas/avro ./schemas/avro
COPY --chown=root:root schemas/mapping ./schemas/mapping
# Views a sink creates for the declared streams (schemas/streams, sink.views)
COPY --chown=root:root schemas/streams/views ./schemas/streams/views
# Writable places for the user: the compose stack mounts named volumes here (a new named
# volume takes over the owner and mode of the folder it is mounted on).
RUN mkdir -p /var/lib/sf-neurons/postgres-password /var/lib/sf-neurons/database-url /var/lib/sf-neurons/demo \
      /var/lib/sf-neurons/index-checkpoints \
 && chown -R connector:connector /var/lib/sf-neurons && chmod 0700 /var/lib/sf-neurons/*
USER 10001:10001
# Prometheus /metrics and /health, when the config's metrics.port is 9464.
EXPOSE 9464
# A young generation of 2 x 4 MB semi-spaces instead of V8's 2 x 16 MB: a sync run peaked 30 to 40 MB
# lower at 100k users with the same CPU within noise (docs/performance-s6-mem.md). NODE_OPTIONS, so
# an operator can override it.
ENV NODE_OPTIONS=--max-semi-space-size=4
# glibc's malloc, read at process start (Node cannot set them for itself): at most 2 thread arenas
# (libuv's threadpool and V8's workers held 12-17 arenas, 13-20 MB), and every allocation of 512 KiB
# or more (the off-heap maps' 1 MiB chunks and slot tables) mmap'd, so a freed one goes back to the
# kernel instead of staying in the heap under a live block. At 100k users 11-17 MB lower peaks, CPU
# within noise; at 1M the routine run 266 -> 243 MB with this session's changes
# (docs/performance-s8-mem.md). Override with -e to change.
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=524288
ENTRYPOINT ["node", "/app/dist/bin/connector.js"]
CMD ["--help"]

FROM app AS demo
COPY --from=build --chown=root:root /app/dist/simulator ./dist/simulator

FROM app AS runtime
