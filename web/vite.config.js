import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// The built app ships inside the Python package, so `pip install` users need no Node.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: '../src/primevod/web_dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000', '/healthz': 'http://127.0.0.1:8000' } },
})
