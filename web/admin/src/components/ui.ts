// Small pieces the pages share: message bars, status badges, form controls, a confirmation
// dialog, a page base class.
import { LitElement, html, nothing, type PropertyDeclarations, type TemplateResult } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import { ApiError, all } from '../api.js';
import { LocaleController, t } from '../i18n/index.js';
import { icon, type IconName } from '../icons.js';
import { shared } from '../styles.js';

export function errorText(e: unknown): string {
  return e instanceof ApiError ? e.sentence : t('error.generalException');
}

type Intent = 'error' | 'warning' | 'success' | 'info';
const INTENT_ICON: Record<Intent, IconName> = { error: 'errorCircle', warning: 'warning', success: 'checkmarkCircle', info: 'info' };

// A Fluent message bar with its intent's icon; errors and warnings are alerts, the rest status.
export function messageBar(intent: Intent, content: unknown): TemplateResult {
  return html`<fluent-message-bar intent=${intent} role=${intent === 'error' || intent === 'warning' ? 'alert' : 'status'}
    >${icon(INTENT_ICON[intent], 'icon')}${content}</fluent-message-bar
  >`;
}

export function errorBar(e: unknown): TemplateResult | typeof nothing {
  if (!e) return nothing;
  return messageBar('error', errorText(e));
}

export function doneBar(text: string | undefined): TemplateResult | typeof nothing {
  if (!text) return nothing;
  return messageBar('success', text);
}

export type BadgeColor = 'brand' | 'danger' | 'important' | 'informative' | 'severe' | 'subtle' | 'success' | 'warning';

// A state in a table, as a Fluent status badge: the same words, a colour (and an icon) beside.
export function badge(text: string, color: BadgeColor, iconName?: IconName): TemplateResult {
  return html`<fluent-badge appearance="tint" shape="rounded" color=${color}>${iconName ? icon(iconName, 'start') : nothing}${text}</fluent-badge>`;
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

type DropdownEl = HTMLElement & { value: string | null };

// A Fluent dropdown under its label (the label names the combobox). With `confirm`, a pick
// that is not confirmed is undone: the dropdown shows `value` again and onChange is not called;
// so is one whose onChange answers false (a change the hub refused).
export function select(
  label: string,
  value: string,
  options: [string, string][],
  onChange: (v: string) => unknown,
  confirm?: (v: string) => Promise<boolean>,
): TemplateResult {
  const changed = async (e: Event) => {
    const el = e.currentTarget as DropdownEl;
    const v = el.value ?? '';
    if (v === value) return;
    if ((confirm && !(await confirm(v))) || (await onChange(v)) === false) el.value = value;
  };
  return html`<fluent-field class="select" label-position="above">
    <label slot="label">${label}</label>
    <fluent-dropdown slot="input" @change=${changed}>
      <fluent-listbox>
        ${options.map(([v, text]) => html`<fluent-option value=${v} ?selected=${v === value}>${text}</fluent-option>`)}
      </fluent-listbox>
    </fluent-dropdown>
  </fluent-field>`;
}

// A Fluent checkbox with its label after it (the label names it). `name` and `value` let a
// form read the ticked ones: picked(root, name). `describedBy`: the id of a helper line beside it.
export function checkbox(
  label: string,
  o: {
    id?: string;
    name?: string;
    value?: string;
    checked?: boolean;
    disabled?: boolean;
    describedBy?: string;
    onChange?: (checked: boolean) => void;
  } = {},
): TemplateResult {
  return html`<fluent-field class="check" label-position="after">
    <label slot="label">${label}</label>
    <fluent-checkbox
      slot="input"
      id=${ifDefined(o.id)}
      name=${ifDefined(o.name)}
      value=${ifDefined(o.value)}
      .checked=${!!o.checked}
      ?disabled=${!!o.disabled}
      aria-describedby=${ifDefined(o.describedBy)}
      @change=${(e: Event) => o.onChange?.((e.currentTarget as CheckEl).checked)}
    ></fluent-checkbox>
  </fluent-field>`;
}

export type CheckEl = HTMLElement & { checked: boolean; value: string };

// The values of the ticked checkboxes called `name` under root.
export function picked(root: ParentNode, name: string): string[] {
  return [...root.querySelectorAll<CheckEl>(`fluent-checkbox[name=${name}]`)].filter((c) => c.checked).map((c) => c.value);
}
