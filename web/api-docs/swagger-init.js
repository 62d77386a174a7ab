// Swagger UI for /docs, from the app's own files (no CDN): a file, not an inline script, so the
// page keeps a CSP without 'unsafe-inline' scripts.
window.addEventListener('DOMContentLoaded', () => {
  window.ui = window.SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    layout: 'BaseLayout',
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // the public validator would be a request to another site
    presets: [window.SwaggerUIBundle.presets.apis],
  })
})
