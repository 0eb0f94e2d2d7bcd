import { defineConfig } from 'vite';

/**
 * The browser app, served by the API at /app/ (src/features/webapp/). Built
 * into web/dist by `npm run build:web` (and by `npm start` / `npm test` when
 * the sources are newer than the build). Everything it loads is bundled: no
 * CDN, so it works offline.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/app/',
  // Preact's automatic JSX runtime, without a framework plugin: the build needs nothing else.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Small enough to send whole; one request for the app's code.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 300,
  },
  logLevel: 'warn',
});
