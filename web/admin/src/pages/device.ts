// A device: its essentials, the action bar (… More > New remote assistance session), the remote
// assistance status as it changes (pushed by the hub over /api/events, never polled), Start
// remote assistance, notes and ownership, a custom notification, and the device's history.
import { css, html, nothing } from 'lit';
import { ApiError, type Page as ListPage, get, hubNow, patch, post } from '../api.js';
import { formatDateTime, formatDuration, formatTime, t, tMaybe } from '../i18n/index.js';
import { OWNERSHIP, type ManagedDevice, type Partner, type RaSession } from '../model.js';
import { A, can, currentUser } from '../permissions.js';
import { Page, confirmDialog, doneBar, errorBar, errorText, messageBar, select } from '../components/ui.js';
import { icon } from '../icons.js';

type DialogEl = HTMLElement & { show(): void; hide(): void };
type Field = HTMLElement & { value: string };

const OPEN = ['requested', 'accepted', 'allowed', 'active'];
const STEPS = ['requested', 'accepted', 'waiting', 'connected', 'ended'] as const;

// How far a session got, on the five steps the page shows.
// Accepted (or allowed) by the user: waiting for the supporter. Declined, denied, expired and
// failed sessions are not on the steps (-1): their status says what happened.
const STEP_OF: Record<string, number> = { requested: 0, accepted: 2, allowed: 2, active: 3, ended: 4 };
function stepOf(s: RaSession): number {
  return STEP_OF[s.state] ?? -1;
}

// Seconds the user has left to allow a session they are being asked about (null: not asked).
function answerLeft(s: RaSession, now: number): number | null {
  if (s.state !== 'accepted' || !s.answerDueDateTime) return null;
  const due = Date.parse(s.answerDueDateTime);
  // The hub's time is known to about half a second: never more than the user was given.
  const given = s.askedDateTime ? Math.round((due - Date.parse(s.askedDateTime)) / 1000) : Infinity;
  return Math.min(given, Math.max(0, Math.ceil((due - now) / 1000)));
}

function minutesSeconds(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export function sessionStatus(s: RaSession, now = hubNow()): string {
  const reason = s.endReason ? (tMaybe(`endReason.${s.endReason}`) ?? s.endReason) : '';
  switch (s.state) {
    case 'requested':
      return t('ra.status.requested');
    case 'accepted': {
      const left = answerLeft(s, now);
      if (left === null) return t('ra.status.accepted');
      return left > 0 ? t('ra.status.asking', { time: minutesSeconds(left) }) : t('ra.status.askingOver');
    }
    case 'allowed':
      return s.viewOnly ? t('ra.status.allowedViewOnly') : t('ra.status.allowed');
    case 'active':
      return s.viewOnly ? t('ra.status.activeViewOnly') : t('ra.status.active');
    case 'ended':
      // The supporter who left is, on the requester's own screen, the one reading this.
      if (s.endReason === 'supporterLeft' && s.requester.id === currentUser()?.id) return t('ra.status.endedByYou');
      return reason ? t('ra.status.endedReason', { reason }) : t('ra.status.ended');
    case 'declined':
      return t('ra.status.declined');
    case 'denied':
      return t('ra.status.denied');
    case 'expired':
      return t('ra.status.expired');
    case 'failed':
      return reason ? t('ra.status.failedReason', { reason }) : t('ra.status.failed');
    default:
      return s.state;
  }
}

export class ReachDevice extends Page {
  static styles = [
    ...Page.styles,
    css`
      .actionbar {
        display: flex;
        gap: 4px;
        border-bottom: 1px solid var(--colorNeutralStroke2);
        padding-bottom: 8px;
        margin-bottom: 16px;
      }
      ol.steps {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
        list-style: none;
        padding: 0;
        margin: 12px 0;
      }
      ol.steps li {
        padding: 4px 12px;
        border-radius: 999px;
        border: 1px solid var(--colorNeutralStroke1);
        color: var(--colorNeutralForeground3);
      }
      ol.steps li.done {
        color: var(--colorNeutralForeground1);
        border-color: var(--colorBrandStroke1);
      }
      ol.steps li[aria-current='step'] {
        background: var(--colorBrandBackground);
        color: var(--colorNeutralForegroundOnBrand);
        border-color: var(--colorBrandBackground);
        font-weight: var(--fontWeightSemibold);
      }
      .status {
        font-size: var(--fontSizeBase400);
        font-weight: var(--fontWeightSemibold);
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(320px, 1fr));
        gap: 16px;
      }
      fluent-textarea {
        width: 100%;
      }
    `,
  ];
  static properties = {
    deviceId: {},
    generation: {},
    device: { state: true },
    sessions: { state: true },
    partner: { state: true },
    error: { state: true },
    actionError: { state: true },
    done: { state: true },
    busy: { state: true },
    live: { state: true },
    now: { state: true },
  };
  declare deviceId: string;
  declare generation: number;
  declare device: ManagedDevice | undefined;
  declare sessions: RaSession[];
  declare partner: Partner | undefined;
  declare error: unknown;
  declare actionError: unknown;
  declare done: string | undefined;
  declare busy: boolean;
  declare live: boolean;
  declare now: number; // the clock the countdown of "waiting for the user to allow" reads
  private ticker?: number;
  private socket?: WebSocket;
  private retry?: number;
  private loadSeq = 0;

  constructor() {
    super();
    this.deviceId = '';
    this.generation = 0;
    this.device = undefined;
    this.sessions = [];
    this.partner = undefined;
    this.error = undefined;
    this.actionError = undefined;
    this.done = undefined;
    this.busy = false;
    this.live = false;
    this.now = hubNow();
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    this.closeSocket();
    window.clearInterval(this.ticker);
    this.ticker = undefined;
  }

  protected updated(changed: Map<string, unknown>): void {
    if (changed.has('deviceId')) {
      this.device = undefined;
      this.sessions = [];
      this.actionError = undefined;
      this.done = undefined;
      this.closeSocket();
      this.watch();
    }
    if (changed.has('deviceId') || changed.has('generation')) void this.load();
    // While the user is being asked, the status counts down each second.
    const asking = this.sessions[0] && answerLeft(this.sessions[0], hubNow()) !== null;
    if (asking && this.ticker === undefined) {
      this.now = hubNow();
      this.ticker = window.setInterval(() => (this.now = hubNow()), 1000);
    } else if (!asking && this.ticker !== undefined) {
      window.clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  // The hub pushes "deviceChanged" when this device's session (or anything else of it) changes.
  private watch(): void {
    if (!this.deviceId || !this.isConnected) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/api/events?deviceId=${encodeURIComponent(this.deviceId)}`);
    this.socket = ws;
    ws.onopen = () => {
      this.live = true;
      void this.load(); // whatever changed while the socket was away
    };
    ws.onmessage = () => void this.load();
    ws.onclose = () => {
      if (this.socket !== ws) return;
      this.live = false;
      this.retry = window.setTimeout(() => this.watch(), 3000);
    };
  }

  private closeSocket(): void {
    window.clearTimeout(this.retry);
    const ws = this.socket;
    this.socket = undefined;
    this.live = false;
    ws?.close();
  }

  private async load(): Promise<void> {
    const seq = ++this.loadSeq;
    try {
      const id = encodeURIComponent(this.deviceId);
      const [device, sessions, partner] = await Promise.all([
        get<ManagedDevice>(`/v1.0/deviceManagement/managedDevices/${id}`),
        can(A.raRead) ? get<ListPage<RaSession>>(`/api/remoteAssistanceSessions?deviceId=${id}&$top=20`) : Promise.resolve({ value: [] }),
        can(A.raRead) && !this.partner
          ? get<ListPage<Partner>>('/v1.0/deviceManagement/remoteAssistancePartners').then((p) => p.value[0])
          : Promise.resolve(this.partner),
      ]);
      if (seq !== this.loadSeq) return;
      this.device = device;
      this.sessions = sessions.value;
      this.partner = partner;
      this.error = undefined;
    } catch (e) {
      if (seq === this.loadSeq) this.error = e;
    }
  }

  private async requestAssistance(): Promise<void> {
    const d = this.device;
    if (!d) return;
    const yes = await confirmDialog().ask({
      title: t('device.newSessionTitle'),
      text: t('device.newSessionConfirm', { device: d.deviceName, user: d.userDisplayName ?? d.userPrincipalName ?? '—' }),
    });
    if (!yes) return;
    this.busy = true;
    this.actionError = undefined;
    this.done = undefined;
    try {
      await post(`/v1.0/deviceManagement/managedDevices/${encodeURIComponent(d.id)}/requestRemoteAssistance`);
      await this.load();
    } catch (e) {
      this.actionError = e;
    } finally {
      this.busy = false;
    }
  }

  // A request still waiting: resend it (a new session and notification) or cancel it.
  private async settleRequest(session: RaSession, action: 'resend' | 'cancel'): Promise<void> {
    if (action === 'cancel') {
      const yes = await confirmDialog().ask({ title: t('ra.cancelTitle'), text: t('ra.cancelConfirm') });
      if (!yes) return;
    }
    this.busy = true;
    this.actionError = undefined;
    this.done = undefined;
    try {
      await post(`/api/remoteAssistanceSessions/${encodeURIComponent(session.id)}/${action}`);
      this.done = action === 'resend' ? t('ra.resent') : t('ra.cancelled');
      await this.load();
    } catch (e) {
      this.actionError = e;
    } finally {
      this.busy = false;
    }
  }

  // True when the hub took the change.
  private async save(body: Record<string, unknown>, doneText: string): Promise<boolean> {
    this.actionError = undefined;
    this.done = undefined;
    try {
      this.device = await patch<ManagedDevice>(`/v1.0/deviceManagement/managedDevices/${encodeURIComponent(this.deviceId)}`, body);
      this.done = doneText;
      return true;
    } catch (e) {
      this.actionError = e;
      return false;
    }
  }

  private async sendNotification(): Promise<void> {
    const root = this.renderRoot;
    const title = (root.querySelector('#ntitle') as Field).value.trim();
    const text = (root.querySelector('#nbody') as Field).value.trim();
    const dialog = root.querySelector('#notify') as DialogEl;
    try {
      await post(`/beta/deviceManagement/managedDevices/${encodeURIComponent(this.deviceId)}/sendCustomNotificationToCompanyPortal`, {
        notificationTitle: title,
        notificationBody: text,
      });
      dialog.hide();
      this.actionError = undefined;
      this.done = t('device.notificationSent');
    } catch (e) {
      this.notifyError = e;
      this.requestUpdate();
    }
  }
  private notifyError: unknown;

  private renderRefusal() {
    const e = this.actionError;
    if (!e) return nothing;
    const portal =
      e instanceof ApiError && e.code === 'userlessDeviceNotSupported' && this.partner?.onboardingUrl
        ? html` <a href=${this.partner.onboardingUrl.replace(/\/$/, '') + '/'} target="_blank" rel="noopener noreferrer">${t('device.openRelayPortal')}</a>`
        : nothing;
    const fix =
      e instanceof ApiError && (e.code === 'remoteAssistanceConnectorNotOnboarded' || e.code === 'remoteAssistanceConnectorNeedsReauthorization') && can(A.raUpdate)
        ? html` <a href="/tenant/connector">${t('device.openConnector')}</a>`
        : nothing;
    return messageBar('error', html`${errorText(e)}${portal}${fix}`);
  }

  // Whether the device can take a session at all (the hub says, with the refusal's code).
  private eligible(): boolean {
    return this.device?.remoteAssistanceEligibility?.eligible !== false;
  }

  private ineligibleText(): string {
    const reason = this.device?.remoteAssistanceEligibility?.reason ?? '';
    return tMaybe(`error.${reason}`) ?? reason;
  }

  // The status; while the user is being asked, its countdown is a timer, which a screen reader
  // reads when asked rather than every second.
  private statusText(s: RaSession) {
    const text = sessionStatus(s, this.now);
    const left = answerLeft(s, this.now);
    if (!left) return text;
    const time = minutesSeconds(left);
    const at = text.indexOf(time);
    if (at < 0) return text;
    return html`${text.slice(0, at)}<span role="timer">${time}</span>${text.slice(at + time.length)}`;
  }

  private renderAssistance() {
    if (!can(A.raRead)) return nothing;
    const current = this.sessions[0];
    const d = this.device!;
    const link = d.remoteAssistanceSessionUrl;
    const open = current && OPEN.includes(current.state);
    const step = current ? stepOf(current) : -1;
    // The user is being asked: the supporter is connected, and a screen reader is not told
    // every second of the countdown.
    const asking = current ? answerLeft(current, this.now) !== null : false;
    return html`<section class="card" aria-labelledby="ra-h">
      <h2 id="ra-h">${t('device.remoteAssistance')}</h2>
      ${!this.eligible()
        ? html`<p role="note">${t('device.notEligible', { reason: this.ineligibleText() })}${this.device?.remoteAssistanceEligibility?.reason === 'userlessDeviceNotSupported' && this.partner?.onboardingUrl
            ? html` <a href=${this.partner.onboardingUrl.replace(/\/$/, '') + '/'} target="_blank" rel="noopener noreferrer">${t('device.openRelayPortal')}</a>`
            : nothing}</p>`
        : nothing}
      ${!current
        ? this.eligible()
          ? html`<p>${t('device.noSession')}</p>`
          : nothing
        : html`<p class="status" role="status" aria-live="polite">${this.statusText(current)}</p>
            ${step >= 0
              ? html`<ol class="steps" aria-label=${t('device.progress')}>
                  ${STEPS.map(
                    (s, i) =>
                      html`<li class=${i <= step ? 'done' : ''} aria-current=${i === step ? 'step' : 'false'}>${t(asking && s === 'waiting' ? 'ra.step.asking' : `ra.step.${s}`)}</li>`,
                  )}
                </ol>`
              : nothing}
            <dl class="essentials">
              <div><dt>${t('ra.code')}</dt><dd>${current.sessionCode}</dd></div>
              <div><dt>${t('ra.requestedBy')}</dt><dd>${current.requester.userPrincipalName}</dd></div>
              <div><dt>${t('ra.requested')}</dt><dd>${formatDateTime(current.createdDateTime)}</dd></div>
              ${current.endedDateTime
                ? html`<div><dt>${t('ra.ended')}</dt><dd>${formatDateTime(current.endedDateTime)}</dd></div>
                    <div><dt>${t('ra.duration')}</dt><dd>${formatDuration(current.durationSeconds)}</dd></div>`
                : html`<div><dt>${t('ra.validUntil')}</dt><dd>${formatDateTime(current.validUntilDateTime)}</dd></div>`}
            </dl>`}
      ${open && current.state !== 'active' && can(A.raRequest)
        ? html`${current.state === 'requested'
              ? html`<p>${t('ra.pendingSince', { time: formatTime(current.createdDateTime) })}</p>`
              : nothing}
            <div class="actions">
              ${current.state === 'requested'
                ? html`<fluent-button ?disabled=${this.busy} @click=${() => this.settleRequest(current, 'resend')}>${t('ra.resend')}</fluent-button>`
                : nothing}
              <fluent-button ?disabled=${this.busy} @click=${() => this.settleRequest(current, 'cancel')}>${t('ra.cancel')}</fluent-button>
            </div>`
        : nothing}
      ${open && link && current.state !== 'active' && !asking
        ? html`<p>
            <fluent-anchor-button appearance="primary" href=${`/api/managedDevices/${encodeURIComponent(d.id)}/remoteAssistanceViewer`} target="_blank" rel="noopener noreferrer">${icon('desktopCursor', 'start')}${t('device.start')}</fluent-anchor-button>
          </p>`
        : open && (current.state === 'active' || asking)
          ? nothing // the session's one supporter is connected: there is nothing to start
          : open
            ? html`<p class="muted">${t('device.linkOnlyForRequester')}</p>`
            : nothing}
      ${d.remoteAssistanceSessionErrorDetails && !open ? html`<p class="muted">${t('device.lastError', { text: d.remoteAssistanceSessionErrorDetails })}</p>` : nothing}
      <p class="muted">${this.live ? t('device.live') : t('device.notLive')}</p>
    </section>`;
  }

  private renderHistory() {
    if (!can(A.raRead) || !this.sessions.length) return nothing;
    return html`<h2>${t('device.history')}</h2>
      <table aria-label=${t('device.history')}>
        <thead>
          <tr>
            <th scope="col">${t('ra.requested')}</th>
            <th scope="col">${t('ra.requestedBy')}</th>
            <th scope="col">${t('ra.code')}</th>
            <th scope="col">${t('ra.outcome')}</th>
            <th scope="col">${t('ra.duration')}</th>
          </tr>
        </thead>
        <tbody>
          ${this.sessions.map(
            (s) => html`<tr>
              <td>${formatDateTime(s.createdDateTime)}</td>
              <td>${s.requester.userPrincipalName}</td>
              <td>${s.sessionCode}</td>
              <td>${sessionStatus(s)}</td>
              <td>${formatDuration(s.durationSeconds)}</td>
            </tr>`,
          )}
        </tbody>
      </table>`;
  }

  render() {
    if (this.error && !this.device) return html`<h1>${t('device.title')}</h1>${errorBar(this.error)}`;
    const d = this.device;
    if (!d) return html`<fluent-spinner aria-label=${t('common.loading')}></fluent-spinner>`;
    const e = (prefix: string, v: string | null) => (v ? (tMaybe(`${prefix}.${v}`) ?? v) : '—');
    const canUpdate = can(A.devicesUpdate);
    return html`<p class="muted"><a href="/devices">${t('nav.allDevices')}</a> ›</p>
      <h1>${d.deviceName}</h1>
      <div class="actionbar" role="toolbar" aria-label=${t('device.actions')}>
        <fluent-button appearance="subtle" @click=${() => this.load()}>${icon('arrowClockwise', 'start')}${t('common.refresh')}</fluent-button>
        ${can(A.sendNotification)
          ? html`<fluent-button
              appearance="subtle"
              @click=${() => {
                this.notifyError = undefined;
                (this.renderRoot.querySelector('#notify') as DialogEl).show();
              }}
              >${t('device.sendNotification')}</fluent-button
            >`
          : nothing}
        ${can(A.raRequest)
          ? html`<fluent-menu>
              <fluent-menu-button slot="trigger" appearance="subtle" aria-label=${t('device.more')}>${icon('moreHorizontal', 'start')}${t('device.moreShort')}</fluent-menu-button>
              <fluent-menu-list>
                <fluent-menu-item ?disabled=${this.busy || !this.eligible()} @change=${() => this.requestAssistance()}>${t('device.newSession')}</fluent-menu-item>
              </fluent-menu-list>
            </fluent-menu>`
          : nothing}
      </div>
      ${errorBar(this.error)} ${this.renderRefusal()} ${doneBar(this.done)} ${this.renderAssistance()}
      <section class="card" aria-labelledby="ess-h">
        <h2 id="ess-h">${t('device.essentials')}</h2>
        <dl class="essentials">
          <div><dt>${t('devices.col.deviceName')}</dt><dd>${d.deviceName}</dd></div>
          <div><dt>${t('devices.col.primaryUser')}</dt><dd>${d.userDisplayName ? `${d.userDisplayName} (${d.userPrincipalName})` : '—'}</dd></div>
          <div><dt>${t('devices.col.managedBy')}</dt><dd>${e('agent', d.managementAgent)}</dd></div>
          <div><dt>${t('devices.col.ownership')}</dt><dd>${e('ownership', d.managedDeviceOwnerType)}</dd></div>
          <div><dt>${t('devices.col.compliance')}</dt><dd>${e('compliance', d.complianceState)}</dd></div>
          <div><dt>${t('devices.col.os')}</dt><dd>${d.operatingSystem}</dd></div>
          <div><dt>${t('devices.col.osVersion')}</dt><dd>${d.osVersion ?? '—'}</dd></div>
          <div><dt>${t('devices.col.model')}</dt><dd>${d.model ?? '—'}</dd></div>
          <div><dt>${t('device.manufacturer')}</dt><dd>${d.manufacturer ?? '—'}</dd></div>
          <div><dt>${t('devices.col.serialNumber')}</dt><dd>${d.serialNumber ?? '—'}</dd></div>
          <div><dt>${t('devices.col.enrollmentType')}</dt><dd>${e('enrollmentType', d.deviceEnrollmentType)}</dd></div>
          <div><dt>${t('device.enrolled')}</dt><dd>${formatDateTime(d.enrolledDateTime)}</dd></div>
          <div><dt>${t('devices.col.lastCheckIn')}</dt><dd>${formatDateTime(d.lastSyncDateTime)}</dd></div>
          <div><dt>${t('device.deviceId')}</dt><dd><code>${d.id}</code></dd></div>
        </dl>
      </section>
      <div class="grid">
        <section class="card" aria-labelledby="own-h">
          <h2 id="own-h">${t('devices.col.ownership')}</h2>
          ${canUpdate
            ? html`<div class="form">
                ${select(
                  t('devices.col.ownership'),
                  d.managedDeviceOwnerType,
                  OWNERSHIP.map((o): [string, string] => [o, e('ownership', o)]),
                  (v) => this.save({ managedDeviceOwnerType: v }, t('device.ownershipSaved')),
                  // As in Intune, a new ownership is asked about before it is saved.
                  (v) =>
                    confirmDialog().ask({
                      title: t('device.ownershipTitle'),
                      text: t('device.ownershipConfirm', { device: d.deviceName, ownership: e('ownership', v) }),
                    }),
                )}
              </div>`
            : html`<p>${e('ownership', d.managedDeviceOwnerType)}</p>`}
        </section>
        <section class="card" aria-labelledby="notes-h">
          <h2 id="notes-h">${t('device.notes')}</h2>
          ${canUpdate
            ? html`<div class="form">
                <fluent-textarea id="notes" .value=${d.notes ?? ''} resize="vertical"><span slot="label">${t('device.notes')}</span></fluent-textarea>
                <div class="actions">
                  <fluent-button
                    @click=${() => this.save({ notes: (this.renderRoot.querySelector('#notes') as Field).value }, t('device.notesSaved'))}
                    >${t('device.saveNotes')}</fluent-button
                  >
                </div>
              </div>`
            : html`<p>${d.notes || t('device.noNotes')}</p>`}
        </section>
      </div>
      ${this.renderHistory()}
      <fluent-dialog id="notify" aria-label=${t('device.sendNotification')}>
        <fluent-dialog-body>
          <h2 slot="title">${t('device.sendNotification')}</h2>
          <div class="form">
            ${errorBar(this.notifyError)}
            <fluent-text-input id="ntitle" maxlength="50">${t('device.notificationTitle')}</fluent-text-input>
            <fluent-textarea id="nbody" maxlength="500"><span slot="label">${t('device.notificationBody')}</span></fluent-textarea>
          </div>
          <fluent-button slot="action" appearance="primary" @click=${() => this.sendNotification()}>${t('device.send')}</fluent-button>
          <fluent-button slot="action" @click=${() => (this.renderRoot.querySelector('#notify') as DialogEl).hide()}>${t('common.cancel')}</fluent-button>
        </fluent-dialog-body>
      </fluent-dialog>`;
  }
}
customElements.define('reach-device', ReachDevice);
