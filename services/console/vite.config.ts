import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// The control plane serves dist/ at / under a CSP of `script-src 'self'; style-src 'self'`:
// the build must emit files only (no inline script or style), which Vite's build does.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    // The modulepreload polyfill is not needed by the browsers the console supports.
    modulePreload: { polyfill: false },
  },
  server: {
    // `vite` alone, beside a control plane on :3000, for working on the pages.
    proxy: { '/v1': 'http://127.0.0.1:3000' },
  },
})
