# keepsake: build with the toolchain, run without it, as an unprivileged user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    KEEPSAKE_HOST=0.0.0.0 \
    KEEPSAKE_PORT=8080 \
    KEEPSAKE_MEDIA_ROOT=/media \
    KEEPSAKE_STATE_DIR=/data
WORKDIR /app
# Debian's HEIC decoder (libheif with libde265), faster than the WebAssembly one keepsake falls back
# to, and ffmpeg for video posters, lengths and dates.
RUN apt-get update && apt-get install -y --no-install-recommends libheif-examples ffmpeg && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /media /data && chown node:node /data
USER node
VOLUME ["/media", "/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.KEEPSAKE_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve"]
