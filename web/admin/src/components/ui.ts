// Small pieces the pages share: an error bar, a confirmation dialog, a page base class.
import { LitElement, html, nothing, type PropertyDeclarations, type TemplateResult } from 'lit';
import { ApiError, all } from '../api.js';
import { LocaleController, t } from '../i18n/index.js';
import { shared } from '../styles.js';

export function errorText(e: unknown): string {
  return e instanceof ApiError ? e.sentence : t('error.generalException');
}

export function errorBar(e: unknown): TemplateResult | typeof nothing {
  if (!e) return nothing;
  return html`<fluent-message-bar intent="error" role="alert">${errorText(e)}</fluent-message-bar>`;
}

export function doneBar(text: string | undefined): TemplateResult | typeof nothing {
  if (!text) return nothing;
  return html`<fluent-message-bar intent="success" role="status">${text}</fluent-message-bar>`;
}

// A page: re-renders on language change, shares the styles.
export class Page extends LitElement {
  static styles = [shared];
  protected readonly i18n = new LocaleController(this);
}

export type DialogEl = HTMLElement & { show(): void; hide(): void };

// A page that lists every item of a small collection (users, groups, roles), loaded when the
// page opens and whenever the app asks again (`generation`), with a "create" dialog (#create).
export abstract class CollectionPage<T> extends Page {
  static properties: PropertyDeclarations = {
    generation: {},
    items: { state: true },
    error: { state: true },
    formError: { state: true },
  };
  declare generation: number;
  declare items: T[];
  declare error: unknown;
  declare formError: unknown;

  constructor() {
    super();
    this.generation = 0;
    this.items = [];
    this.error = undefined;
    this.formError = undefined;
  }

  // The collection's path (every page of it is loaded).
  protected abstract source(): string;

  protected updated(changed: Map<string, unknown>): void {
    if (changed.has('generation')) void this.load();
  }

  protected async load(): Promise<void> {
    try {
      this.items = await all<T>(this.source());
      this.error = undefined;
    } catch (e) {
      this.error = e;
    }
  }

  protected dialog(id = '#create'): DialogEl {
    return this.renderRoot.querySelector(id) as DialogEl;
  }

  protected openCreate(): void {
    this.formError = undefined;
    this.dialog().show();
  }
}

// <reach-confirm>: await el.ask({title, text, yes, no}) → true when "Yes" was chosen.
export class ReachConfirm extends LitElement {
  static styles = [shared];
  static properties = { heading: { state: true }, text: { state: true }, yes: { state: true }, no: { state: true } };
  declare heading: string;
  declare text: string;
  declare yes: string;
  declare no: string;
  private resolve?: (v: boolean) => void;

  constructor() {
    super();
    this.heading = '';
    this.text = '';
    this.yes = '';
    this.no = '';
  }

  async ask(o: { title: string; text: string; yes?: string; no?: string }): Promise<boolean> {
    this.heading = o.title;
    this.text = o.text;
    this.yes = o.yes ?? t('common.yes');
    this.no = o.no ?? t('common.no');
    await this.updateComplete;
    const d = this.renderRoot.querySelector('fluent-dialog') as DialogEl;
    d.show();
    return new Promise((resolve) => (this.resolve = resolve));
  }

  private answer(v: boolean): void {
    (this.renderRoot.querySelector('fluent-dialog') as DialogEl).hide();
    this.resolve?.(v);
    this.resolve = undefined;
  }

  render() {
    return html`<fluent-dialog
      aria-label=${this.heading || t('common.confirm')}
      @toggle=${(e: ToggleEvent) => {
        if (e.newState === 'closed' && this.resolve) this.answer(false);
      }}
    >
      <fluent-dialog-body>
        <h2 slot="title">${this.heading}</h2>
        <p>${this.text}</p>
        <fluent-button slot="action" appearance="primary" autofocus @click=${() => this.answer(true)}>${this.yes}</fluent-button>
        <fluent-button slot="action" @click=${() => this.answer(false)}>${this.no}</fluent-button>
      </fluent-dialog-body>
    </fluent-dialog>`;
  }
}
customElements.define('reach-confirm', ReachConfirm);

export function confirmDialog(): ReachConfirm {
  let el = document.querySelector('reach-confirm') as ReachConfirm | null;
  if (!el) {
    el = document.createElement('reach-confirm') as ReachConfirm;
    document.body.append(el);
  }
  return el;
}

// Native select labelled as a person reads it.
export function select(
  label: string,
  value: string,
  options: [string, string][],
  onChange: (v: string) => void,
): TemplateResult {
  return html`<label class="select"
    >${label}
    <select .value=${value} @change=${(e: Event) => onChange((e.target as HTMLSelectElement).value)}>
      ${options.map(([v, text]) => html`<option value=${v} ?selected=${v === value}>${text}</option>`)}
    </select></label
  >`;
}
