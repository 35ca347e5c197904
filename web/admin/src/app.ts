// <reach-app>: the admin center's frame (header, navigation, the page of the current route),
// sign-in when there is no session, and the notice when the hub cannot be reached.
import { LitElement, css, html, nothing } from 'lit';
import { ApiError, api, checkHealth, onApiEvent } from './api.js';
import { LocaleController, locale, setLocale, t, type Locale, type MessageKey } from './i18n/index.js';
import { A, can, currentUser, forgetMe, loadMe, type Action } from './permissions.js';
import { navigate, onRoute, parse, type Route } from './router.js';
import { shared } from './styles.js';
import { errorText, messageBar } from './components/ui.js';
import { icon, type IconName } from './icons.js';
import './pages/signin.js';
import './pages/home.js';
import './pages/devices.js';
import './pages/device.js';
import './pages/connector.js';
import './pages/roles.js';
import './pages/directory.js';
import './pages/enrollment.js';
import './pages/history.js';

interface NavItem {
  path: string;
  label: MessageKey;
  icon: IconName;
  needs?: Action;
  routes: string[];
}
interface NavGroup {
  label?: MessageKey;
  items: NavItem[];
}

const nav: NavGroup[] = [
  { items: [{ path: '/', label: 'nav.home', icon: 'home', routes: ['home'] }] },
  {
    label: 'nav.devices',
    items: [
      { path: '/devices', label: 'nav.allDevices', icon: 'laptop', needs: A.devicesRead, routes: ['devices', 'device'] },
      { path: '/enrollment', label: 'nav.enrollment', icon: 'phoneAdd', needs: A.enrollmentCreate, routes: ['enrollment'] },
    ],
  },
  {
    label: 'nav.directory',
    items: [
      { path: '/users', label: 'nav.users', icon: 'person', needs: A.orgRead, routes: ['users', 'user'] },
      { path: '/groups', label: 'nav.groups', icon: 'people', needs: A.orgRead, routes: ['groups', 'group'] },
    ],
  },
  {
    label: 'nav.tenant',
    items: [
      { path: '/tenant/connector', label: 'nav.connector', icon: 'plugConnected', needs: A.raRead, routes: ['connector'] },
      { path: '/tenant/roles', label: 'nav.roles', icon: 'shieldPerson', needs: A.rolesRead, routes: ['roles', 'role'] },
      { path: '/tenant/sessions', label: 'nav.sessions', icon: 'personSupport', needs: A.raRead, routes: ['sessions'] },
      { path: '/tenant/audit', label: 'nav.audit', icon: 'documentSearch', needs: A.auditRead, routes: ['audit'] },
    ],
  },
];

// Which action a route needs (the page is not shown without it; the hub refuses anyway).
function routeAction(name: string): Action | undefined {
  for (const g of nav) for (const i of g.items) if (i.routes.includes(name)) return i.needs;
  return undefined;
}

export class ReachApp extends LitElement {
  static styles = [
    shared,
    css`
      :host {
        display: grid;
        grid-template-rows: auto auto 1fr;
        grid-template-columns: 240px 1fr;
        min-height: 100vh;
        background: var(--colorNeutralBackground2);
      }
      header {
        grid-column: 1 / -1;
        display: flex;
        align-items: center;
        gap: 16px;
        padding: 0 16px;
        height: 48px;
        background: var(--colorNeutralBackground1);
        border-bottom: 1px solid var(--colorNeutralStroke2);
      }
      header .product {
        font-weight: var(--fontWeightSemibold);
        font-size: var(--fontSizeBase400);
        color: var(--colorBrandForeground1);
        text-decoration: none;
      }
      header .spacer {
        flex: 1;
      }
      header fluent-dropdown {
        flex: none;
      }
      header .user {
        white-space: nowrap;
      }
      .notice {
        grid-column: 1 / -1;
      }
      nav {
        background: var(--colorNeutralBackground1);
        border-inline-end: 1px solid var(--colorNeutralStroke2);
        padding: 8px 0;
      }
      nav h2 {
        font-size: var(--fontSizeBase200);
        color: var(--colorNeutralForeground3);
        text-transform: uppercase;
        letter-spacing: 0.04em;
        margin: 16px 16px 4px;
      }
      nav ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      nav a {
        display: flex;
        gap: 8px;
        align-items: center;
        padding: 8px 16px;
        color: var(--colorNeutralForeground1);
        text-decoration: none;
        border-inline-start: 3px solid transparent;
      }
      nav a .icon {
        color: var(--colorNeutralForeground3);
      }
      nav a[aria-current='page'] .icon {
        color: var(--colorBrandForeground1);
      }
      nav a:hover {
        background: var(--colorNeutralBackground1Hover);
      }
      nav a[aria-current='page'] {
        border-inline-start-color: var(--colorBrandStroke1);
        background: var(--colorNeutralBackground1Selected);
        font-weight: var(--fontWeightSemibold);
      }
      main {
        padding: 24px 32px;
        min-width: 0;
      }
      :host(.signed-out) {
        grid-template-columns: 1fr;
      }
      .skip {
        position: absolute;
        left: -9999px;
      }
      .skip:focus {
        left: 8px;
        top: 8px;
        z-index: 10;
        background: var(--colorNeutralBackground1);
        padding: 8px;
      }
    `,
  ];
  static properties = {
    route: { state: true },
    signedIn: { state: true },
    offline: { state: true },
    ready: { state: true },
    generation: { state: true },
    startupError: { state: true },
  };
  declare route: Route;
  declare signedIn: boolean;
  declare offline: boolean;
  declare ready: boolean;
  declare generation: number; // bumps to make the page load its data again
  declare startupError: unknown;
  protected readonly i18n = new LocaleController(this);
  private healthTimer?: number;

  constructor() {
    super();
    this.route = parse();
    this.signedIn = false;
    this.offline = false;
    this.ready = false;
    this.generation = 0;
    this.startupError = undefined;
    onRoute((r) => {
      this.route = r;
      window.scrollTo(0, 0);
    });
    onApiEvent((e) => {
      if (e === 'unauthenticated' && this.signedIn) {
        this.signedIn = false;
        forgetMe();
      } else if (e === 'offline') {
        this.offline = true;
        this.watchHealth();
      } else if (e === 'online' && this.offline) {
        this.offline = false;
        this.generation++;
      }
    });
    void this.start();
  }

  private async start(): Promise<void> {
    try {
      await loadMe();
      this.signedIn = true;
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) this.startupError = e;
      this.signedIn = false;
      if (e instanceof ApiError && e.status === 0) {
        this.offline = true;
        this.watchHealth();
      }
    }
    this.ready = true;
  }

  private watchHealth(): void {
    if (this.healthTimer) return;
    this.healthTimer = window.setInterval(async () => {
      if (await checkHealth()) {
        window.clearInterval(this.healthTimer);
        this.healthTimer = undefined;
        this.offline = false;
        if (!this.signedIn) void this.start();
        else this.generation++;
      }
    }, 3000);
  }

  private async signOut(): Promise<void> {
    try {
      await api('POST', '/api/auth/signout', undefined, { quiet401: true });
    } catch {
      // Signed out already, or the hub is away: the page forgets the session either way.
    }
    forgetMe();
    this.signedIn = false;
    navigate('/', true);
  }

  private async signedInNow(): Promise<void> {
    await loadMe();
    this.signedIn = true;
    if (this.route.name === 'signin') navigate('/', true);
  }

  protected updated(): void {
    this.classList.toggle('signed-out', !this.signedIn);
    const titleKey = this.signedIn ? `title.${this.route.name}` : 'title.signin';
    document.title = `${t(titleKey as MessageKey)} – ${t('app.name')}`;
  }

  private renderPage() {
    const r = this.route;
    const needs = routeAction(r.name);
    if (needs && !can(needs))
      return html`<h1>${t('page.forbiddenTitle')}</h1>
        <p>${t('page.forbidden')}</p>`;
    const g = this.generation;
    switch (r.name) {
      case 'home':
        return html`<reach-home .generation=${g}></reach-home>`;
      case 'devices':
        return html`<reach-devices .generation=${g}></reach-devices>`;
      case 'device':
        return html`<reach-device .deviceId=${r.params.id} .generation=${g}></reach-device>`;
      case 'enrollment':
        return html`<reach-enrollment .generation=${g}></reach-enrollment>`;
      case 'users':
        return html`<reach-users .generation=${g}></reach-users>`;
      case 'user':
        return html`<reach-user .userId=${r.params.id} .generation=${g}></reach-user>`;
      case 'groups':
        return html`<reach-groups .generation=${g}></reach-groups>`;
      case 'group':
        return html`<reach-group .groupId=${r.params.id} .generation=${g}></reach-group>`;
      case 'connector':
        return html`<reach-connector .outcome=${r.query.get('onboarding') ?? ''} .generation=${g}></reach-connector>`;
      case 'roles':
        return html`<reach-roles .generation=${g}></reach-roles>`;
      case 'role':
        return html`<reach-role .roleId=${r.params.id} .generation=${g}></reach-role>`;
      case 'sessions':
        return html`<reach-history .generation=${g}></reach-history>`;
      case 'audit':
        return html`<reach-audit .generation=${g}></reach-audit>`;
      case 'signin':
        return html`<reach-home .generation=${g}></reach-home>`;
      default:
        return html`<h1>${t('page.notFoundTitle')}</h1>
          <p>${t('page.notFound')} <a href="/">${t('nav.home')}</a></p>`;
    }
  }

  private renderNav() {
    return html`<nav aria-label=${t('nav.label')}>
      ${nav.map((g) => {
        const items = g.items.filter((i) => !i.needs || can(i.needs));
        if (!items.length) return nothing;
        return html`${g.label ? html`<h2>${t(g.label)}</h2>` : nothing}
          <ul>
            ${items.map(
              (i) =>
                html`<li>
                  <a href=${i.path} aria-current=${i.routes.includes(this.route.name) ? 'page' : 'false'}>${icon(i.icon)}${t(i.label)}</a>
                </li>`,
            )}
          </ul>`;
      })}
    </nav>`;
  }

  render() {
    const me = currentUser();
    const header = html`<header>
      <button class="skip" @click=${() => (this.renderRoot.querySelector('main') as HTMLElement | null)?.focus()}>${t('app.skipToContent')}</button>
      <a class="product" href="/">${t('app.name')}</a>
      <span class="spacer"></span>
      <span class="sr-only" id="language-label">${t('app.language')}</span>
      <fluent-dropdown
        size="small"
        aria-labelledby="language-label"
        @change=${(e: Event) => setLocale((e.currentTarget as HTMLElement & { value: string }).value as Locale)}
      >
        <fluent-listbox>
          <fluent-option value="en" ?selected=${locale() === 'en'}>English</fluent-option>
          <fluent-option value="nb" ?selected=${locale() === 'nb'}>Norsk bokmål</fluent-option>
        </fluent-listbox>
      </fluent-dropdown>
      ${this.signedIn && me
        ? html`<span class="user">${me.displayName}</span>
            <fluent-button appearance="subtle" @click=${() => this.signOut()}>${t('app.signOut')}</fluent-button>`
        : nothing}
    </header>`;
    const notice = this.offline
      ? html`<div class="notice">
          ${messageBar('warning', t('app.offline'))}
        </div>`
      : this.startupError
        ? html`<div class="notice">
            ${messageBar('error', errorText(this.startupError))}
          </div>`
        : html`<div class="notice"></div>`;
    if (!this.ready) return html`${header}${notice}<main id="main" tabindex="-1"><fluent-spinner aria-label=${t('common.loading')}></fluent-spinner></main>`;
    if (!this.signedIn)
      return html`${header}${notice}<main id="main" tabindex="-1"><reach-signin @signed-in=${() => this.signedInNow()}></reach-signin></main>`;
    const blocked = me?.blockedReason
      ? messageBar('warning', t('app.unlicensed'))
      : nothing;
    return html`${header}${notice}${this.renderNav()}
      <main id="main" tabindex="-1">${blocked}${this.renderPage()}</main>`;
  }
}
customElements.define('reach-app', ReachApp);
