# Warden container image: one image, two processes.
#   default CMD   node dist/src/worker.js    the Temporal worker (task queue "warden")
#   override      node dist/src/starter.js   the intake HTTP server (GET /healthz, POST /webhooks/generic)
# See docker-compose.yml for the full stack (PostgreSQL, Temporal, Web UI, worker, intake).
#
# Debian (glibc) base on purpose, not alpine: the worker loads the native Temporal core-bridge
# (prebuilt *-unknown-linux-gnu binaries shipped inside @temporalio/core-bridge) and the
# workflow bundler uses @swc/core's gnu binary; neither is shipped for musl.

ARG NODE_VERSION=20

# ---- build: full dependency tree, compile TypeScript to dist/ ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle-workflows.ts ./scripts/
RUN npx tsc -p tsconfig.build.json && npx ts-node --transpile-only scripts/bundle-workflows.ts

# ---- deps: production dependencies only (includes webpack/swc, which the worker needs at start) ----
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# Container defaults; TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, WARDEN_POLICY and WARDEN_UI_URL are
# set by whoever runs the image (docker-compose.yml does). Listen on all interfaces, not loopback.
ENV NODE_ENV=production \
    WARDEN_OUTBOX=/var/lib/warden/outbox.jsonl \
    WARDEN_EVIDENCE_DIR=/var/lib/warden/evidence \
    WARDEN_HTTP_HOST=0.0.0.0 \
    WARDEN_HTTP_PORT=8080 \
    WARDEN_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
WORKDIR /app
# Code and dependencies stay owned by root (read-only for the app user); the worker bundles the
# workflows from dist/src/workflows in memory at start, so it needs node_modules and dist here.
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
# The only writable place: the dry-run outbox and the file evidence store (mount a volume here;
# a new named volume takes this directory's node ownership).
RUN mkdir -p /var/lib/warden && chown node:node /var/lib/warden
USER node
EXPOSE 8080
CMD ["node", "dist/src/worker.js"]
