// Tenant administration > Remote assistance sessions (history, with filters and CSV export) and
// Audit logs (filters and a detail view).
import { css, html, nothing, type PropertyDeclarations } from 'lit';
import { type Page as ListPage, get, odataString, relative } from '../api.js';
import { formatDateTime, formatDuration, formatTime, t, tMaybe } from '../i18n/index.js';
import type { RaSession } from '../model.js';
import { Page, badge, errorBar, select, type BadgeColor } from '../components/ui.js';
import { icon } from '../icons.js';
import { sessionStatus } from './device.js';

type Field = HTMLElement & { value: string };

const STATES = ['requested', 'accepted', 'allowed', 'active', 'ended', 'declined', 'denied', 'expired', 'failed'];

// yyyy-mm-dd from a date input → the ISO date-time the hub takes (local midnight).
function dayStart(v: string, plusDays = 0): string | undefined {
  if (!v) return undefined;
  const d = new Date(`${v}T00:00:00`);
  if (Number.isNaN(d.getTime())) return undefined;
  d.setDate(d.getDate() + plusDays);
  return d.toISOString();
}

function csvCell(v: unknown): string {
  const s = v == null ? '' : String(v);
  // Quotes doubled; a leading =, +, - or @ is neutralised so a spreadsheet does not run it.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return `"${safe.replace(/"/g, '""')}"`;
}

// A date field under its label, as Fluent's text inputs are.
const dateField = (label: string, id: string) =>
  html`<fluent-field label-position="above"><label slot="label">${label}</label><input slot="input" id=${id} type="date" /></fluent-field>`;

// How a session ended, as a status badge's colour: calm for what goes as planned (running,
// ended), amber for the user's no, red only for a failure or a lost connection.
function outcomeColor(s: RaSession): BadgeColor {
  switch (s.state) {
    case 'requested':
    case 'accepted':
    case 'allowed':
      return 'brand';
    case 'active':
      return 'success';
    case 'ended':
      return s.endReason === 'relayLost' || s.endReason === 'peerTimeout' ? 'warning' : 'informative';
    case 'declined':
    case 'denied':
      return 'warning';
    case 'failed':
      return 'danger';
    default:
      return 'subtle';
  }
}

// Whether the device signed the user's answer (its key, not the hub's word): shown under the
// answers once there is one to sign.
function receiptLine(s: RaSession) {
  const r = s.consentReceipt;
  if (!r || s.userAllowed == null) return nothing;
  if (r.problem) return html`<div class="receipt">${badge(t('history.untrusted', { why: r.problem }), 'danger', 'dismissCircleSmall')}</div>`;
  if (r.signedByDevice) return html`<div class="receipt">${badge(t('history.signed'), 'success', 'checkmarkCircleSmall')}</div>`;
  return html`<div class="receipt">${badge(t('history.unsigned'), 'subtle')}</div>`;
}

const resultBadge = (result: string) =>
  result === 'success' ? badge(t('audit.success'), 'success', 'checkmarkCircleSmall') : badge(t('audit.failure'), 'danger', 'dismissCircleSmall');

const pagerStyles = css`
  .receipt {
    margin-top: 4px;
  }
  /* The filters and Search on one row at 1280 px. */
  .toolbar fluent-text-input {
    width: 8.5em;
  }
  .toolbar fluent-field.select {
    width: 160px;
  }
  .toolbar input[type='date'] {
    width: 140px;
  }
  .pager {
    display: flex;
    gap: 8px;
    margin-top: 12px;
  }
`;

// A history: filters in a form, newest first, a page at a time ("Load more").
abstract class PagedHistory<T> extends Page {
  static properties: PropertyDeclarations = {
    generation: {},
    rows: { state: true },
    next: { state: true },
    error: { state: true },
    loading: { state: true },
  };
  declare generation: number;
  declare rows: T[];
  declare next: string | undefined;
  declare error: unknown;
  declare loading: boolean;

  constructor() {
    super();
    this.generation = 0;
    this.rows = [];
    this.next = undefined;
    this.error = undefined;
    this.loading = false;
  }

  protected abstract request(): string;

  protected updated(changed: Map<string, unknown>): void {
    if (changed.has('generation')) void this.search();
  }

  protected field(id: string): string {
    return ((this.renderRoot.querySelector(id) as Field | null)?.value ?? '').trim();
  }

  // PATH?$top=…&$filter=(the parts, and-ed)&from=…&to=… (the form's dates, whole days).
  protected query(path: string, parts: string[], top: number): string {
    const q = new URLSearchParams({ $top: String(top) });
    if (parts.length) q.set('$filter', parts.join(' and '));
    const from = dayStart(this.field('#from'));
    const to = dayStart(this.field('#to'), 1);
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    return `${path}?${q.toString()}`;
  }

  protected async search(request = this.request(), append = false): Promise<void> {
    this.loading = true;
    try {
      const page = await get<ListPage<T>>(request);
      this.rows = append ? [...this.rows, ...page.value] : page.value;
      this.next = page['@odata.nextLink'] ? relative(page['@odata.nextLink']) : undefined;
      this.error = undefined;
    } catch (e) {
      this.error = e;
    } finally {
      this.loading = false;
    }
  }
}

export class ReachHistory extends PagedHistory<RaSession> {
  static styles = [...Page.styles, pagerStyles];
  static properties = { state: { state: true } };
  declare state: string;

  constructor() {
    super();
    this.state = '';
  }

  protected request(top = 100): string {
    const v = (id: string) => this.field(id);
    const parts: string[] = [];
    const device = v('#device');
    const requester = v('#requester');
    if (device) parts.push(`startswith(deviceName,${odataString(device)})`);
    if (requester) parts.push(`startswith(requesterUserPrincipalName,${odataString(requester)})`);
    if (this.state) parts.push(`state eq ${odataString(this.state)}`);
    return this.query('/api/remoteAssistanceSessions', parts, top);
  }

  private async exportCsv(): Promise<void> {
    try {
      const all: RaSession[] = [];
      let next: string | undefined = this.request(1000);
      while (next) {
        const page: ListPage<RaSession> = await get<ListPage<RaSession>>(next);
        all.push(...page.value);
        next = page['@odata.nextLink'] ? relative(page['@odata.nextLink']) : undefined;
      }
      const head = ['id', 'deviceId', 'deviceName', 'requester', 'sessionCode', 'state', 'createdDateTime', 'acceptedDateTime', 'allowedDateTime', 'viewOnly', 'connectedDateTime', 'endedDateTime', 'endReason', 'userAccepted', 'userAllowed', 'durationSeconds', 'consentSignedByDevice', 'consentReceiptProblem', 'decisionReceipt', 'endReceipt'];
      const json = (v: unknown) => (v == null ? '' : JSON.stringify(v));
      const lines = [head.join(',')].concat(
        all.map((s) =>
          [s.id, s.deviceId, s.deviceName, s.requester.userPrincipalName, s.sessionCode, s.state, s.createdDateTime, s.acceptedDateTime, s.allowedDateTime, s.viewOnly, s.connectedDateTime, s.endedDateTime, s.endReason, s.userAccepted, s.userAllowed, s.durationSeconds,
            s.consentReceipt?.signedByDevice, s.consentReceipt?.problem, json(s.consentReceipt?.decision), json(s.consentReceipt?.end)]
            .map(csvCell)
            .join(','),
        ),
      );
      const blob = new Blob([lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `remote-assistance-sessions-${new Date().toISOString().slice(0, 10)}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (e) {
      this.error = e;
    }
  }

  render() {
    return html`<p class="muted">${t('nav.tenant')}</p>
      <h1>${t('history.title')}</h1>
      <div class="actions" role="toolbar" aria-label=${t('history.title')}>
        <fluent-button @click=${() => this.exportCsv()}>${icon('arrowDownload', 'start')}${t('history.export')}</fluent-button>
      </div>
      <form class="toolbar" role="search" @submit=${(e: Event) => (e.preventDefault(), this.search())}>
        <fluent-text-input id="device">${t('history.device')}</fluent-text-input>
        <fluent-text-input id="requester">${t('history.requester')}</fluent-text-input>
        ${select(t('history.outcome'), this.state, [['', t('devices.filter.all')], ...STATES.map((s): [string, string] => [s, tMaybe(`state.${s}`) ?? s])], (v) => (this.state = v))}
        ${dateField(t('history.from'), 'from')} ${dateField(t('history.to'), 'to')}
        <fluent-button appearance="primary" type="submit">${icon('search', 'start')}${t('common.search')}</fluent-button>
      </form>
      ${errorBar(this.error)}
      <table aria-label=${t('history.title')} aria-busy=${String(this.loading)}>
        <thead>
          <tr>
            <th scope="col">${t('ra.requested')}</th>
            <th scope="col">${t('history.device')}</th>
            <th scope="col">${t('history.requester')}</th>
            <th scope="col">${t('ra.code')}</th>
            <th scope="col">${t('history.consent')}</th>
            <th scope="col">${t('ra.outcome')}</th>
            <th scope="col">${t('ra.duration')}</th>
          </tr>
        </thead>
        <tbody>
          ${this.rows.map(
            (s) => html`<tr>
              <td>${formatDateTime(s.createdDateTime)}</td>
              <td><a href="/devices/${s.deviceId}">${s.deviceName}</a></td>
              <td>${s.requester.userPrincipalName}</td>
              <td>${s.sessionCode}</td>
              <td>
                ${s.userAccepted == null ? '—' : s.userAccepted ? t('history.accepted') : t('history.declined')}${s.userAllowed == null
                  ? nothing
                  : html`, ${!s.userAllowed
                      ? t('history.denied')
                      : s.viewOnlyFromDateTime
                        ? t('history.allowedThenViewOnly', { time: formatTime(s.viewOnlyFromDateTime) })
                        : s.viewOnly
                          ? t('history.allowedViewOnly')
                          : t('history.allowed')}`}
                ${receiptLine(s)}
              </td>
              <td>${badge(sessionStatus(s), outcomeColor(s))}</td>
              <td>${formatDuration(s.durationSeconds)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${!this.loading && !this.rows.length ? html`<p>${t('history.none')}</p>` : nothing}
      <div class="pager">${this.next ? html`<fluent-button @click=${() => this.search(this.next, true)}>${t('common.loadMore')}</fluent-button>` : nothing}</div>`;
  }
}
customElements.define('reach-history', ReachHistory);

interface AuditEvent {
  id: string;
  activityDateTime: string;
  activity: string;
  result: string;
  actor: { type: string; id: string | null; name: string | null; ipAddress: string };
  target: { type: string | null; id: string | null; name: string | null };
  details: unknown;
}

// What happened, in the page's language: the activity's phrase (a session event's own one when
// there is one), else its API name.
function activityText(e: AuditEvent): string {
  const event = (e.details as { event?: unknown } | null)?.event;
  const specific = typeof event === 'string' ? tMaybe(`audit.activity.${e.activity}.${event}`) : undefined;
  return specific ?? tMaybe(`audit.activity.${e.activity}`) ?? e.activity;
}

// Who did it: a person or device by name; the hub's own command line in words.
function actorText(e: AuditEvent): string {
  if (e.actor.type === 'system' && e.actor.name === 'reach-hub command line') return t('audit.actor.commandLine');
  return e.actor.name ?? tMaybe(`audit.actorType.${e.actor.type}`) ?? e.actor.type;
}

const typeText = (prefix: 'actorType' | 'targetType', type: string): string => tMaybe(`audit.${prefix}.${type}`) ?? type;

export class ReachAudit extends PagedHistory<AuditEvent> {
  static styles = [...Page.styles, pagerStyles, css`
    pre {
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
  `];
  static properties = { result: { state: true }, open: { state: true } };
  declare result: string;
  declare open: AuditEvent | undefined;

  constructor() {
    super();
    this.result = '';
    this.open = undefined;
  }

  protected request(): string {
    const v = (id: string) => this.field(id);
    const parts: string[] = [];
    const activity = v('#activity');
    const actor = v('#actor');
    const target = v('#target');
    if (activity) parts.push(`startswith(activity,${odataString(activity)})`);
    if (actor) parts.push(`startswith(actor/name,${odataString(actor)})`);
    if (target) parts.push(`(startswith(target/name,${odataString(target)}) or target/id eq ${odataString(target)})`);
    if (this.result) parts.push(`result eq ${odataString(this.result)}`);
    return this.query('/api/audit', parts, 100);
  }

  render() {
    const o = this.open;
    return html`<p class="muted">${t('nav.tenant')}</p>
      <h1>${t('audit.title')}</h1>
      <form class="toolbar" role="search" @submit=${(e: Event) => (e.preventDefault(), this.search())}>
        <fluent-text-input id="activity">${t('audit.activity')}</fluent-text-input>
        <fluent-text-input id="actor">${t('audit.actor')}</fluent-text-input>
        <fluent-text-input id="target">${t('audit.target')}</fluent-text-input>
        ${select(t('audit.result'), this.result, [['', t('devices.filter.all')], ['success', t('audit.success')], ['failure', t('audit.failure')]], (v) => (this.result = v))}
        ${dateField(t('history.from'), 'from')} ${dateField(t('history.to'), 'to')}
        <fluent-button appearance="primary" type="submit">${icon('search', 'start')}${t('common.search')}</fluent-button>
      </form>
      ${errorBar(this.error)}
      ${o
        ? html`<section class="card" aria-labelledby="detail-h">
            <h2 id="detail-h">${t('audit.detail')}: ${activityText(o)}</h2>
            <dl class="essentials">
              <div><dt>${t('audit.apiName')}</dt><dd><code>${o.activity}</code></dd></div>
              <div><dt>${t('audit.date')}</dt><dd>${formatDateTime(o.activityDateTime)}</dd></div>
              <div><dt>${t('audit.result')}</dt><dd>${o.result === 'success' ? t('audit.success') : t('audit.failure')}</dd></div>
              <div><dt>${t('audit.actor')}</dt><dd>${actorText(o)} (${typeText('actorType', o.actor.type)})</dd></div>
              <div><dt>${t('audit.ip')}</dt><dd>${o.actor.ipAddress || '—'}</dd></div>
              <div><dt>${t('audit.target')}</dt><dd>${o.target.name ?? '—'} ${o.target.type ? `(${typeText('targetType', o.target.type)})` : ''}</dd></div>
              <div><dt>${t('audit.targetId')}</dt><dd><code>${o.target.id ?? '—'}</code></dd></div>
            </dl>
            <h3>${t('audit.details')}</h3>
            <pre>${JSON.stringify(o.details, null, 2)}</pre>
            <fluent-button @click=${() => (this.open = undefined)}>${t('common.close')}</fluent-button>
          </section>`
        : nothing}
      <table aria-label=${t('audit.title')} aria-busy=${String(this.loading)}>
        <thead>
          <tr>
            <th scope="col">${t('audit.date')}</th>
            <th scope="col">${t('audit.activity')}</th>
            <th scope="col">${t('audit.result')}</th>
            <th scope="col">${t('audit.actor')}</th>
            <th scope="col">${t('audit.target')}</th>
            <th scope="col"><span class="sr-only">${t('audit.detail')}</span></th>
          </tr>
        </thead>
        <tbody>
          ${this.rows.map(
            (e) => html`<tr>
              <td>${formatDateTime(e.activityDateTime)}</td>
              <td title=${e.activity}>${activityText(e)}</td>
              <td>${resultBadge(e.result)}</td>
              <td>${actorText(e)}</td>
              <td>${e.target.name ?? '—'}</td>
              <td><fluent-button size="small" @click=${() => (this.open = e)}>${t('audit.show')}</fluent-button></td>
            </tr>`,
          )}
        </tbody>
      </table>
      <div class="pager">${this.next ? html`<fluent-button @click=${() => this.search(this.next, true)}>${t('common.loadMore')}</fluent-button>` : nothing}</div>`;
  }
}
customElements.define('reach-audit', ReachAudit);
