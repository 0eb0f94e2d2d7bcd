# One image, two roles: the command chooses api or worker (see docker-compose.yml).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json bull-board.config.ts ./
COPY src ./src
COPY workers ./workers
# The socket event catalogue the API and workers are typed against (types only; nothing of it runs).
COPY packages/client/src ./packages/client/src
# The web app at /app/ (built with Vite into web/dist; the API serves it from there).
COPY web ./web
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY package.json ./
USER node
EXPOSE 3000
CMD ["node", "dist/src/index.js"]
