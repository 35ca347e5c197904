// Tenant administration > Roles: built-in and custom roles with their permissions in words,
// create, edit and delete custom roles, and each role's assignments (members, scope groups,
// scope type).
import { css, html, nothing } from 'lit';
import { all, del, get, patch, post } from '../api.js';
import { t, tMaybe, type MessageKey } from '../i18n/index.js';
import type { Group, RoleAssignment, RoleDefinition, User } from '../model.js';
import { A, can } from '../permissions.js';
import { navigate } from '../router.js';
import { CollectionPage, Page, checkbox, confirmDialog, doneBar, errorBar, picked, select, type CheckEl, type DialogEl } from '../components/ui.js';

type Field = HTMLElement & { value: string };

// The Intune action strings, grouped and named as a person reads them.
const GROUPS: { label: MessageKey; actions: [string, MessageKey][] }[] = [
  { label: 'perm.group.devices', actions: [[A.devicesRead, 'perm.devicesRead'], [A.devicesUpdate, 'perm.devicesUpdate']] },
  {
    label: 'perm.group.remoteTasks',
    actions: [[A.raRequest, 'perm.raRequest'], [A.sendNotification, 'perm.sendNotification']],
  },
  { label: 'perm.group.remoteAssistance', actions: [[A.raRead, 'perm.raRead'], [A.raUpdate, 'perm.raUpdate']] },
  { label: 'perm.group.organization', actions: [[A.orgRead, 'perm.orgRead'], [A.orgUpdate, 'perm.orgUpdate']] },
  {
    label: 'perm.group.roles',
    actions: [[A.rolesRead, 'perm.rolesRead'], [A.rolesCreate, 'perm.rolesCreate'], [A.rolesUpdate, 'perm.rolesUpdate'], [A.rolesDelete, 'perm.rolesDelete'], [A.rolesAssign, 'perm.rolesAssign']],
  },
  { label: 'perm.group.enrollment', actions: [[A.enrollmentCreate, 'perm.enrollmentCreate']] },
  { label: 'perm.group.audit', actions: [[A.auditRead, 'perm.auditRead']] },
];

// A built-in role's description in the page's language; a custom role's as its author wrote it.
const describe = (r: RoleDefinition) => (r.isBuiltIn ? (tMaybe(`roleDesc.${r.id}`) ?? r.description) : r.description) ?? '';
const actionsOf = (r: RoleDefinition) => r.rolePermissions.flatMap((p) => p.resourceActions.flatMap((a) => a.allowedResourceActions));
const SCOPE_TYPES = ['resourceScope', 'allDevices', 'allLicensedUsers', 'allDevicesAndLicensedUsers'];

function permissionList(actions: string[]) {
  return GROUPS.map((g) => {
    const held = g.actions.filter(([a]) => actions.includes(a));
    if (!held.length) return nothing;
    return html`<h3>${t(g.label)}</h3>
      <ul>
        ${held.map(([a, label]) => html`<li>${t(label)} <span class="muted">(<code>${a}</code>)</span></li>`)}
      </ul>`;
  });
}

// Checkboxes of every action, grouped; `checked` preselects.
function permissionPicker(checked: string[]) {
  return GROUPS.map(
    (g) => html`<fieldset>
      <legend>${t(g.label)}</legend>
      ${g.actions.map(([a, label]) => checkbox(t(label), { name: 'action', value: a, checked: checked.includes(a) }))}
    </fieldset>`,
  );
}

const pickedActions = (root: ShadowRoot) => picked(root, 'action');

const styles = css`
  .head {
    display: flex;
    align-items: center;
    gap: 16px;
  }
  .head h1 {
    flex: 1;
  }
  fieldset {
    border: 1px solid var(--colorNeutralStroke2);
    border-radius: var(--borderRadiusMedium);
    margin-bottom: 8px;
    display: flex;
    flex-direction: column;
    align-items: start;
  }
  h3 {
    margin: 12px 0 4px;
    font-size: var(--fontSizeBase300);
  }
`;

export class ReachRoles extends CollectionPage<RoleDefinition> {
  static styles = [...Page.styles, styles];

  protected source(): string {
    return '/v1.0/deviceManagement/roleDefinitions';
  }

  private async create(): Promise<void> {
    const r = this.renderRoot as ShadowRoot;
    try {
      const role = await post<RoleDefinition>('/v1.0/deviceManagement/roleDefinitions', {
        displayName: (r.querySelector('#name') as Field).value.trim(),
        description: (r.querySelector('#description') as Field).value.trim(),
        rolePermissions: [{ resourceActions: [{ allowedResourceActions: pickedActions(r), notAllowedResourceActions: [] }] }],
      });
      this.dialog().hide();
      navigate(`/tenant/roles/${role.id}`);
    } catch (e) {
      this.formError = e;
    }
  }

  render() {
    const row = (r: RoleDefinition) => html`<tr>
      <td><a href="/tenant/roles/${r.id}">${r.displayName}</a></td>
      <td>${r.isBuiltIn ? t('roles.builtIn') : t('roles.custom')}</td>
      <td>${describe(r)}</td>
    </tr>`;
    return html`<p class="muted">${t('nav.tenant')}</p>
      <div class="head">
        <h1>${t('roles.title')}</h1>
        ${can(A.rolesCreate)
          ? html`<fluent-button appearance="primary" @click=${() => this.openCreate()}>${t('roles.new')}</fluent-button>`
          : nothing}
      </div>
      ${errorBar(this.error)}
      <table aria-label=${t('roles.title')}>
        <thead>
          <tr>
            <th scope="col">${t('roles.name')}</th>
            <th scope="col">${t('roles.type')}</th>
            <th scope="col">${t('roles.description')}</th>
          </tr>
        </thead>
        <tbody>
          ${this.items.filter((r) => r.isBuiltIn).map(row)} ${this.items.filter((r) => !r.isBuiltIn).map(row)}
        </tbody>
      </table>
      <fluent-dialog id="create" aria-label=${t('roles.new')}>
        <fluent-dialog-body>
          <h2 slot="title">${t('roles.new')}</h2>
          <div class="form">
            ${errorBar(this.formError)}
            <fluent-text-input id="name">${t('roles.name')}</fluent-text-input>
            <fluent-text-input id="description">${t('roles.description')}</fluent-text-input>
            ${permissionPicker([])}
          </div>
          <fluent-button slot="action" appearance="primary" @click=${() => this.create()}>${t('common.create')}</fluent-button>
          <fluent-button slot="action" @click=${() => this.dialog().hide()}>${t('common.cancel')}</fluent-button>
        </fluent-dialog-body>
      </fluent-dialog>`;
  }
}
customElements.define('reach-roles', ReachRoles);

export class ReachRole extends Page {
  static styles = [...Page.styles, styles];
  static properties = {
    roleId: {},
    generation: {},
    definition: { state: true },
    assignments: { state: true },
    groups: { state: true },
    error: { state: true },
    done: { state: true },
    scopeType: { state: true },
    formError: { state: true },
  };
  declare roleId: string;
  declare generation: number;
  declare definition: RoleDefinition | undefined;
  declare assignments: RoleAssignment[];
  declare groups: Group[];
  declare error: unknown;
  declare done: string | undefined;
  declare scopeType: string;
  declare formError: unknown;

  constructor() {
    super();
    this.roleId = '';
    this.generation = 0;
    this.definition = undefined;
    this.assignments = [];
    this.groups = [];
    this.error = undefined;
    this.done = undefined;
    this.scopeType = 'resourceScope';
    this.formError = undefined;
  }

  protected updated(changed: Map<string, unknown>): void {
    if (changed.has('roleId') || changed.has('generation')) void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.definition = await get<RoleDefinition>(`/v1.0/deviceManagement/roleDefinitions/${encodeURIComponent(this.roleId)}`);
      const assignments = await all<RoleAssignment & { roleDefinitionId: string }>('/v1.0/deviceManagement/roleAssignments');
      this.assignments = assignments.filter((a) => a.roleDefinitionId === this.definition!.id);
      this.groups = can(A.orgRead) ? await all<Group>('/v1.0/groups?$top=999') : [];
      this.error = undefined;
    } catch (e) {
      this.error = e;
    }
  }

  private groupName(id: string): string {
    return this.groups.find((g) => g.id === id)?.displayName ?? id;
  }

  private async saveRole(): Promise<void> {
    const r = this.renderRoot as ShadowRoot;
    try {
      this.definition = await patch<RoleDefinition>(`/v1.0/deviceManagement/roleDefinitions/${this.definition!.id}`, {
        displayName: (r.querySelector('#name') as Field).value.trim(),
        description: (r.querySelector('#description') as Field).value.trim(),
        rolePermissions: [{ resourceActions: [{ allowedResourceActions: pickedActions(r), notAllowedResourceActions: [] }] }],
      });
      this.done = t('common.saved');
      this.error = undefined;
    } catch (e) {
      this.error = e;
    }
  }

  private async deleteRole(): Promise<void> {
    if (!(await confirmDialog().ask({ title: t('roles.deleteTitle'), text: t('roles.deleteConfirm', { name: this.definition!.displayName }) }))) return;
    try {
      await del(`/v1.0/deviceManagement/roleDefinitions/${this.definition!.id}`);
      navigate('/tenant/roles');
    } catch (e) {
      this.error = e;
    }
  }

  // A role is assigned to groups (Intune's model): to give it to one person, a group of their
  // own is made here, with them in it, and ticked as a member.
  private async groupForUser(): Promise<void> {
    const r = this.renderRoot as ShadowRoot;
    const who = (r.querySelector('#guser') as Field).value.trim();
    if (!who) return;
    try {
      const user = await get<User>(`/v1.0/users/${encodeURIComponent(who)}`);
      const group = await post<Group>('/v1.0/groups', {
        displayName: t('roles.userGroupName', { user: user.displayName, role: this.definition!.displayName }),
        description: t('roles.userGroupDescription', { user: user.userPrincipalName }),
        securityEnabled: true,
        mailEnabled: false,
      });
      await post(`/v1.0/groups/${encodeURIComponent(group.id)}/members/$ref`, {
        '@odata.id': `${location.origin}/v1.0/directoryObjects/${user.id}`,
      });
      this.groups = [...this.groups, group];
      this.memberPicked = group.id;
      (r.querySelector('#guser') as Field).value = '';
      this.formError = undefined;
    } catch (e) {
      this.formError = e;
    }
  }
  private memberPicked = '';

  private async createAssignment(): Promise<void> {
    const r = this.renderRoot as ShadowRoot;
    try {
      await post('/v1.0/deviceManagement/roleAssignments', {
        displayName: (r.querySelector('#aname') as Field).value.trim(),
        description: '',
        roleDefinitionId: this.definition!.id,
        members: picked(r, 'member'),
        resourceScopes: this.scopeType === 'resourceScope' ? picked(r, 'scope') : [],
        scopeType: this.scopeType,
      });
      (r.querySelector('#assign') as DialogEl).hide();
      this.done = t('roles.assigned');
      await this.load();
    } catch (e) {
      this.formError = e;
    }
  }

  render() {
    const role = this.definition;
    if (!role) return html`${errorBar(this.error)}${this.error ? nothing : html`<fluent-spinner aria-label=${t('common.loading')}></fluent-spinner>`}`;
    const actions = actionsOf(role);
    const editable = !role.isBuiltIn && can(A.rolesUpdate);
    const r = this.renderRoot as ShadowRoot;
    return html`<p class="muted"><a href="/tenant/roles">${t('roles.title')}</a> ›</p>
      <h1>${role.displayName}</h1>
      ${errorBar(this.error)} ${doneBar(this.done)}
      <p>${describe(role)} <span class="muted">(${role.isBuiltIn ? t('roles.builtIn') : t('roles.custom')})</span></p>
      <section class="card" aria-labelledby="perm-h">
        <h2 id="perm-h">${t('roles.permissions')}</h2>
        ${editable
          ? html`<div class="form">
              <fluent-text-input id="name" .value=${role.displayName}>${t('roles.name')}</fluent-text-input>
              <fluent-text-input id="description" .value=${role.description ?? ''}>${t('roles.description')}</fluent-text-input>
              ${permissionPicker(actions)}
              <div class="actions">
                <fluent-button appearance="primary" @click=${() => this.saveRole()}>${t('common.save')}</fluent-button>
                ${can(A.rolesDelete) ? html`<fluent-button @click=${() => this.deleteRole()}>${t('common.delete')}</fluent-button>` : nothing}
              </div>
            </div>`
          : permissionList(actions)}
      </section>
      <section class="card" aria-labelledby="asg-h">
        <div class="head">
          <h2 id="asg-h" style="flex:1">${t('roles.assignments')}</h2>
          ${can(A.rolesAssign)
            ? html`<fluent-button @click=${() => {
                this.formError = undefined;
                // A new assignment starts empty, not with the last one's ticks.
                this.memberPicked = '';
                for (const box of r.querySelectorAll<CheckEl>('#assign fluent-checkbox')) box.checked = false;
                (r.querySelector('#assign') as DialogEl).show();
              }}>${t('roles.assign')}</fluent-button>`
            : nothing}
        </div>
        ${this.assignments.length
          ? html`<table aria-label=${t('roles.assignments')}>
              <thead>
                <tr>
                  <th scope="col">${t('roles.name')}</th>
                  <th scope="col">${t('roles.members')}</th>
                  <th scope="col">${t('roles.scope')}</th>
                  ${can(A.rolesAssign) ? html`<th scope="col"><span class="sr-only">${t('common.delete')}</span></th>` : nothing}
                </tr>
              </thead>
              <tbody>
                ${this.assignments.map(
                  (a) => html`<tr>
                    <td>${a.displayName}</td>
                    <td>${a.members.map((m) => this.groupName(m)).join(', ')}</td>
                    <td>${t(`scopeType.${a.scopeType}` as MessageKey)}${a.scopeType === 'resourceScope' ? `: ${a.resourceScopes.map((g) => this.groupName(g)).join(', ') || '—'}` : ''}</td>
                    ${can(A.rolesAssign)
                      ? html`<td>
                          <fluent-button size="small" aria-label=${t('roles.deleteAssignment', { name: a.displayName })} @click=${async () => {
                            if (!(await confirmDialog().ask({ title: t('roles.deleteAssignmentTitle'), text: t('roles.deleteAssignment', { name: a.displayName }) }))) return;
                            try {
                              await del(`/v1.0/deviceManagement/roleAssignments/${a.id}`);
                              await this.load();
                            } catch (e) {
                              this.error = e;
                            }
                          }}>${t('common.delete')}</fluent-button>
                        </td>`
                      : nothing}
                  </tr>`,
                )}
              </tbody>
            </table>`
          : html`<p>${t('roles.noAssignments')}</p>`}
      </section>
      <fluent-dialog id="assign" aria-label=${t('roles.assign')}>
        <fluent-dialog-body>
          <h2 slot="title">${t('roles.assign')}</h2>
          <div class="form">
            ${errorBar(this.formError)}
            <fluent-text-input id="aname">${t('roles.name')}</fluent-text-input>
            <fieldset>
              <legend>${t('roles.members')}</legend>
              <p class="muted">${t('roles.membersAreGroups')}</p>
              ${this.groups.map((g) => checkbox(g.displayName, { name: 'member', value: g.id, checked: g.id === this.memberPicked }))}
              ${can(A.orgUpdate)
                ? html`<div class="toolbar">
                    <fluent-text-input id="guser" type="email">${t('roles.userForGroup')}</fluent-text-input>
                    <fluent-button @click=${() => this.groupForUser()}>${t('roles.createUserGroup')}</fluent-button>
                  </div>`
                : nothing}
            </fieldset>
            ${select(t('roles.scopeType'), this.scopeType, SCOPE_TYPES.map((s): [string, string] => [s, t(`scopeType.${s}` as MessageKey)]), (v) => (this.scopeType = v))}
            ${this.scopeType === 'resourceScope'
              ? html`<fieldset>
                  <legend>${t('roles.scopeGroups')}</legend>
                  ${this.groups.map((g) => checkbox(g.displayName, { name: 'scope', value: g.id }))}
                </fieldset>`
              : nothing}
          </div>
          <fluent-button slot="action" appearance="primary" @click=${() => this.createAssignment()}>${t('common.create')}</fluent-button>
          <fluent-button slot="action" @click=${() => (r.querySelector('#assign') as DialogEl).hide()}>${t('common.cancel')}</fluent-button>
        </fluent-dialog-body>
      </fluent-dialog>`;
  }
}
customElements.define('reach-role', ReachRole);
