# Image for the api, the worker and the migrations (one image, three commands):
#   api:        npx tsx api/main.ts   (default)
#   worker:     npx tsx worker.ts
#   migrations: npx tsx scripts/migrate.ts
# tsx is a runtime dependency, so the TypeScript sources run as they are, without a build step.

FROM node:20.20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:20.20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Code and dependencies stay owned by root: the node user can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY adapters/ ./adapters/
COPY activities/ ./activities/
COPY api/ ./api/
COPY workflows/ ./workflows/
COPY worker.ts ./
COPY scripts/migrate.ts ./scripts/
USER node
EXPOSE 8080
CMD ["npx", "tsx", "api/main.ts"]
