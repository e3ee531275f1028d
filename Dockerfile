# syntax=docker/dockerfile:1
# embedder-server: TEI- and OpenAI-compatible embedding service.
#   docker build -t embedder-server .                       (runtime image, the default target)
#   docker build --target development -t embedder-dev .     (whole workspace with dev tools)
#   docker run -p 8080:8080 -v "$(realpath ../shared/models):/models:ro" -v embedder-cache:/cache embedder-server
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS base
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true NX_DAEMON=false ONNXRUNTIME_NODE_INSTALL=skip
RUN corepack enable
WORKDIR /repo

# Build stage: install the workspace, build the server and deploy it with production dependencies only.
FROM base AS build
COPY . .
RUN pnpm install --frozen-lockfile
# The same script apps/server/src/deploy.int.test.ts runs and starts the result of.
RUN sh apps/server/scripts/deploy.sh /out/server

# Development: the whole workspace with dev dependencies; mount the sources over /repo to iterate.
FROM base AS development
COPY . .
RUN pnpm install --frozen-lockfile
ENV EMBEDDER_MODEL_PATH=/models EMBEDDER_HOST=0.0.0.0 EMBEDDER_PORT=8080 LOG_LEVEL=debug
EXPOSE 8080
CMD ["sh", "-c", "pnpm exec nx run @embedder-rag/server:build && node apps/server/dist/main.js"]

# Runtime: slim, non-root, models read-only under /models, the persistent cache on the /cache volume.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    EMBEDDER_HOST=0.0.0.0 \
    EMBEDDER_PORT=8080 \
    EMBEDDER_MODEL_PATH=/models \
    EMBEDDER_CACHE_PATH=/cache/embeddings.cache \
    HF_HOME=/cache/huggingface
RUN groupadd --system embedder \
 && useradd --system --gid embedder --no-create-home --home-dir /app --shell /usr/sbin/nologin embedder \
 && mkdir -p /models /cache \
 && chown embedder:embedder /cache
WORKDIR /app
# Owned by root and not writable by the service user.
COPY --from=build /out/server /app
USER embedder
VOLUME ["/models", "/cache"]
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.EMBEDDER_PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
