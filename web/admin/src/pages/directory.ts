// Users and Groups: lists, create, edit, disable, licences, delete, and group members (users and
// devices).
import { css, html, nothing } from 'lit';
import { ApiError, all, del, get, odataString, patch, post, type Page as ListPage } from '../api.js';
import { formatDateTime, t } from '../i18n/index.js';
import type { Group, ManagedDevice, User } from '../model.js';
import { navigate } from '../router.js';
import { A, can } from '../permissions.js';
import { CollectionPage, Page, checkbox, confirmDialog, doneBar, errorBar, type CheckEl } from '../components/ui.js';

type Field = HTMLElement & { value: string };
const SKU = 'b05e124f-c7cc-45a0-a6aa-8cf78c946968';
const value = (root: ShadowRoot | HTMLElement, id: string) => ((root.querySelector(id) as Field | null)?.value ?? '').trim();

const listStyles = css`
  .head {
    display: flex;
    align-items: center;
    gap: 16px;
  }
  .head h1 {
    flex: 1;
  }
`;

export class ReachUsers extends CollectionPage<User> {
  static styles = [...Page.styles, listStyles];

  protected source(): string {
    return '/v1.0/users?$top=999';
  }

  private async create(): Promise<void> {
    const r = this.renderRoot as ShadowRoot;
    const licensed = (r.querySelector('#licensed') as CheckEl).checked;
    try {
      const u = await post<User>('/v1.0/users', {
        displayName: value(r, '#name'),
        userPrincipalName: value(r, '#upn'),
        mail: value(r, '#upn'),
        accountEnabled: true,
        passwordProfile: { password: (r.querySelector('#password') as Field).value },
      });
      if (licensed) await post(`/v1.0/users/${u.id}/assignLicense`, { addLicenses: [{ skuId: SKU }], removeLicenses: [] });
      this.dialog().hide();
      navigate(`/users/${u.id}`);
    } catch (e) {
      this.formError = e;
    }
  }

  render() {
    const canEdit = can(A.orgUpdate);
    return html`<div class="head">
        <h1>${t('users.title')}</h1>
        ${canEdit
          ? html`<fluent-button appearance="primary" @click=${() => this.openCreate()}>${t('users.new')}</fluent-button>`
          : nothing}
      </div>
      ${errorBar(this.error)}
      <table aria-label=${t('users.title')}>
        <thead>
          <tr>
            <th scope="col">${t('users.name')}</th>
            <th scope="col">${t('users.upn')}</th>
            <th scope="col">${t('users.status')}</th>
            <th scope="col">${t('users.licence')}</th>
          </tr>
        </thead>
        <tbody>
          ${this.items.map(
            (u) => html`<tr>
              <td><a href="/users/${u.id}">${u.displayName}</a></td>
              <td>${u.userPrincipalName}</td>
              <td>${u.accountEnabled ? t('users.enabled') : t('users.disabled')}</td>
              <td>${u.assignedLicenses.length ? t('users.licensed') : t('users.unlicensed')}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <fluent-dialog id="create" aria-label=${t('users.new')}>
        <fluent-dialog-body>
          <h2 slot="title">${t('users.new')}</h2>
          <div class="form">
            ${errorBar(this.formError)}
            <fluent-text-input id="name">${t('users.name')}</fluent-text-input>
            <fluent-text-input id="upn" type="email">${t('users.upn')}</fluent-text-input>
            <fluent-text-input id="password" type="password" autocomplete="new-password">${t('users.password')}</fluent-text-input>
            ${checkbox(t('users.assignLicence'), { id: 'licensed', checked: true })}
          </div>
          <fluent-button slot="action" appearance="primary" @click=${() => this.create()}>${t('common.create')}</fluent-button>
          <fluent-button slot="action" @click=${() => this.dialog().hide()}>${t('common.cancel')}</fluent-button>
        </fluent-dialog-body>
      </fluent-dialog>`;
  }
}
customElements.define('reach-users', ReachUsers);

export class ReachUser extends Page {
  static styles = [...Page.styles, listStyles];
  static properties = { userId: {}, generation: {}, user: { state: true }, devices: { state: true }, error: { state: true }, done: { state: true } };
  declare userId: string;
  declare generation: number;
  declare user: User | undefined;
  declare devices: ManagedDevice[];
  declare error: unknown;
  declare done: string | undefined;

  constructor() {
    super();
    this.userId = '';
    this.generation = 0;
    this.user = undefined;
    this.devices = [];
    this.error = undefined;
    this.done = undefined;
  }

  protected updated(changed: Map<string, unknown>): void {
    if (changed.has('userId') || changed.has('generation')) void this.load();
  }

  private async load(): Promise<void> {
    try {
      const id = encodeURIComponent(this.userId);
      this.user = await get<User>(`/v1.0/users/${id}`);
      this.devices = can(A.devicesRead) ? (await get<ListPage<ManagedDevice>>(`/v1.0/users/${id}/managedDevices`)).value : [];
      this.error = undefined;
    } catch (e) {
      this.error = e;
    }
  }

  private async run(f: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await f();
      this.done = done;
      this.error = undefined;
      await this.load();
    } catch (e) {
      this.error = e;
      this.done = undefined;
    }
  }

  render() {
    const u = this.user;
    if (!u) return html`${errorBar(this.error)}${this.error ? nothing : html`<fluent-spinner aria-label=${t('common.loading')}></fluent-spinner>`}`;
    const path = `/v1.0/users/${u.id}`;
    const r = this.renderRoot as ShadowRoot;
    const licensed = u.assignedLicenses.length > 0;
    const canEdit = can(A.orgUpdate);
    return html`<p class="muted"><a href="/users">${t('users.title')}</a> ›</p>
      <h1>${u.displayName}</h1>
      ${errorBar(this.error)} ${doneBar(this.done)}
      <section class="card">
        <dl class="essentials">
          <div><dt>${t('users.upn')}</dt><dd>${u.userPrincipalName}</dd></div>
          <div><dt>${t('users.status')}</dt><dd>${u.accountEnabled ? t('users.enabled') : t('users.disabled')}</dd></div>
          <div><dt>${t('users.licence')}</dt><dd>${licensed ? t('users.licensed') : t('users.unlicensed')}</dd></div>
        </dl>
      </section>
      ${canEdit
        ? html`<section class="card" aria-labelledby="edit-h">
            <h2 id="edit-h">${t('users.edit')}</h2>
            <div class="form">
              <fluent-text-input id="name" .value=${u.displayName}>${t('users.name')}</fluent-text-input>
              <fluent-text-input id="password" type="password" autocomplete="new-password">${t('users.newPassword')}</fluent-text-input>
              <div class="actions">
                <fluent-button appearance="primary" @click=${() => {
                  const body: Record<string, unknown> = { displayName: value(r, '#name') };
                  const pw = (r.querySelector('#password') as Field).value;
                  if (pw) body.passwordProfile = { password: pw };
                  void this.run(() => patch(path, body), t('common.saved'));
                }}>${t('common.save')}</fluent-button>
                <fluent-button @click=${() => this.run(() => patch(path, { accountEnabled: !u.accountEnabled }), t('common.saved'))}
                  >${u.accountEnabled ? t('users.disable') : t('users.enable')}</fluent-button
                >
                <fluent-button
                  @click=${() =>
                    this.run(
                      () => post(`${path}/assignLicense`, licensed ? { addLicenses: [], removeLicenses: [SKU] } : { addLicenses: [{ skuId: SKU }], removeLicenses: [] }),
                      t('common.saved'),
                    )}
                  >${licensed ? t('users.removeLicence') : t('users.assignLicence')}</fluent-button
                >
                <fluent-button @click=${async () => {
                  if (!(await confirmDialog().ask({ title: t('users.deleteTitle'), text: t('users.deleteConfirm', { name: u.displayName }) }))) return;
                  try {
                    await del(path);
                    navigate('/users');
                  } catch (e) {
                    this.error = e;
                  }
                }}>${t('common.delete')}</fluent-button>
              </div>
            </div>
          </section>`
        : nothing}
      <h2>${t('users.devices')}</h2>
      ${this.devices.length
        ? html`<ul>
            ${this.devices.map((d) => html`<li><a href="/devices/${d.id}">${d.deviceName}</a> (${d.operatingSystem}, ${formatDateTime(d.lastSyncDateTime)})</li>`)}
          </ul>`
        : html`<p>${t('users.noDevices')}</p>`}`;
  }
}
customElements.define('reach-user', ReachUser);

export class ReachGroups extends CollectionPage<Group> {
  static styles = [...Page.styles, listStyles];

  protected source(): string {
    return '/v1.0/groups?$top=999';
  }

  private async create(): Promise<void> {
    const r = this.renderRoot as ShadowRoot;
    try {
      const g = await post<Group>('/v1.0/groups', { displayName: value(r, '#name'), description: value(r, '#description') || null });
      this.dialog().hide();
      navigate(`/groups/${g.id}`);
    } catch (e) {
      this.formError = e;
    }
  }

  render() {
    return html`<div class="head">
        <h1>${t('groups.title')}</h1>
        ${can(A.orgUpdate)
          ? html`<fluent-button appearance="primary" @click=${() => this.openCreate()}>${t('groups.new')}</fluent-button>`
          : nothing}
      </div>
      ${errorBar(this.error)}
      <table aria-label=${t('groups.title')}>
        <thead>
          <tr>
            <th scope="col">${t('groups.name')}</th>
            <th scope="col">${t('groups.description')}</th>
          </tr>
        </thead>
        <tbody>
          ${this.items.map((g) => html`<tr><td><a href="/groups/${g.id}">${g.displayName}</a></td><td>${g.description ?? ''}</td></tr>`)}
        </tbody>
      </table>
      <fluent-dialog id="create" aria-label=${t('groups.new')}>
        <fluent-dialog-body>
          <h2 slot="title">${t('groups.new')}</h2>
          <div class="form">
            ${errorBar(this.formError)}
            <fluent-text-input id="name">${t('groups.name')}</fluent-text-input>
            <fluent-text-input id="description">${t('groups.description')}</fluent-text-input>
          </div>
          <fluent-button slot="action" appearance="primary" @click=${() => this.create()}>${t('common.create')}</fluent-button>
          <fluent-button slot="action" @click=${() => this.dialog().hide()}>${t('common.cancel')}</fluent-button>
        </fluent-dialog-body>
      </fluent-dialog>`;
  }
}
customElements.define('reach-groups', ReachGroups);

interface Member {
  '@odata.type': string;
  id: string;
  displayName?: string;
  userPrincipalName?: string;
}

export class ReachGroup extends Page {
  static styles = [...Page.styles, listStyles];
  static properties = { groupId: {}, generation: {}, group: { state: true }, members: { state: true }, error: { state: true }, done: { state: true } };
  declare groupId: string;
  declare generation: number;
  declare group: Group | undefined;
  declare members: Member[];
  declare error: unknown;
  declare done: string | undefined;

  constructor() {
    super();
    this.groupId = '';
    this.generation = 0;
    this.group = undefined;
    this.members = [];
    this.error = undefined;
    this.done = undefined;
  }

  protected updated(changed: Map<string, unknown>): void {
    if (changed.has('groupId') || changed.has('generation')) void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.group = await get<Group>(`/v1.0/groups/${this.groupId}`);
      this.members = await all<Member>(`/v1.0/groups/${this.groupId}/members`);
      this.error = undefined;
    } catch (e) {
      this.error = e;
    }
  }

  // A member is named as a person would: a user's email or a device's name.
  private async addMember(): Promise<void> {
    const r = this.renderRoot as ShadowRoot;
    const who = value(r, '#member');
    if (!who) return;
    try {
      let id: string | undefined;
      try {
        id = (await get<User>(`/v1.0/users/${encodeURIComponent(who)}`)).id;
      } catch {
        const found = await get<ListPage<ManagedDevice>>(`/v1.0/deviceManagement/managedDevices?$top=2&$select=id&$filter=${encodeURIComponent(`deviceName eq ${odataString(who)}`)}`);
        if (found.value.length !== 1) throw new Error('notFound');
        id = found.value[0]!.id;
      }
      await post(`/v1.0/groups/${this.groupId}/members/$ref`, { '@odata.id': `${location.origin}/v1.0/directoryObjects/${id}` });
      (r.querySelector('#member') as Field).value = '';
      this.done = t('groups.memberAdded');
      await this.load();
    } catch (e) {
      this.error = e instanceof Error && e.message === 'notFound' ? new ApiError(404, 'memberNotFound', '') : e;
      this.done = undefined;
    }
  }

  render() {
    const g = this.group;
    if (!g) return html`${errorBar(this.error)}${this.error ? nothing : html`<fluent-spinner aria-label=${t('common.loading')}></fluent-spinner>`}`;
    const canEdit = can(A.orgUpdate);
    const r = this.renderRoot as ShadowRoot;
    return html`<p class="muted"><a href="/groups">${t('groups.title')}</a> ›</p>
      <h1>${g.displayName}</h1>
      ${errorBar(this.error)} ${doneBar(this.done)}
      ${canEdit
        ? html`<section class="card" aria-labelledby="edit-h">
            <h2 id="edit-h">${t('groups.edit')}</h2>
            <div class="form">
              <fluent-text-input id="name" .value=${g.displayName}>${t('groups.name')}</fluent-text-input>
              <fluent-text-input id="description" .value=${g.description ?? ''}>${t('groups.description')}</fluent-text-input>
              <div class="actions">
                <fluent-button appearance="primary" @click=${async () => {
                  try {
                    await patch(`/v1.0/groups/${g.id}`, { displayName: value(r, '#name'), description: value(r, '#description') });
                    this.done = t('common.saved');
                    await this.load();
                  } catch (e) {
                    this.error = e;
                  }
                }}>${t('common.save')}</fluent-button>
                <fluent-button @click=${async () => {
                  if (!(await confirmDialog().ask({ title: t('groups.deleteTitle'), text: t('groups.deleteConfirm', { name: g.displayName }) }))) return;
                  try {
                    await del(`/v1.0/groups/${g.id}`);
                    navigate('/groups');
                  } catch (e) {
                    this.error = e;
                  }
                }}>${t('common.delete')}</fluent-button>
              </div>
            </div>
          </section>`
        : nothing}
      <h2>${t('groups.members')}</h2>
      ${canEdit
        ? html`<form class="toolbar" @submit=${(e: Event) => (e.preventDefault(), this.addMember())}>
            <fluent-text-input id="member">${t('groups.memberName')}</fluent-text-input>
            <fluent-button type="submit">${t('groups.addMember')}</fluent-button>
          </form>`
        : nothing}
      <table aria-label=${t('groups.members')}>
        <thead>
          <tr>
            <th scope="col">${t('groups.memberName')}</th>
            <th scope="col">${t('groups.memberType')}</th>
            ${canEdit ? html`<th scope="col"><span class="sr-only">${t('common.remove')}</span></th>` : nothing}
          </tr>
        </thead>
        <tbody>
          ${this.members.map((m) => {
            const device = m['@odata.type'].endsWith('device');
            const name = m.displayName ?? m.userPrincipalName ?? m.id;
            return html`<tr>
              <td>${device ? html`<a href="/devices/${m.id}">${name}</a>` : html`<a href="/users/${m.id}">${name}</a>`}</td>
              <td>${device ? t('groups.device') : t('groups.user')}</td>
              ${canEdit
                ? html`<td>
                    <fluent-button size="small" aria-label=${t('groups.removeMember', { name })} @click=${async () => {
                      try {
                        await del(`/v1.0/groups/${g.id}/members/${m.id}/$ref`);
                        await this.load();
                      } catch (e) {
                        this.error = e;
                      }
                    }}>${t('common.remove')}</fluent-button>
                  </td>`
                : nothing}
            </tr>`;
          })}
        </tbody>
      </table>`;
  }
}
customElements.define('reach-group', ReachGroup);
