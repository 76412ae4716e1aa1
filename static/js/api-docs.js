// Swagger UI for /docs, served from static/ (no CDN, no inline script: the CSP forbids both).
window.addEventListener("load", () => {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
});
