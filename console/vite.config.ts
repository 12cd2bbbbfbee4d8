/**
 * The console's build: `vite build console` (npm run build:console) writes a static single-page app
 * to console/dist — index.html and hashed assets with relative URLs, so the same folder works when
 * the local API serves it at `/` and when CloudFront serves it from S3.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One small app: a single chunk keeps the build fast and the upload simple.
    chunkSizeWarningLimit: 800,
    reportCompressedSize: false,
  },
  server: {
    // `npm run console:dev` proxies the API to a running `npm start` (default port 3000).
    proxy: { '/api': process.env.UPDRAFT_API ?? 'http://127.0.0.1:3000' },
  },
});
