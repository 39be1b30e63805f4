/**
 * 405 with `Allow` for a path that exists with other methods, instead of the 404 Hono answers when
 * no handler matches (FastAPI, the contract's framework, answers 405).
 */

interface RegisteredRoute {
  method: string;
  path: string;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A lookup of the methods each path has, from the app's routes once they are all registered. */
export function allowedMethodsOf(routes: readonly RegisteredRoute[]): (path: string) => string[] {
  const handlers = routes
    .filter((route) => route.method !== 'ALL' && !route.path.includes('*'))
    .map((route) => ({
      method: route.method,
      pattern: new RegExp(
        `^${route.path
          .split('/')
          .map((segment) => (segment.startsWith(':') ? '[^/]+' : escape(segment)))
          .join('/')}$`,
      ),
    }));
  return (path) => {
    const methods = new Set(handlers.filter((handler) => handler.pattern.test(path)).map((h) => h.method));
    // Hono answers HEAD with the GET handler
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}
