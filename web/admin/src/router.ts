// Client-side routes over the History API: the hub answers every path outside its API with
// index.html, so a route can be bookmarked and reloaded.
export interface Route {
  name: string;
  params: Record<string, string>;
  query: URLSearchParams;
}

const patterns: [string, RegExp][] = [
  ['home', /^\/$/],
  ['signin', /^\/signin$/],
  ['devices', /^\/devices$/],
  ['device', /^\/devices\/([0-9a-f-]{36})$/],
  ['enrollment', /^\/enrollment$/],
  ['users', /^\/users$/],
  ['user', /^\/users\/([^/]+)$/],
  ['groups', /^\/groups$/],
  ['group', /^\/groups\/([0-9a-f-]{36})$/],
  ['connector', /^\/tenant\/connector$/],
  ['roles', /^\/tenant\/roles$/],
  ['role', /^\/tenant\/roles\/([^/]+)$/],
  ['sessions', /^\/tenant\/sessions$/],
  ['audit', /^\/tenant\/audit$/],
];

export function parse(url: URL = new URL(location.href)): Route {
  for (const [name, re] of patterns) {
    const m = re.exec(url.pathname);
    if (m) return { name, params: m[1] ? { id: decodeURIComponent(m[1]) } : {}, query: url.searchParams };
  }
  return { name: 'notFound', params: {}, query: url.searchParams };
}

const listeners = new Set<(r: Route) => void>();
export function onRoute(f: (r: Route) => void): void {
  listeners.add(f);
}

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  const r = parse();
  for (const f of listeners) f(r);
}

window.addEventListener('popstate', () => {
  const r = parse();
  for (const f of listeners) f(r);
});

// Links inside the app (<a href="/devices">) navigate without a reload. Shadow DOM hides the
// anchor from event.target, so the composed path is searched.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement);
  if (!a || a.target === '_blank' || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
