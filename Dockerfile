# syntax=docker/dockerfile:1
# The connector's image: one CLI (bin/connector.ts, compiled) for every role in the compose
# stack: `start` (the scheduled connector), `sink`, `sync`, `replay`, `check`, `status`,
# `mapping export` and `simulator` (the demo's Salesforce stand-in).
#
#   docker build -t sf-neurons-connector .
#   docker run --rm sf-neurons-connector --help
#
# Stages: deps (npm ci with dev dependencies) → build (tsc to dist/) → prod-deps (npm ci
# --omit=dev) → runtime (dist/, schemas/, production node_modules; runs as the non-root user node).

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json jest.config.ts ./
COPY bin ./bin
COPY connectors ./connectors
COPY pipeline ./pipeline
COPY schemas ./schemas
COPY sinks ./sinks
COPY test ./test
# tsc compiles bin/, pipeline/, schemas/, connectors/, sinks/ and test/ (the simulator the
# `simulator` command runs is dist/test/simulator/cli.js) to dist/.
RUN npm run build

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json ./
COPY --from=build --chown=root:root /app/dist ./dist
# The .avsc schemas and mapping CSVs are read at run time: schemas/files.ts looks beside
# dist/schemas/ first, then in ../../schemas, i.e. /app/schemas.
COPY --chown=root:root schemas/avro ./schemas/avro
COPY --chown=root:root schemas/mapping ./schemas/mapping
# Writable places for the user node: the compose stack mounts named volumes here (a new named
# volume takes over the owner of the folder it is mounted on).
RUN mkdir -p /var/lib/sf-neurons/db-secrets /var/lib/sf-neurons/demo /var/lib/sf-neurons/postgres \
 && chown -R node:node /var/lib/sf-neurons
USER node
# Prometheus /metrics and /health, when the config's metrics.port is 9464.
EXPOSE 9464
ENTRYPOINT ["node", "/app/dist/bin/connector.js"]
CMD ["--help"]
