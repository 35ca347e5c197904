// Tenant administration > Connectors and tokens > Remote assistance connector: its status,
// Connect (the partner's licence, "I agree", Log in to authorize: the relay's sign-in and consent
// in this tab, then back here to confirm the relay account that consented), reconnect when it
// needs re-authorisation, Disconnect, the connected account, the organisation's session settings
// (remoteAssistanceSettings: H.264 video or not), and the relay and OAuth client it uses.
import { css, html, nothing } from 'lit';
import { type Page as ListPage, get, patch, post } from '../api.js';
import { formatDateTime, t, tMaybe } from '../i18n/index.js';
import type { Partner, PartnerAccount, RemoteAssistanceSettings } from '../model.js';
import { A, can } from '../permissions.js';
import { Page, checkbox, confirmDialog, doneBar, errorBar, errorText, messageBar } from '../components/ui.js';

type DialogEl = HTMLElement & { show(): void; hide(): void };
type Field = HTMLElement & { value: string };
type Check = HTMLElement & { checked: boolean };

const PARTNERS = '/v1.0/deviceManagement/remoteAssistancePartners';
// Graph has it on beta only.
const SETTINGS = '/beta/deviceManagement/remoteAssistanceSettings';

// Fluent badge colours by status: only a connector that needs action is a warning or danger.
const BADGE: Record<string, string> = {
  onboarded: 'success',
  onboarding: 'informative',
  notOnboarded: 'subtle',
  needsReauthorization: 'danger',
};

export class ReachConnector extends Page {
  static styles = [
    ...Page.styles,
    css`
      .licence {
        max-height: 240px;
        overflow: auto;
        border: 1px solid var(--colorNeutralStroke2);
        padding: 8px 12px;
        border-radius: var(--borderRadiusMedium);
      }
      .state {
        font-size: var(--fontSizeBase400);
        font-weight: var(--fontWeightSemibold);
      }
      details.setup > summary {
        cursor: pointer;
      }
      details.setup > summary h2 {
        display: inline;
        margin: 0;
      }
      /* The helper line under its checkbox's label, as wide as a line is easy to read. */
      .helper {
        margin: 2px 0 0;
        padding-inline-start: 28px;
        max-width: 70ch;
      }
      .note {
        margin: 8px 0 0;
      }
      .note.failed {
        color: var(--colorPaletteRedForeground1);
      }
    `,
  ];
  static properties = {
    generation: {},
    outcome: {},
    partner: { state: true },
    raSettings: { state: true },
    settingsNote: { state: true },
    error: { state: true },
    done: { state: true },
    agreed: { state: true },
    busy: { state: true },
  };
  declare generation: number;
  declare outcome: string;
  declare partner: Partner | undefined;
  declare raSettings: RemoteAssistanceSettings | undefined;
  // The outcome of the last settings change, said in a polite live region.
  declare settingsNote: { ok: true } | { ok: false; error: unknown } | undefined;
  declare error: unknown;
  declare done: string | undefined;
  declare agreed: boolean;
  declare busy: boolean;

  constructor() {
    super();
    this.generation = 0;
    this.outcome = '';
    this.partner = undefined;
    this.raSettings = undefined;
    this.settingsNote = undefined;
    this.error = undefined;
    this.done = undefined;
    this.agreed = false;
    this.busy = false;
  }

  protected updated(changed: Map<string, unknown>): void {
    if (changed.has('generation')) void this.load();
  }

  private async load(): Promise<void> {
    try {
      const [partners, settings] = await Promise.all([
        get<ListPage<Partner>>(PARTNERS),
        get<RemoteAssistanceSettings>(SETTINGS),
      ]);
      this.partner = partners.value[0];
      this.raSettings = settings;
      this.error = undefined;
    } catch (e) {
      this.error = e;
    }
  }

  private path(): string {
    return `${PARTNERS}/${encodeURIComponent(this.partner!.id)}`;
  }

  private openConnect(): void {
    this.agreed = false;
    const box = this.renderRoot.querySelector('#agree') as Check | null;
    if (box) box.checked = false;
    (this.renderRoot.querySelector('#connect') as DialogEl).show();
  }

  // beginOnboarding gives the relay's authorisation URL; this tab goes there and comes back.
  private async authorize(): Promise<void> {
    this.busy = true;
    try {
      await post(`${this.path()}/beginOnboarding`);
      const p = await get<Partner>(this.path());
      if (!p.authorizationUrl) throw new Error('no authorization URL');
      location.assign(p.authorizationUrl);
    } catch (e) {
      (this.renderRoot.querySelector('#connect') as DialogEl).hide();
      this.error = e;
      this.busy = false;
    }
  }

  // The relay's grant is held until the administrator who began says the account is theirs
  // (confirmOnboarding), or anyone who may change the connector ends the onboarding
  // (cancelOnboarding).
  private async settle(action: 'confirmOnboarding' | 'cancelOnboarding', done: string): Promise<void> {
    this.busy = true;
    try {
      await post(`${this.path()}/${action}`);
      this.outcome = '';
      this.done = done;
      this.error = undefined;
      await this.load();
    } catch (e) {
      this.error = e;
    } finally {
      this.busy = false;
    }
  }

  private confirm(): Promise<void> {
    return this.settle('confirmOnboarding', t('connector.outcome.connected'));
  }

  private cancel(): Promise<void> {
    return this.settle('cancelOnboarding', t('connector.cancelled'));
  }

  private account(a: PartnerAccount) {
    return html`${a.displayName || a.email} (${a.email})${a.companyName ? html`, ${a.companyName}` : nothing}`;
  }

  private pendingCard(a: PartnerAccount) {
    return html`<section class="card" aria-labelledby="confirm-h">
      <h2 id="confirm-h">${t('connector.confirmTitle')}</h2>
      <p>${t('connector.confirmIntro')}</p>
      <dl class="essentials">
        <div><dt>${t('connector.accountName')}</dt><dd>${a.displayName || '—'}</dd></div>
        <div><dt>${t('connector.accountEmail')}</dt><dd>${a.email}</dd></div>
        <div><dt>${t('connector.accountCompany')}</dt><dd>${a.companyName || '—'}</dd></div>
      </dl>
      <p class="muted">${t('connector.confirmWarning')}</p>
      <div class="actions" style="margin-top:16px">
        <fluent-button appearance="primary" ?disabled=${this.busy} @click=${() => this.confirm()}>${t('connector.confirmAccount')}</fluent-button>
        <fluent-button ?disabled=${this.busy} @click=${() => this.cancel()}>${t('connector.cancelConnection')}</fluent-button>
      </div>
    </section>`;
  }

  private async disconnect(): Promise<void> {
    const yes = await confirmDialog().ask({ title: t('connector.disconnectTitle'), text: t('connector.disconnectConfirm') });
    if (!yes) return;
    try {
      await post(`${this.path()}/disconnect`);
      this.done = t('connector.disconnected');
      await this.load();
    } catch (e) {
      this.error = e;
    }
  }

  private async saveSettings(e: Event): Promise<void> {
    e.preventDefault();
    const v = (id: string) => (this.renderRoot.querySelector(id) as Field).value.trim();
    const body: Record<string, string> = { onboardingUrl: v('#relay'), clientId: v('#client') };
    const secret = v('#secret');
    if (secret) body.clientSecret = secret;
    try {
      this.partner = await patch<Partner>(this.path(), body);
      (this.renderRoot.querySelector('#secret') as Field).value = '';
      this.done = t('connector.saved');
      this.error = undefined;
    } catch (err) {
      this.error = err;
    }
  }

  // Each change is saved at once, one after another in the order made; one the hub refuses puts
  // the box back as it was last saved.
  private settingsSaves: Promise<void> = Promise.resolve();
  private saveH264(use: boolean): void {
    this.settingsNote = undefined;
    this.settingsSaves = this.settingsSaves.then(async () => {
      try {
        this.raSettings = await patch<RemoteAssistanceSettings>(SETTINGS, { blockH264: !use });
        this.settingsNote = { ok: true };
      } catch (error) {
        this.settingsNote = { ok: false, error };
        const box = this.renderRoot.querySelector('#h264') as Check | null;
        if (box && this.raSettings) box.checked = !this.raSettings.blockH264;
      }
    });
  }

  private sessionCard(canUpdate: boolean) {
    const s = this.raSettings;
    if (!s) return nothing;
    const note = this.settingsNote;
    return html`<section class="card" aria-labelledby="session-h">
      <h2 id="session-h">${t('connector.session.title')}</h2>
      ${checkbox(t('connector.session.h264'), {
        id: 'h264',
        checked: !s.blockH264,
        disabled: !canUpdate,
        describedBy: 'h264-help',
        onChange: (use) => this.saveH264(use),
      })}
      <p id="h264-help" class="muted helper">${t('connector.session.h264Help')}</p>
      <p class="note ${note?.ok === false ? 'failed' : ''}" role="status" aria-live="polite">
        ${note ? (note.ok ? t('common.saved') : errorText(note.error)) : nothing}
      </p>
    </section>`;
  }

  render() {
    const p = this.partner;
    const outcome = this.outcome && this.outcome !== 'confirm'
      ? this.outcome === 'connected'
        ? doneBar(t('connector.outcome.connected'))
        : messageBar('error', tMaybe(`connector.outcome.${this.outcome}`) ?? t('connector.outcome.failed'))
      : nothing;
    // The page is the menu's "Connectors and tokens"; the remote assistance connector is its card.
    const header = html`<p class="muted">${t('nav.tenant')}</p>
      <h1>${t('connector.tokens')}</h1>`;
    if (!p) return html`${header}${errorBar(this.error)}${this.error ? nothing : html`<fluent-spinner aria-label=${t('common.loading')}></fluent-spinner>`}`;
    const status = p.needsReauthorization ? 'needsReauthorization' : p.onboardingStatus;
    const canUpdate = can(A.raUpdate);
    const configured = !!p.onboardingUrl && !!p.clientId;
    const pending = canUpdate && p.pendingAccount ? this.pendingCard(p.pendingAccount) : nothing;
    return html`${header} ${outcome} ${errorBar(this.error)} ${doneBar(this.done)} ${pending}
      <section class="card" aria-labelledby="status-h">
        <h2 id="status-h">${t('connector.title')}</h2>
        <p class="state" role="status"><fluent-badge appearance="tint" size="large" color=${BADGE[status] ?? 'informative'}>${tMaybe(`connector.status.${status}`) ?? status}</fluent-badge></p>
        <p class="muted">${t(`connector.explain.${status === 'onboarded' ? 'onboarded' : status === 'needsReauthorization' ? 'needsReauthorization' : 'notOnboarded'}`)}</p>
        <dl class="essentials">
          <div><dt>${t('connector.connectedAccount')}</dt><dd>${p.connectedAccount ? this.account(p.connectedAccount) : '—'}</dd></div>
          <div><dt>${t('connector.partner')}</dt><dd>${p.displayName}${p.onboardingUrl ? html` (${p.onboardingUrl})` : nothing}</dd></div>
          <div><dt>${t('connector.lastConnection')}</dt><dd>${p.lastConnectionDateTime?.startsWith('0001') ? '—' : formatDateTime(p.lastConnectionDateTime)}</dd></div>
        </dl>
        ${canUpdate
          ? html`<div class="actions" style="margin-top:16px">
              ${status !== 'onboarded' && !p.pendingAccount
                ? html`<fluent-button appearance="primary" ?disabled=${!configured} @click=${() => this.openConnect()}
                    >${status === 'needsReauthorization' ? t('connector.reconnect') : t('connector.connect')}</fluent-button
                  >`
                : nothing}
              ${status === 'onboarded' || status === 'needsReauthorization'
                ? html`<fluent-button @click=${() => this.disconnect()}>${t('connector.disconnect')}</fluent-button>`
                : nothing}
              ${status === 'onboarding' && !p.pendingAccount
                ? html`<fluent-button ?disabled=${this.busy} @click=${() => this.cancel()}>${t('connector.cancelConnection')}</fluent-button>`
                : nothing}
            </div>
            ${!configured ? html`<p class="muted">${t('connector.configureFirst')}</p>` : nothing}`
          : nothing}
      </section>
      ${this.sessionCard(canUpdate)}
      ${canUpdate
        ? html`<details class="card setup" ?open=${!configured}>
            <summary><h2 id="settings-h">${t('connector.settings')}</h2></summary>
            <form class="form" aria-labelledby="settings-h" @submit=${this.saveSettings}>
              <fluent-text-input id="relay" type="url" .value=${p.onboardingUrl ?? ''}>${t('connector.relayUrl')}</fluent-text-input>
              <fluent-text-input id="client" .value=${p.clientId ?? ''}>${t('connector.clientId')}</fluent-text-input>
              <fluent-text-input id="secret" type="password" autocomplete="off" placeholder=${t('connector.secretUnchanged')}
                >${t('connector.clientSecret')}</fluent-text-input
              >
              <p class="muted">${t('connector.settingsHint')}</p>
              <div class="actions"><fluent-button type="submit">${t('common.save')}</fluent-button></div>
            </form>
          </details>`
        : nothing}
      <fluent-dialog id="connect" aria-label=${t('connector.licenceTitle')}>
        <fluent-dialog-body>
          <h2 slot="title">${t('connector.licenceTitle')}</h2>
          <div class="licence" tabindex="0" role="document" aria-label=${t('connector.licenceTitle')}>
            <p>${t('connector.licence1')}</p>
            <p>${t('connector.licence2')}</p>
            <p>${t('connector.licence3')}</p>
          </div>
          <fluent-field label-position="after">
            <label slot="label">${t('connector.agree')}</label>
            <fluent-checkbox
              slot="input"
              id="agree"
              aria-label=${t('connector.agree')}
              @change=${(e: Event) => (this.agreed = (e.target as Check).checked)}
            ></fluent-checkbox>
          </fluent-field>
          <fluent-button slot="action" appearance="primary" ?disabled=${!this.agreed || this.busy} @click=${() => this.authorize()}
            >${t('connector.login')}</fluent-button
          >
          <fluent-button slot="action" @click=${() => (this.renderRoot.querySelector('#connect') as DialogEl).hide()}>${t('common.cancel')}</fluent-button>
        </fluent-dialog-body>
      </fluent-dialog>`;
  }
}
customElements.define('reach-connector', ReachConnector);
