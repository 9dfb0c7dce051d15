/* /docs: Swagger UI (vendor/swagger-ui, swagger-ui-dist from npm) on this server's /openapi.json. A file of
 * its own rather than an inline script, so the page runs under the dashboard's CSP (script-src 'self').
 * validatorUrl: null keeps Swagger UI from sending the document to validator.swagger.io. */
window.ui = window.SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
