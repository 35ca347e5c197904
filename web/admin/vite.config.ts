import { defineConfig } from 'vite';

// The hub serves dist/ at "/": index.html for every route of the app, assets/ (named by content
// hash) with a year of caching. scripts/compress.mjs adds the .gz variants the hub sends.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
});
