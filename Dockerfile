# The Profile service image: `docker compose up --build`, or `docker build -t realchat-profile .`
# Two stages: the first bundles src/ and gen/ with esbuild (`npm run build`), the second holds
# Node.js, the production dependencies and dist/, and runs as the unprivileged `node` user.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# Dependencies first: this layer is reused until package.json or package-lock.json change.
# --ignore-scripts: the build needs no install script (esbuild finds its binary through its
# platform package).
COPY package.json package-lock.json ./
COPY src/transport/connect-internals/patches src/transport/connect-internals/patches
# Our patches to Connect (src/transport/connect-internals/README.md) are applied by running package.json's
# postinstall by hand, since install scripts are off.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm run postinstall
COPY tsconfig.json ./
COPY scripts/build.ts scripts/
COPY db db
COPY gen gen
COPY src src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
# The production dependencies, patched, as the build stage left them after pruning.
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# PGlite's data and the development secret live in /data when DATABASE_URL is not set; mount a
# volume there to keep them.
RUN mkdir /data && chown node:node /data
# Source maps: stack traces in the logs name src/ files and lines, not the bundle's.
ENV PORT=8080 DATA_DIR=/data NODE_OPTIONS=--enable-source-maps
USER node
EXPOSE 8080
# Liveness (/healthz) with node itself: the slim image has no curl. Compose checks /readyz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# main.ts stops accepting, finishes calls in flight (SHUTDOWN_TIMEOUT_MS), drains NATS, exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
