// Sign-in with the hub's cookie session. The hub's refusals (wrong email or password, too many
// attempts with the time to wait) are shown as sentences.
import { css, html } from 'lit';
import { ApiError, api } from '../api.js';
import { t } from '../i18n/index.js';
import { Page, errorBar } from '../components/ui.js';

type Input = HTMLElement & { value: string };

export class ReachSignin extends Page {
  static styles = [
    ...Page.styles,
    css`
      :host {
        max-width: 400px;
        margin: 8vh auto;
      }
      form {
        display: flex;
        flex-direction: column;
        gap: 16px;
      }
    `,
  ];
  static properties = { error: { state: true }, busy: { state: true } };
  declare error: unknown;
  declare busy: boolean;

  constructor() {
    super();
    this.error = undefined;
    this.busy = false;
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    const email = (this.renderRoot.querySelector('#email') as Input).value.trim();
    const password = (this.renderRoot.querySelector('#password') as Input).value;
    if (!email || !password) {
      this.error = new ApiError(400, 'signinMissing', '');
      return;
    }
    this.busy = true;
    this.error = undefined;
    try {
      await api('POST', '/api/auth/signin', { email, password }, { quiet401: true });
      this.dispatchEvent(new CustomEvent('signed-in', { bubbles: true, composed: true }));
    } catch (err) {
      this.error = err instanceof ApiError && err.status === 401 ? new ApiError(401, 'signinFailed', '') : err;
    } finally {
      this.busy = false;
    }
  }

  render() {
    return html`<div class="card">
      <h1>${t('signin.title')}</h1>
      <p class="muted">${t('signin.intro')}</p>
      ${errorBar(this.error)}
      <form @submit=${this.submit} novalidate>
        <fluent-text-input id="email" name="email" type="email" autocomplete="username">${t('signin.email')}</fluent-text-input>
        <fluent-text-input id="password" name="password" type="password" autocomplete="current-password"
          >${t('signin.password')}</fluent-text-input
        >
        <fluent-button appearance="primary" type="submit" ?disabled=${this.busy}>${t('signin.submit')}</fluent-button>
      </form>
    </div>`;
  }
}
customElements.define('reach-signin', ReachSignin);
