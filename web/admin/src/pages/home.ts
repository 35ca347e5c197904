// Home: the devices in scope by platform, ownership and last check-in, remote assistance
// sessions of the last 30 days, and the connector's status. Each chart has the same figures as
// a table for screen readers.
import { css, html, nothing } from 'lit';
import {
  ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Legend,
  LinearScale, Tooltip,
} from 'chart.js';
import { type Page as ListPage, get } from '../api.js';
import { formatNumber, t, tMaybe } from '../i18n/index.js';
import type { Partner } from '../model.js';
import { A, can } from '../permissions.js';
import { Page, errorBar } from '../components/ui.js';

Chart.register(ArcElement, BarController, BarElement, CategoryScale, DoughnutController, Legend, LinearScale, Tooltip);

interface Summary {
  devices?: {
    total: number;
    byPlatform: Record<string, number>;
    byOwnership: Record<string, number>;
    byLastCheckIn: Record<string, number>;
  };
  remoteAssistanceSessions?: {
    requested: number;
    accepted: number;
    connected: number;
    declined: number;
    expired: number;
    byDay: { date: string; requested: number; connected: number; declined: number; expired: number }[];
  };
}

const PALETTE = ['#0f6cbd', '#107c10', '#c50f1f', '#8764b8', '#ca5010', '#038387', '#8a8886'];

export class ReachHome extends Page {
  static styles = [
    ...Page.styles,
    css`
      .tiles {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(300px, 1fr));
        gap: 16px;
      }
      .chart {
        position: relative;
        height: 220px;
      }
      .big {
        font-size: var(--fontSizeHero800);
        font-weight: var(--fontWeightSemibold);
      }
      .figures {
        display: flex;
        flex-wrap: wrap;
        gap: 8px 24px;
        margin: 0 0 8px;
      }
    `,
  ];
  static properties = { generation: {}, summary: { state: true }, partner: { state: true }, error: { state: true } };
  declare generation: number;
  declare summary: Summary | undefined;
  declare partner: Partner | undefined;
  declare error: unknown;
  private charts: Chart[] = [];

  constructor() {
    super();
    this.generation = 0;
    this.summary = undefined;
    this.partner = undefined;
    this.error = undefined;
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const c of this.charts) c.destroy();
    this.charts = [];
  }

  protected updated(changed: Map<string, unknown>): void {
    if (changed.has('generation')) void this.load();
    this.drawCharts();
  }

  private async load(): Promise<void> {
    try {
      const [summary, partner] = await Promise.all([
        get<Summary>('/api/summary'),
        can(A.raRead) ? get<ListPage<Partner>>('/v1.0/deviceManagement/remoteAssistancePartners').then((p) => p.value[0]) : Promise.resolve(undefined),
      ]);
      this.summary = summary;
      this.partner = partner;
      this.error = undefined;
    } catch (e) {
      this.error = e;
    }
  }

  private drawCharts(): void {
    for (const c of this.charts) c.destroy();
    this.charts = [];
    const s = this.summary;
    if (!s) return;
    const dark = document.documentElement.dataset.theme === 'dark';
    const color = dark ? '#d6d6d6' : '#424242';
    Chart.defaults.color = color;
    const canvas = (id: string) => this.renderRoot.querySelector(`#${id}`) as HTMLCanvasElement | null;
    const doughnut = (id: string, data: Record<string, number>, label: (k: string) => string) => {
      const el = canvas(id);
      if (!el) return;
      const keys = Object.keys(data);
      this.charts.push(
        new Chart(el, {
          type: 'doughnut',
          data: { labels: keys.map(label), datasets: [{ data: keys.map((k) => data[k]!), backgroundColor: PALETTE }] },
          options: { maintainAspectRatio: false, animation: false, plugins: { legend: { position: 'right' } } },
        }),
      );
    };
    if (s.devices) {
      doughnut('platform', s.devices.byPlatform, (k) => k);
      doughnut('ownership', s.devices.byOwnership, (k) => tMaybe(`ownership.${k}`) ?? k);
      const el = canvas('checkin');
      const keys = ['day', 'week', 'month', 'older'];
      if (el)
        this.charts.push(
          new Chart(el, {
            type: 'bar',
            data: {
              labels: keys.map((k) => t(`home.checkin.${k}` as 'home.checkin.day')),
              datasets: [{ label: t('home.devices'), data: keys.map((k) => s.devices!.byLastCheckIn[k] ?? 0), backgroundColor: PALETTE[0] }],
            },
            options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
          }),
        );
    }
    if (s.remoteAssistanceSessions) {
      const el = canvas('sessions');
      const days = s.remoteAssistanceSessions.byDay;
      const series = ['requested', 'connected', 'declined', 'expired'] as const;
      if (el)
        this.charts.push(
          new Chart(el, {
            type: 'bar',
            data: {
              labels: days.map((d) => d.date.slice(5)),
              datasets: series.map((k, i) => ({ label: t(`home.sessions.${k}`), data: days.map((d) => d[k]), backgroundColor: PALETTE[i] })),
            },
            options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
          }),
        );
    }
  }

  private table(caption: string, rows: [string, number][]) {
    return html`<table class="sr-only">
      <caption>${caption}</caption>
      <tbody>
        ${rows.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${formatNumber(v)}</td></tr>`)}
      </tbody>
    </table>`;
  }

  render() {
    const s = this.summary;
    const d = s?.devices;
    const r = s?.remoteAssistanceSessions;
    const p = this.partner;
    const status = p ? (p.needsReauthorization ? 'needsReauthorization' : p.onboardingStatus) : '';
    return html`<h1>${t('home.title')}</h1>
      ${errorBar(this.error)}
      ${!s && !this.error ? html`<fluent-spinner aria-label=${t('common.loading')}></fluent-spinner>` : nothing}
      <div class="tiles">
        ${d
          ? html`<section class="card" aria-labelledby="h-total">
                <h2 id="h-total">${t('home.devices')}</h2>
                <p class="big">${formatNumber(d.total)}</p>
                <p><a href="/devices">${t('nav.allDevices')}</a></p>
              </section>
              <section class="card" aria-labelledby="h-platform">
                <h2 id="h-platform">${t('home.byPlatform')}</h2>
                <div class="chart"><canvas id="platform" role="img" aria-label=${t('home.byPlatform')}></canvas></div>
                ${this.table(t('home.byPlatform'), Object.entries(d.byPlatform))}
              </section>
              <section class="card" aria-labelledby="h-ownership">
                <h2 id="h-ownership">${t('home.byOwnership')}</h2>
                <div class="chart"><canvas id="ownership" role="img" aria-label=${t('home.byOwnership')}></canvas></div>
                ${this.table(t('home.byOwnership'), Object.entries(d.byOwnership).map(([k, v]): [string, number] => [tMaybe(`ownership.${k}`) ?? k, v]))}
              </section>
              <section class="card" aria-labelledby="h-checkin">
                <h2 id="h-checkin">${t('home.byCheckIn')}</h2>
                <div class="chart"><canvas id="checkin" role="img" aria-label=${t('home.byCheckIn')}></canvas></div>
                ${this.table(
                  t('home.byCheckIn'),
                  (['day', 'week', 'month', 'older'] as const).map((k): [string, number] => [t(`home.checkin.${k}`), d.byLastCheckIn[k] ?? 0]),
                )}
              </section>`
          : nothing}
        ${p
          ? html`<section class="card" aria-labelledby="h-connector">
              <h2 id="h-connector">${t('connector.title')}</h2>
              <p class="big" style="font-size:var(--fontSizeBase500)">${tMaybe(`connector.status.${status}`) ?? status}</p>
              ${can(A.raUpdate) ? html`<p><a href="/tenant/connector">${t('home.manageConnector')}</a></p>` : nothing}
            </section>`
          : nothing}
      </div>
      ${r
        ? html`<section class="card" aria-labelledby="h-sessions">
            <h2 id="h-sessions">${t('home.sessions30')}</h2>
            <dl class="figures">
              ${(['requested', 'accepted', 'connected', 'declined', 'expired'] as const).map(
                (k) => html`<div><dt>${t(`home.sessions.${k}`)}</dt><dd class="big">${formatNumber(r[k])}</dd></div>`,
              )}
            </dl>
            <div class="chart" style="height:260px"><canvas id="sessions" role="img" aria-label=${t('home.sessions30')}></canvas></div>
            ${can(A.raRead) ? html`<p><a href="/tenant/sessions">${t('nav.sessions')}</a></p>` : nothing}
          </section>`
        : nothing}`;
  }
}
customElements.define('reach-home', ReachHome);
