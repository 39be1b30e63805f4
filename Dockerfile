# One image for the api, the worker and the migrations, running the compiled JavaScript that
# `npm run build` makes (scripts/build.ts), never TypeScript through tsx:
#   api:        node dist/api/main.js        (default)
#   worker:     node dist/worker.js          (loads dist/workflow-bundle.js, bundled once here)
#   migrations: node dist/scripts/migrate.js
# Also in the image: node dist/scripts/temporal-setup.js (search attributes), node dist/scripts/api-key.js.

FROM node:24.11-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY adapters/ ./adapters/
COPY activities/ ./activities/
COPY api/ ./api/
COPY services/ ./services/
COPY domain/ ./domain/
COPY workflows/ ./workflows/
COPY worker.ts ./
COPY scripts/ ./scripts/
RUN npm run build

FROM node:24.11-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24.11-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Code and dependencies stay owned by root: the node user can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 8080
CMD ["node", "dist/api/main.js"]
