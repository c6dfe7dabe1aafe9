import { defineConfig } from 'vite';

/**
 * The Tolk web app. `npm run build` writes web/dist/, which Tolk serves at `/` (src/api/web/routes.ts).
 * In development (`npm run dev`), API calls and WebSockets go to a running Tolk server:
 * TOLK_URL, default http://127.0.0.1:8080.
 */
const tolkUrl = process.env.TOLK_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  appType: 'spa',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Keep fonts and the worklet as files: the server's Content-Security-Policy allows only 'self'.
    assetsInlineLimit: 0,
    sourcemap: false,
    // The /room page's chunk is mostly livekit-client (~540 kB); it loads only on that page.
    chunkSizeWarningLimit: 600,
  },
  worker: { format: 'es' },
  server: {
    proxy: {
      '/api': { target: tolkUrl, ws: true, changeOrigin: true },
    },
  },
});
