# The gateway image: `node dist/gateway/main.js`, a gRPC server speaking h2c
# on $PORT behind Cloud Run's TLS. Built by infra/deploy.sh (Cloud Build) and
# cloudbuild.yaml; .dockerignore keeps tests, tools and emulators out.

# --- build: all dependencies, compile, then drop the dev ones ----------------
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs an install script, and none may run.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY envelope ./envelope
COPY gateway ./gateway
COPY generated ./generated
COPY runtime ./runtime
COPY proto ./proto
# Only the gateway's sources are here, so tsc compiles just those.
RUN npx tsc -p tsconfig.json && test -f dist/gateway/main.js
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime: production dependencies and compiled code only -----------------
FROM node:24-slim
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The gateway serves proto/items.proto through gRPC reflection.
COPY --from=build --chown=root:root /app/proto ./proto
# The node image's unprivileged user; the code it runs is root-owned, so the
# process cannot change it.
USER node
EXPOSE 8080
# Node flags: gateway/node-flags.ts says why (a test keeps them equal).
CMD ["node", "--max-semi-space-size=16", "dist/gateway/main.js"]
