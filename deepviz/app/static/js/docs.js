// Swagger UI for /openapi.json, started from a file so that the CSP needs no inline script.
window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
