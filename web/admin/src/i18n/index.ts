// The admin center's languages: English and Norwegian Bokmål. Every string a person reads comes
// from a catalogue (en.ts is the reference; nb.ts must have the same keys, which the type checks).
// The language is the browser's first one we have, unless the person chose one in the page.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { en, type MessageKey } from './en.js';
import { nb } from './nb.js';

export type Locale = 'en' | 'nb';
export type { MessageKey };

const catalogues: Record<Locale, Record<MessageKey, string>> = { en, nb };
const STORAGE_KEY = 'reach.locale';

function detect(): Locale {
  const chosen = localStorage.getItem(STORAGE_KEY);
  if (chosen === 'en' || chosen === 'nb') return chosen;
  for (const lang of navigator.languages ?? [navigator.language]) {
    const l = lang.toLowerCase();
    if (l.startsWith('nb') || l.startsWith('no') || l.startsWith('nn')) return 'nb';
    if (l.startsWith('en')) return 'en';
  }
  return 'en';
}

let current: Locale = detect();
const listeners = new Set<() => void>();

export function locale(): Locale {
  return current;
}

// The BCP 47 tag for Intl and <html lang>.
export function languageTag(): string {
  return current === 'nb' ? 'nb-NO' : 'en';
}

export function setLocale(l: Locale): void {
  current = l;
  localStorage.setItem(STORAGE_KEY, l);
  document.documentElement.lang = languageTag();
  for (const f of listeners) f();
}

// t('devices.count', {n: 3}): the message with {placeholders} filled in.
export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  let s = catalogues[current][key] ?? en[key] ?? key;
  if (vars) {
    for (const [k, v] of Object.entries(vars)) {
      s = s.split(`{${k}}`).join(typeof v === 'number' ? formatNumber(v) : v);
    }
  }
  return s;
}

// A key chosen at run time (an enum value, an error code): the message, or undefined.
export function tMaybe(key: string, vars?: Record<string, string | number>): string | undefined {
  return key in en ? t(key as MessageKey, vars) : undefined;
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(languageTag()).format(n);
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime()) || d.getTime() <= 0) return '—';
  return new Intl.DateTimeFormat(languageTag(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

// The time of day alone ("06:44"), for what happened today.
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime()) || d.getTime() <= 0) return '—';
  return new Intl.DateTimeFormat(languageTag(), { timeStyle: 'short' }).format(d);
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null) return '—';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  if (h) return t('duration.hm', { h, m });
  if (m) return t('duration.ms', { m, s });
  return t('duration.s', { s });
}

// Re-renders its host when the language changes.
export class LocaleController implements ReactiveController {
  private readonly update = () => this.host.requestUpdate();
  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }
  hostConnected(): void {
    listeners.add(this.update);
  }
  hostDisconnected(): void {
    listeners.delete(this.update);
  }
}

document.documentElement.lang = languageTag();
