// Devices > All devices: the list an Intune administrator knows, paged by the hub
// (@odata.nextLink), searched and filtered on the hub ($filter), sorted ($orderby), with a
// choice of columns kept in this browser.
import { css, html, nothing } from 'lit';
import { type Page as ListPage, get, odataString, relative } from '../api.js';
import { formatDateTime, t, tMaybe, type MessageKey } from '../i18n/index.js';
import { ENROLLMENT_TYPES, OWNERSHIP, PLATFORMS, type ManagedDevice } from '../model.js';
import { Page, badge, checkbox, errorBar, select, type BadgeColor } from '../components/ui.js';
import { icon, type IconName } from '../icons.js';

interface Column {
  key: string;
  label: MessageKey;
  sort?: string;
  cell: (d: ManagedDevice) => unknown;
}

const enumText = (prefix: string, v: string | null | undefined) => (v ? (tMaybe(`${prefix}.${v}`) ?? v) : '—');

// A compliance state as Intune shows it: its words in a status badge of its colour.
const COMPLIANCE: Record<string, [BadgeColor, IconName?]> = {
  compliant: ['success', 'checkmarkCircleSmall'],
  noncompliant: ['danger', 'dismissCircleSmall'],
  conflict: ['danger', 'dismissCircleSmall'],
  error: ['danger', 'dismissCircleSmall'],
  inGracePeriod: ['warning', 'clock'],
  unknown: ['informative', 'subtractCircleSmall'],
};
const compliance = (v: string | null | undefined) => {
  if (!v) return '—';
  const [color, iconName] = COMPLIANCE[v] ?? ['informative'];
  return badge(enumText('compliance', v), color, iconName);
};

const columns: Column[] = [
  {
    key: 'deviceName',
    label: 'devices.col.deviceName',
    sort: 'deviceName',
    cell: (d) => html`<a href="/devices/${d.id}">${d.deviceName}</a>`,
  },
  { key: 'managedBy', label: 'devices.col.managedBy', sort: 'managementAgent', cell: (d) => enumText('agent', d.managementAgent) },
  { key: 'ownership', label: 'devices.col.ownership', sort: 'managedDeviceOwnerType', cell: (d) => enumText('ownership', d.managedDeviceOwnerType) },
  { key: 'compliance', label: 'devices.col.compliance', sort: 'complianceState', cell: (d) => compliance(d.complianceState) },
  { key: 'os', label: 'devices.col.os', sort: 'operatingSystem', cell: (d) => d.operatingSystem },
  { key: 'osVersion', label: 'devices.col.osVersion', sort: 'osVersion', cell: (d) => d.osVersion ?? '—' },
  { key: 'primaryUser', label: 'devices.col.primaryUser', sort: 'userPrincipalName', cell: (d) => d.userPrincipalName ?? '—' },
  { key: 'lastCheckIn', label: 'devices.col.lastCheckIn', sort: 'lastSyncDateTime', cell: (d) => formatDateTime(d.lastSyncDateTime) },
  { key: 'enrollmentType', label: 'devices.col.enrollmentType', sort: 'deviceEnrollmentType', cell: (d) => enumText('enrollmentType', d.deviceEnrollmentType) },
  { key: 'serialNumber', label: 'devices.col.serialNumber', cell: (d) => d.serialNumber ?? '—' },
  { key: 'model', label: 'devices.col.model', cell: (d) => d.model ?? '—' },
];
const DEFAULT_COLUMNS = ['deviceName', 'managedBy', 'ownership', 'compliance', 'os', 'osVersion', 'primaryUser', 'lastCheckIn'];
const COLUMNS_KEY = 'reach.devices.columns';
const PAGE_SIZE = 50;
const SELECT = 'id,deviceName,managementAgent,managedDeviceOwnerType,complianceState,operatingSystem,osVersion,userPrincipalName,lastSyncDateTime,deviceEnrollmentType,serialNumber,model';

export class ReachDevices extends Page {
  static styles = [
    ...Page.styles,
    css`
      .toolbar .search {
        width: 200px;
      }
      .toolbar fluent-field.select {
        width: 160px;
      }
      .pager {
        display: flex;
        gap: 8px;
        align-items: center;
        margin-top: 12px;
      }
      fieldset {
        border: 1px solid var(--colorNeutralStroke2);
        border-radius: var(--borderRadiusMedium);
        display: flex;
        flex-wrap: wrap;
        gap: 0 16px;
        margin: 0 0 12px;
      }
    `,
  ];
  static properties = {
    generation: {},
    rows: { state: true },
    error: { state: true },
    loading: { state: true },
    search: { state: true },
    platform: { state: true },
    ownership: { state: true },
    enrollment: { state: true },
    orderby: { state: true },
    desc: { state: true },
    pages: { state: true },
    next: { state: true },
    count: { state: true },
    shown: { state: true },
    choosing: { state: true },
  };
  declare generation: number;
  declare rows: ManagedDevice[];
  declare error: unknown;
  declare loading: boolean;
  declare search: string;
  declare platform: string;
  declare ownership: string;
  declare enrollment: string;
  declare orderby: string;
  declare desc: boolean;
  declare pages: string[]; // the request of each page shown so far (for "Previous")
  declare next: string | undefined;
  declare count: number | undefined;
  declare shown: string[];
  declare choosing: boolean;
  private timer?: number;
  private seq = 0;

  constructor() {
    super();
    this.generation = 0;
    this.rows = [];
    this.error = undefined;
    this.loading = true;
    const q = new URLSearchParams(location.search);
    this.search = q.get('search') ?? '';
    this.platform = q.get('platform') ?? '';
    this.ownership = q.get('ownership') ?? '';
    this.enrollment = q.get('enrollment') ?? '';
    this.orderby = q.get('orderby') ?? 'deviceName';
    this.desc = q.get('desc') === '1';
    this.pages = [];
    this.next = undefined;
    this.count = undefined;
    this.choosing = false;
    try {
      const saved = JSON.parse(localStorage.getItem(COLUMNS_KEY) ?? 'null') as unknown;
      this.shown = Array.isArray(saved) && saved.every((k) => columns.some((c) => c.key === k)) && saved.length ? (saved as string[]) : DEFAULT_COLUMNS;
    } catch {
      this.shown = DEFAULT_COLUMNS;
    }
  }

  protected updated(changed: Map<string, unknown>): void {
    if (changed.has('generation')) void this.load(this.firstRequest());
  }

  private filter(): string {
    const parts: string[] = [];
    const s = this.search.trim();
    if (s) {
      const lit = odataString(s);
      parts.push(`(startswith(deviceName,${lit}) or startswith(userPrincipalName,${lit}) or startswith(serialNumber,${lit}))`);
    }
    if (this.platform) parts.push(`operatingSystem eq ${odataString(this.platform)}`);
    if (this.ownership) parts.push(`managedDeviceOwnerType eq ${odataString(this.ownership)}`);
    if (this.enrollment) parts.push(`deviceEnrollmentType eq ${odataString(this.enrollment)}`);
    return parts.join(' and ');
  }

  private firstRequest(): string {
    const q = new URLSearchParams({ $top: String(PAGE_SIZE), $select: SELECT, $count: 'true', $orderby: `${this.orderby}${this.desc ? ' desc' : ''}` });
    const f = this.filter();
    if (f) q.set('$filter', f);
    return `/v1.0/deviceManagement/managedDevices?${q.toString()}`;
  }

  // Keeps the view in the address (a search can be bookmarked or shared).
  private remember(): void {
    const q = new URLSearchParams();
    if (this.search) q.set('search', this.search);
    if (this.platform) q.set('platform', this.platform);
    if (this.ownership) q.set('ownership', this.ownership);
    if (this.enrollment) q.set('enrollment', this.enrollment);
    if (this.orderby !== 'deviceName') q.set('orderby', this.orderby);
    if (this.desc) q.set('desc', '1');
    const s = q.toString();
    history.replaceState(null, '', `/devices${s ? `?${s}` : ''}`);
  }

  private async load(request: string, pages: string[] = [request]): Promise<void> {
    const seq = ++this.seq;
    this.loading = true;
    try {
      const page = await get<ListPage<ManagedDevice>>(request);
      if (seq !== this.seq) return; // a newer search is on its way
      this.rows = page.value;
      this.next = page['@odata.nextLink'] ? relative(page['@odata.nextLink']) : undefined;
      if (page['@odata.count'] !== undefined) this.count = page['@odata.count'];
      this.pages = pages;
      this.error = undefined;
    } catch (e) {
      if (seq === this.seq) this.error = e;
    } finally {
      if (seq === this.seq) this.loading = false;
    }
  }

  private restart(): void {
    this.remember();
    void this.load(this.firstRequest());
  }

  private onSearch(e: Event): void {
    this.search = (e.target as HTMLInputElement).value;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.restart(), 150);
  }

  private sortBy(key: string): void {
    if (this.orderby === key) this.desc = !this.desc;
    else {
      this.orderby = key;
      this.desc = false;
    }
    this.restart();
  }

  private toggleColumn(key: string, on: boolean): void {
    const next = columns.map((c) => c.key).filter((k) => (k === key ? on : this.shown.includes(k)));
    if (!next.length) return;
    this.shown = next;
    localStorage.setItem(COLUMNS_KEY, JSON.stringify(next));
  }

  render() {
    const shown = columns.filter((c) => this.shown.includes(c.key));
    const opts = (prefix: string, values: string[]): [string, string][] => [
      ['', t('devices.filter.all')],
      ...values.map((v): [string, string] => [v, tMaybe(`${prefix}.${v}`) ?? v]),
    ];
    return html`<h1>${t('devices.title')}</h1>
      <div class="toolbar" role="search">
        <fluent-text-input class="search" type="search" .value=${this.search} @input=${this.onSearch} placeholder=${t('devices.searchHint')}
          >${t('devices.search')}</fluent-text-input
        >
        ${select(t('devices.filter.platform'), this.platform, [['', t('devices.filter.all')], ...PLATFORMS.map((p): [string, string] => [p, p])], (v) => {
          this.platform = v;
          this.restart();
        })}
        ${select(t('devices.filter.ownership'), this.ownership, opts('ownership', OWNERSHIP), (v) => {
          this.ownership = v;
          this.restart();
        })}
        ${select(t('devices.filter.enrollmentType'), this.enrollment, opts('enrollmentType', ENROLLMENT_TYPES), (v) => {
          this.enrollment = v;
          this.restart();
        })}
        <fluent-button @click=${() => (this.choosing = !this.choosing)} aria-expanded=${String(this.choosing)}
          >${icon('columnTriple', 'start')}${t('devices.columns')}</fluent-button
        >
        <fluent-button @click=${() => this.restart()}>${icon('arrowClockwise', 'start')}${t('common.refresh')}</fluent-button>
      </div>
      ${this.choosing
        ? html`<fieldset>
            <legend>${t('devices.columns')}</legend>
            ${columns.map((c) =>
              checkbox(t(c.label), { checked: this.shown.includes(c.key), onChange: (on) => this.toggleColumn(c.key, on) }),
            )}
          </fieldset>`
        : nothing}
      ${errorBar(this.error)}
      <p class="muted" role="status" aria-live="polite">
        ${this.loading ? t('common.loading') : this.count !== undefined ? (this.count === 1 ? t('devices.countOne') : t('devices.count', { n: this.count })) : nothing}
      </p>
      <table aria-label=${t('devices.title')} aria-busy=${String(this.loading)}>
        <thead>
          <tr>
            ${shown.map((c) => {
              const sorted = c.sort && this.orderby === c.sort;
              return html`<th scope="col" aria-sort=${sorted ? (this.desc ? 'descending' : 'ascending') : 'none'}>
                ${c.sort
                  ? html`<button class="sort" @click=${() => this.sortBy(c.sort!)}>${t(c.label)}${sorted ? (this.desc ? ' ▼' : ' ▲') : ''}</button>`
                  : t(c.label)}
              </th>`;
            })}
          </tr>
        </thead>
        <tbody>
          ${this.rows.map((d) => html`<tr>${shown.map((c) => html`<td>${c.cell(d)}</td>`)}</tr>`)}
        </tbody>
      </table>
      ${!this.loading && !this.rows.length && !this.error ? html`<p>${t('devices.none')}</p>` : nothing}
      <div class="pager">
        <fluent-button ?disabled=${this.pages.length < 2} @click=${() => {
          const pages = this.pages.slice(0, -1);
          void this.load(pages[pages.length - 1]!, pages);
        }}>${t('common.previousPage')}</fluent-button>
        <span>${t('common.pageN', { n: this.pages.length || 1 })}</span>
        <fluent-button ?disabled=${!this.next} @click=${() => this.next && this.load(this.next, [...this.pages, this.next])}>${t('common.nextPage')}</fluent-button>
      </div>`;
  }
}
customElements.define('reach-devices', ReachDevices);
