// Devices > Enrollment: enrollment tokens for one user's device (user-driven) or for a device
// without a user (userless), and the exact command to run on the device.
import { html, nothing } from 'lit';
import { post } from '../api.js';
import { formatDateTime, t } from '../i18n/index.js';
import { Page, errorBar, select } from '../components/ui.js';

type Field = HTMLElement & { value: string };

interface Token {
  id: string;
  token: string;
  deviceEnrollmentType: string;
  managedDeviceOwnerType: string;
  userId: string | null;
  expirationDateTime: string;
}

export class ReachEnrollment extends Page {
  static styles = Page.styles;
  static properties = {
    generation: {},
    kind: { state: true },
    ownership: { state: true },
    created: { state: true },
    error: { state: true },
    copied: { state: true },
  };
  declare generation: number;
  declare kind: 'user' | 'userless';
  declare ownership: string;
  declare created: Token | undefined;
  declare error: unknown;
  declare copied: boolean;

  constructor() {
    super();
    this.generation = 0;
    this.kind = 'user';
    this.ownership = 'personal';
    this.created = undefined;
    this.error = undefined;
    this.copied = false;
  }

  private command(token: string): string {
    return `reach-agent enroll --hub ${location.origin} --token ${token}`;
  }

  private kindChanged(e: Event): void {
    const radio = e.target as HTMLElement & { value: string; checked: boolean };
    if (radio.localName === 'fluent-radio' && radio.checked) this.kind = radio.value as 'user' | 'userless';
  }

  private async create(e: Event): Promise<void> {
    e.preventDefault();
    const v = (id: string) => ((this.renderRoot.querySelector(id) as Field | null)?.value ?? '').trim();
    const days = Number(v('#days') || '7');
    const body: Record<string, unknown> = { ownership: this.ownership, validDays: days };
    if (this.kind === 'userless') body.userless = true;
    else body.userPrincipalName = v('#upn');
    this.copied = false;
    try {
      this.created = await post<Token>('/api/enrollmentTokens', body);
      this.error = undefined;
    } catch (err) {
      this.error = err;
      this.created = undefined;
    }
  }

  private async copy(): Promise<void> {
    if (!this.created) return;
    try {
      await navigator.clipboard.writeText(this.command(this.created.token));
      this.copied = true;
    } catch {
      // No clipboard (plain HTTP on another host): the command stays selectable on the page.
      const pre = this.renderRoot.querySelector('#command');
      if (pre) getSelection()?.selectAllChildren(pre);
    }
  }

  render() {
    const c = this.created;
    return html`<h1>${t('enrollment.title')}</h1>
      <p class="muted">${t('enrollment.intro')}</p>
      ${errorBar(this.error)}
      <section class="card" aria-labelledby="new-h">
        <h2 id="new-h">${t('enrollment.new')}</h2>
        <form class="form" @submit=${this.create}>
          <fluent-field label-position="above">
            <label slot="label">${t('enrollment.kind')}</label>
            <fluent-radio-group slot="input" name="kind" orientation="vertical" value=${this.kind} @change=${this.kindChanged}>
              ${(['user', 'userless'] as const).map(
                (k) => html`<fluent-field label-position="after">
                  <label slot="label">${t(k === 'user' ? 'enrollment.userDriven' : 'enrollment.userless')}</label>
                  <fluent-radio slot="input" value=${k}></fluent-radio>
                </fluent-field>`,
              )}
            </fluent-radio-group>
          </fluent-field>
          ${this.kind === 'user' ? html`<fluent-text-input id="upn" type="email">${t('enrollment.user')}</fluent-text-input>` : html`<p class="muted">${t('enrollment.userlessHint')}</p>`}
          ${select(t('devices.col.ownership'), this.ownership, [['personal', t('ownership.personal')], ['company', t('ownership.company')]], (v) => (this.ownership = v))}
          <fluent-text-input id="days" type="number" value="7" min="1" max="365">${t('enrollment.validDays')}</fluent-text-input>
          <div class="actions"><fluent-button appearance="primary" type="submit">${t('enrollment.create')}</fluent-button></div>
        </form>
      </section>
      ${c
        ? html`<section class="card" aria-labelledby="cmd-h">
            <h2 id="cmd-h">${t('enrollment.created')}</h2>
            <p>${t('enrollment.runThis', { date: formatDateTime(c.expirationDateTime) })}</p>
            <pre class="command" id="command" aria-label=${t('enrollment.command')}>${this.command(c.token)}</pre>
            <div class="actions">
              <fluent-button @click=${() => this.copy()}>${t('enrollment.copy')}</fluent-button>
              ${this.copied ? html`<span role="status">${t('enrollment.copied')}</span>` : nothing}
            </div>
            <p class="muted">${t('enrollment.secret')}</p>
          </section>`
        : nothing}`;
  }
}
customElements.define('reach-enrollment', ReachEnrollment);
