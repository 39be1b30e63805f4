import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import type { AppEnv } from '../context.ts';

/**
 * The interactive docs at /docs: Swagger UI from the pinned `swagger-ui-dist` package, served by the
 * api itself. No CDN: the page works without internet, and a key pasted into it reaches no
 * third-party script. Its content security policy allows only this origin's scripts.
 */
const DIST_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const DOCS_ASSET_PREFIX = '/docs/assets/';

/** The files of swagger-ui-dist the page uses, by the name it asks for them. */
const PACKAGE_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};
/** The page's own start script: a file, since the policy refuses inline scripts. */
const INIT_SCRIPT = 'init.js';
const INIT_SOURCE = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null });
});
`;

/** Every path the page names, each served without a key (api/auth.ts). */
export const DOCS_ASSET_PATHS: readonly string[] = [...Object.keys(PACKAGE_ASSETS), INIT_SCRIPT].map(
  (name) => DOCS_ASSET_PREFIX + name,
);

/**
 * Scripts and styles from this origin only; images also as data: URIs (Swagger UI's icons); the
 * spec and "try it out" calls to this origin only; no framing. Swagger UI sets style attributes from
 * its scripts, hence 'unsafe-inline' for styles (never for scripts).
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Execution Replay API</title>
    <link rel="stylesheet" href="${DOCS_ASSET_PREFIX}swagger-ui.css" />
    <link rel="icon" type="image/png" href="${DOCS_ASSET_PREFIX}favicon-32x32.png" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_ASSET_PREFIX}swagger-ui-bundle.js"></script>
    <script src="${DOCS_ASSET_PREFIX}${INIT_SCRIPT}"></script>
  </body>
</html>
`;

const SECURITY_HEADERS = {
  'content-security-policy': DOCS_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function docsRoutes() {
  const app = new Hono<AppEnv>();
  // read once, on first use: the bundle is about 1.5 MB and most processes never serve it
  const cache = new Map<string, Buffer>();
  const assetOf = (name: string) => {
    let body = cache.get(name);
    if (!body) {
      body = readFileSync(join(DIST_DIR, name));
      cache.set(name, body);
    }
    return body;
  };

  app.get('/docs', (c) => c.html(PAGE, 200, { ...SECURITY_HEADERS, 'cache-control': 'no-cache' }));
  app.get(`${DOCS_ASSET_PREFIX}${INIT_SCRIPT}`, (c) =>
    c.body(INIT_SOURCE, 200, { ...SECURITY_HEADERS, 'content-type': 'text/javascript; charset=utf-8' }),
  );
  for (const [name, contentType] of Object.entries(PACKAGE_ASSETS)) {
    app.get(DOCS_ASSET_PREFIX + name, (c) =>
      c.body(new Uint8Array(assetOf(name)), 200, {
        ...SECURITY_HEADERS,
        'content-type': contentType,
        // the package is pinned: an asset changes only with a new release of the service
        'cache-control': 'public, max-age=3600',
      }),
    );
  }
  return app;
}
