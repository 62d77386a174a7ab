import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { viteStaticCopy } from 'vite-plugin-static-copy'

// The built app ships inside the Python package, so `pip install` users need no Node.
export default defineConfig({
  plugins: [
    react(),
    // the API docs (/docs, /redoc: api/api_docs.py) load Swagger UI and ReDoc from here, not a CDN
    viteStaticCopy({
      targets: [
        { src: 'node_modules/swagger-ui-dist/swagger-ui-bundle.js', dest: 'static/api-docs', rename: { stripBase: true } },
        { src: 'node_modules/swagger-ui-dist/swagger-ui.css', dest: 'static/api-docs', rename: { stripBase: true } },
        { src: 'node_modules/redoc/bundles/redoc.standalone.js', dest: 'static/api-docs', rename: { stripBase: true } },
        { src: 'api-docs/*.js', dest: 'static/api-docs', rename: { stripBase: true } },
      ],
    }),
  ],
  build: {
    outDir: '../src/primevod/web_dist',
    emptyOutDir: true,
    // the bundle's files under /static: /assets/{id} is the asset page (api/web.py)
    assetsDir: 'static',
    chunkSizeWarningLimit: 1500,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000', '/healthz': 'http://127.0.0.1:8000' } },
})
