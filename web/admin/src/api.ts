// The hub's API as the admin center uses it: same-origin requests with the sign-in cookie, JSON
// in and out, and errors turned into sentences a person can act on (never raw JSON). A 401 means
// the session is over (the app shows the sign-in page); a request that cannot reach the hub at
// all is reported to the app, which shows it and checks until the hub is back.
import { t, tMaybe, type MessageKey } from './i18n/index.js';

export class ApiError extends Error {
  constructor(
    readonly status: number, // 0: the hub could not be reached
    readonly code: string,
    readonly serverMessage: string,
    readonly retryAfter?: number,
  ) {
    super(serverMessage || code);
  }

  // The sentence to show.
  get sentence(): string {
    const vars = { seconds: this.retryAfter ?? 0, detail: this.serverMessage };
    if (this.status === 429 && this.retryAfter) return t('error.tooManyRequestsWait', vars);
    const known = tMaybe(`error.${this.code}`, vars);
    if (known) return known;
    const byStatus: Record<number, MessageKey> = {
      0: 'error.network',
      400: 'error.invalidRequest',
      401: 'error.unauthenticated',
      403: 'error.accessDenied',
      404: 'error.itemNotFound',
      409: 'error.conflict',
      413: 'error.requestTooLarge',
      429: 'error.tooManyRequests',
      502: 'error.partnerError',
    };
    const key = byStatus[this.status] ?? 'error.generalException';
    return t(key, vars);
  }
}

type Listener = (e: 'unauthenticated' | 'offline' | 'online') => void;
const listeners = new Set<Listener>();
export function onApiEvent(f: Listener): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}
function emit(e: 'unauthenticated' | 'offline' | 'online'): void {
  for (const f of listeners) f(e);
}

let offline = false;

// The hub's clock less this browser's, from the Date of the hub's answers (to the second: the
// middle of that second is taken). Deadlines the hub sets are counted down on the hub's time, so
// a browser whose clock is off still shows the right minutes left.
let clockOffset = 0;
export function hubNow(): number {
  return Date.now() + clockOffset;
}
function readClock(res: Response, sentAt: number): void {
  const date = Date.parse(res.headers.get('Date') ?? '');
  if (Number.isNaN(date)) return;
  const receivedAt = Date.now();
  clockOffset = date + 500 - (sentAt + receivedAt) / 2;
}

export async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  opts: { quiet401?: boolean } = {},
): Promise<T> {
  let res: Response;
  const sentAt = Date.now();
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { Accept: 'application/json' } : { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    if (!offline) {
      offline = true;
      emit('offline');
    }
    throw new ApiError(0, 'network', '');
  }
  if (offline) {
    offline = false;
    emit('online');
  }
  readClock(res, sentAt);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    const retry = Number(res.headers.get('Retry-After') ?? '') || undefined;
    if (res.status === 401 && !opts.quiet401) emit('unauthenticated');
    throw new ApiError(res.status, err?.code ?? `http${res.status}`, err?.message ?? '', retry);
  }
  return json as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? undefined);
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const del = (path: string) => api<void>('DELETE', path);

// Graph lists: value + @odata.nextLink (absolute URL: only its path and query are used).
export interface Page<T> {
  value: T[];
  '@odata.nextLink'?: string;
  '@odata.count'?: number;
}
export function relative(link: string): string {
  const u = new URL(link, location.origin);
  return u.pathname + u.search;
}

// Every page of a list (for small lists: roles, groups, members).
export async function all<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = path;
  while (next) {
    const page: Page<T> = await get<Page<T>>(next);
    out.push(...page.value);
    next = page['@odata.nextLink'] ? relative(page['@odata.nextLink']) : undefined;
  }
  return out;
}

// An OData string literal: quotes doubled.
export function odataString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export async function checkHealth(): Promise<boolean> {
  try {
    const r = await fetch('/api/health', { credentials: 'same-origin' });
    if (offline && r.ok) {
      offline = false;
      emit('online');
    }
    return r.ok;
  } catch {
    return false;
  }
}
