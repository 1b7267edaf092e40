import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Builds the web UI into dist/ui, which `sluice serve` serves at `/`. */
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [react()],
  build: {
    outDir: here('../../dist/ui'),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: {
    // `vite --config src/ui/vite.config.ts` during UI work, next to `sluice serve` on 8080.
    proxy: Object.fromEntries(
      ['/api', '/metrics', '/iceberg', '/event-types', '/subscriptions'].map((p) => [
        p,
        'http://127.0.0.1:8080',
      ]),
    ),
  },
});
