// End to end: every page of the admin center against a real hub (and a relay, and one running
// agent): what each role sees and may do, every refusal of SPEC §4.1 as its own sentence, the
// create/edit/delete flows checked through the API, axe-core on every page in English and
// Norwegian, and a screenshot of each (in REACH_SCREENSHOT_DIR, by default OUT_DIR/screenshots;
// docs/screenshots/ holds the ones taken with REACH_SCREENSHOT_DIR=docs/screenshots).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AXE_TAGS, ADMIN_EMAIL, ADMIN_PASSWORD, BIN, OUT_DIR, checkEnvironment, firstLine, launchChromium, run,
  start, startHub, startPatternDisplay, startRelay, tearDown, until,
} from './harness.mjs';

const AGENT = path.join(BIN || '', 'reach-agent');
const SHOTS = process.env.REACH_SCREENSHOT_DIR || path.join(OUT_DIR, 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });
const HELP_DESK_ROLE = '9ed3a0c4-9c6b-4f3a-8d0c-6b6d1b1f8f52';
const READ_ONLY_ROLE = 'd12b9e51-1bd5-4a9d-9c8a-0b1e8e0e0d5f';
const SKU = 'b05e124f-c7cc-45a0-a6aa-8cf78c946968';
const PASSWORD = 'Operator-Passw0rd-1';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-e2e-pages-'));
let browser;
let hub;
let relay;
const ids = {}; // device name → id; plus users and groups
const names = {}; // a device's key here → the name the hub shows (the agent's is its host's)

async function user(upn, name) {
  const r = await hub.api('POST', '/v1.0/users', { displayName: name, userPrincipalName: upn,
    accountEnabled: true, passwordProfile: { password: PASSWORD } });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  await hub.api('POST', `/v1.0/users/${r.json.id}/assignLicense`, { addLicenses: [{ skuId: SKU }], removeLicenses: [] });
  return r.json.id;
}

async function device(name, inventory, opts) {
  const r = await hub.enroll({ deviceName: name, operatingSystem: 'Linux', osVersion: 'Debian 12',
    deviceType: 'desktop', manufacturer: 'Reach', model: 'Test', ...inventory }, opts);
  ids[name] = r.deviceId;
  return r;
}

before(async () => {
  checkEnvironment();
  relay = await startRelay(tmp);
  hub = await startHub(tmp);
  const display = await startPatternDisplay(tmp);
  ids.dana = await user('dana@example.com', 'Dana Device');
  ids.erik = await user('erik@example.com', 'Erik Eng');
  ids.helpdesk = await user('helpdesk@example.com', 'Hedda Helpdesk');
  ids.reader = await user('reader@example.com', 'Rolf Reader');
  // OSLO-LAPTOP: a real agent keeps its push channel open.
  const state = path.join(tmp, 'agent');
  const token = run(path.join(BIN, 'reach-hub'), ['enrollment-token', 'create', '--data', hub.data,
    '--user', 'dana@example.com']).trim();
  run(AGENT, ['enroll', '--hub', hub.url, '--token', token, '--state', state]);
  const { deviceId } = JSON.parse(fs.readFileSync(path.join(state, 'credential.json'), 'utf8'));
  ids['OSLO-LAPTOP'] = deviceId;
  names['OSLO-LAPTOP'] = (await hub.api('GET', `/v1.0/deviceManagement/managedDevices/${deviceId}`)).json.deviceName;
  const agent = start(AGENT, ['run', '--state', state, '--display', display]);
  await firstLine(agent, 'reach-agent run');
  await until('the agent\'s channel', () => {
    const r = spawnSync(AGENT, ['status', '--json', '--state', state], { encoding: 'utf8' });
    return r.status === 0 && JSON.parse(r.stdout).channel === 'connected';
  });
  await device('BERGEN-PC', {}, { user: 'erik@example.com' });
  await device('KIOSK-1', {}, {});
  await device('CORP-1', { operatingSystem: 'Windows', osVersion: '10.0.22631' }, { user: 'dana@example.com', ownership: 'company' });
  await device('HOLO-1', { operatingSystem: 'Windows Holographic', deviceType: 'holoLens' }, { user: 'dana@example.com' });
  await device('HUB-1', { operatingSystem: 'Windows', deviceType: 'surfaceHub' }, { user: 'dana@example.com' });
  await device('WIN10S-1', { operatingSystem: 'Windows', osVersion: '10.0.19045', skuFamily: 'windows10s' }, { user: 'dana@example.com' });
  await device('NEVER-1', {}, { user: 'dana@example.com' });
  // Oslo devices: the Help Desk Operator's scope. Read Only Operator: every device.
  const g = await hub.api('POST', '/v1.0/groups', { displayName: 'Oslo devices' });
  ids.oslo = g.json.id;
  const team = await hub.api('POST', '/v1.0/groups', { displayName: 'Service desk' });
  ids.team = team.json.id;
  const readers = await hub.api('POST', '/v1.0/groups', { displayName: 'Auditors' });
  for (const [group, member] of [[ids.oslo, ids['OSLO-LAPTOP']], [ids.team, ids.helpdesk], [readers.json.id, ids.reader]]) {
    const r = await hub.api('POST', `/v1.0/groups/${group}/members/$ref`, { '@odata.id': `${hub.url}/v1.0/directoryObjects/${member}` });
    assert.equal(r.status, 204, JSON.stringify(r.json));
  }
  for (const [name, role, members, scopes, scopeType] of [
    ['Oslo help desk', HELP_DESK_ROLE, [ids.team], [ids.oslo], 'resourceScope'],
    ['Auditors', READ_ONLY_ROLE, [readers.json.id], [], 'allDevices'],
  ]) {
    const r = await hub.api('POST', '/v1.0/deviceManagement/roleAssignments',
      { displayName: name, roleDefinitionId: role, members, resourceScopes: scopes, scopeType });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }
  browser = await launchChromium();
});

after(() => tearDown(browser, tmp));

async function signIn(email, password, locale = 'en-US') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(hub.url + '/');
  await page.getByRole('textbox', { name: locale.startsWith('nb') ? 'E-post' : 'Email' }).fill(email);
  await page.getByRole('textbox', { name: locale.startsWith('nb') ? 'Passord' : 'Password' }).fill(password);
  await page.getByRole('button', { name: locale.startsWith('nb') ? 'Logg på' : 'Sign in' }).click();
  await page.getByRole('heading', { name: locale.startsWith('nb') ? 'Hjem' : 'Home' }).waitFor();
  return { context, page };
}

async function requestOn(page, key) {
  await page.goto(`${hub.url}/devices/${ids[key]}`);
  await page.getByRole('heading', { name: names[key] ?? key, exact: true }).waitFor();
  await page.getByRole('button', { name: 'More' }).click();
  await page.getByRole('menuitem', { name: 'New remote assistance session' }).click();
  await page.getByRole('button', { name: 'Yes' }).click();
  return (await page.getByRole('alert').first().innerText()).trim();
}

test('every refusal of SPEC §4.1 is its own sentence on the device page', async () => {
  // The connector knows its relay, but is not connected.
  const partners = await hub.api('GET', '/v1.0/deviceManagement/remoteAssistancePartners');
  const pid = partners.json.value[0].id;
  assert.equal((await hub.api('PATCH', `/v1.0/deviceManagement/remoteAssistancePartners/${pid}`,
    { onboardingUrl: relay.url, clientId: 'x', clientSecret: 'y' })).status, 200);
  const { context, page } = await signIn(ADMIN_EMAIL, ADMIN_PASSWORD);
  const expected = {
    'KIOSK-1': 'This device was enrolled without a user, so nobody there would be notified. Create a session in the relay portal instead and read its code to the person at the device.',
    'CORP-1': 'This device is company-owned.',
    'HOLO-1': 'HoloLens devices (Windows Holographic) cannot take remote assistance sessions.',
    'HUB-1': 'Surface Hub devices (Windows Team) cannot take remote assistance sessions.',
    'WIN10S-1': 'Devices running Windows 10 in S mode cannot take remote assistance sessions.',
    'NEVER-1': 'The company portal on this device has never connected to the hub',
    'OSLO-LAPTOP': 'The remote assistance connector is not connected. An administrator must connect it first.',
  };
  const seen = new Set();
  for (const [name, sentence] of Object.entries(expected)) {
    let text;
    if (name === 'OSLO-LAPTOP') {
      text = await requestOn(page, name); // the device could: the connector refuses
    } else {
      // Issue 21, point 10: a device that cannot take a session is said so before anyone asks,
      // and New remote assistance session is offered disabled.
      await page.goto(`${hub.url}/devices/${ids[name]}`);
      await page.getByRole('heading', { name: names[name] ?? name, exact: true }).waitFor();
      text = (await page.getByRole('note').filter({ hasText: 'Remote assistance is not available on this device.' }).innerText()).trim();
      text = text.replace('Remote assistance is not available on this device. ', '');
      await page.getByRole('button', { name: 'More' }).click();
      const item = page.getByRole('menuitem', { name: 'New remote assistance session' });
      assert.equal(await item.getAttribute('aria-disabled'), 'true', `${name}: the request is not offered`);
      await page.keyboard.press('Escape');
      assert.equal(await page.getByText('Use More › New remote assistance session').count(), 0, `${name}: no invitation to ask`);
    }
    assert.ok(text.startsWith(sentence), `${name}: ${text}`);
    assert.ok(!/[{}]/.test(text), `${name}: no raw JSON: ${text}`);
    seen.add(text);
  }
  assert.equal(seen.size, Object.keys(expected).length, 'each refusal reads differently');
  // The userless device says where to go instead.
  await page.goto(`${hub.url}/devices/${ids['KIOSK-1']}`);
  assert.equal(await page.getByRole('link', { name: 'Open the relay portal' }).getAttribute('href'), `${relay.url}/`);
  await page.screenshot({ path: path.join(SHOTS, 'device-refusal-en.png'), fullPage: true });
  // Needs re-authorisation: the state a refused token refresh leaves (set here directly: the
  // refresh itself is tested against the relay in ra_flow_test).
  hub.sql("UPDATE ra_partners SET status = 'onboarded', needs_reauth = 1");
  assert.ok((await requestOn(page, 'OSLO-LAPTOP')).startsWith(
    'The remote assistance connector needs to be authorised again. An administrator must reconnect it.'));
  assert.equal(await page.getByRole('link', { name: 'Open the connector' }).count(), 1);
  hub.sql("UPDATE ra_partners SET status = 'notOnboarded', needs_reauth = 0");
  assert.deepEqual(page.errors, []);
  await context.close();

  // The same in Norwegian: the reason before anyone asks, and the request offered disabled.
  const nb = await signIn(ADMIN_EMAIL, ADMIN_PASSWORD, 'nb-NO');
  await nb.page.goto(`${hub.url}/devices/${ids['HOLO-1']}`);
  await nb.page.getByRole('heading', { name: names['HOLO-1'] ?? 'HOLO-1', exact: true }).waitFor();
  await nb.page.getByRole('note').filter({
    hasText: 'Fjernhjelp er ikke tilgjengelig på denne enheten. HoloLens-enheter (Windows Holographic) kan ikke ta imot fjernhjelpsøkter.',
  }).waitFor();
  await nb.page.getByRole('button', { name: 'Mer' }).click();
  assert.equal(await nb.page.getByRole('menuitem', { name: 'Ny fjernhjelpsøkt' }).getAttribute('aria-disabled'), 'true');
  await nb.page.screenshot({ path: path.join(SHOTS, 'device-refusal-nb.png'), fullPage: true });
  await nb.page.keyboard.press('Escape');
  assert.deepEqual(nb.page.errors, []);
  await nb.context.close();
});

// Every activity the hub writes to the audit log (src/hub: audit(…, {"name", …}) and
// audit_now(…)), read from the sources so that a new one without words fails here.
function hubActivities() {
  const dir = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'src', 'hub');
  const out = new Set();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.cpp'))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const m of text.matchAll(/\baudit(?:_now)?\([^{;]*?,\s*\{\s*([^,]+),/g)) {
      for (const w of m[1].matchAll(/"([A-Za-z]+)"/g)) out.add(w[1]);
    }
  }
  return [...out].sort();
}

test('the audit log says each activity in words, in English and Norwegian, its API name in the details', async () => {
  const web = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'web', 'admin', 'src', 'i18n');
  const activities = hubActivities();
  assert.ok(activities.includes('requestRemoteAssistance') && activities.includes('openRemoteAssistanceViewer'), activities.join());
  for (const file of ['en.ts', 'nb.ts']) {
    const catalogue = fs.readFileSync(path.join(web, file), 'utf8');
    const missing = activities.filter((a) => !catalogue.includes(`'audit.activity.${a}':`));
    assert.deepEqual(missing, [], `${file} has words for every activity`);
  }
  const words = {
    en: { nav: 'Audit logs', requested: 'Remote assistance requested', failure: 'Failure', cli: 'reach-hub on the command line',
      token: 'Enrollment token created', show: 'Show', details: 'Details', api: 'Activity (API name)' },
    nb: { nav: 'Overvåkingslogger', requested: 'Fjernhjelp forespurt', failure: 'Mislyktes', cli: 'reach-hub på kommandolinjen',
      token: 'Registreringstoken opprettet', show: 'Vis', details: 'Detaljer', api: 'Aktivitet (API-navn)' },
  };
  for (const [lang, locale] of [['en', 'en-US'], ['nb', 'nb-NO']]) {
    const w = words[lang];
    const { context, page } = await signIn(ADMIN_EMAIL, ADMIN_PASSWORD, locale);
    await page.getByRole('navigation').getByRole('link', { name: w.nav }).click();
    const table = page.getByRole('table', { name: w.nav });
    // The refusals of the test before: requests that failed, in words.
    const requested = table.getByRole('row').filter({ hasText: w.requested }).filter({ hasText: w.failure });
    await requested.first().waitFor();
    // The command line that made the enrollment tokens, in words too.
    await table.getByRole('row').filter({ hasText: w.token }).filter({ hasText: w.cli }).first().waitFor();
    // No activity is left as an API name (camelCase) in the table.
    const cells = await table.getByRole('row').locator('td:nth-child(2)').allInnerTexts();
    assert.ok(cells.length > 5, cells.join('|'));
    assert.deepEqual(cells.filter((c) => /^[a-z]+[A-Z]/.test(c)), [], 'activities in words');
    assert.equal(await requested.first().locator('td').nth(1).getAttribute('title'), 'requestRemoteAssistance');
    await page.screenshot({ path: path.join(SHOTS, `audit-activities-${lang}.png`), fullPage: true });
    // The details keep the API name.
    await requested.first().getByRole('button', { name: w.show }).click();
    await page.getByRole('heading', { name: `${w.details}: ${w.requested}` }).waitFor();
    const api = page.locator('dt', { hasText: w.api }).locator('xpath=following-sibling::dd');
    assert.equal((await api.innerText()).trim(), 'requestRemoteAssistance');
    await page.screenshot({ path: path.join(SHOTS, `audit-detail-${lang}.png`), fullPage: true });
    assert.deepEqual(page.errors, []);
    await context.close();
  }
});

test('a Help Desk Operator sees devices in scope, can request, reads the connector and cannot change it nor open Roles', async () => {
  const { context, page } = await signIn('helpdesk@example.com', PASSWORD);
  const nav = page.getByRole('navigation');
  await nav.getByRole('link', { name: 'All devices' }).waitFor();
  assert.equal(await nav.getByRole('link', { name: 'Roles' }).count(), 0);
  // The role's description says it reads the connector: the page is there, read-only.
  assert.equal(await nav.getByRole('link', { name: 'Connectors and tokens' }).count(), 1);
  assert.equal(await nav.getByRole('link', { name: 'Audit logs' }).count(), 0);
  await nav.getByRole('link', { name: 'All devices' }).click();
  await page.getByText('1 device', { exact: true }).waitFor();
  const names = await page.getByRole('table').getByRole('link').allInnerTexts();
  assert.deepEqual(names.length, 1);
  // A device out of scope is not shown even by its address.
  await page.goto(`${hub.url}/devices/${ids['BERGEN-PC']}`);
  await page.getByRole('alert').filter({ hasText: 'Your role does not allow this.' }).waitFor();
  // Requesting reaches the hub (which refuses for the connector's sake, not for the role's).
  const text = await requestOn(page, 'OSLO-LAPTOP');
  assert.match(text, /remote assistance connector is not connected/);
  // Roles: not shown, and refused by the hub. The connector: its status, nothing to change.
  await page.goto(`${hub.url}/tenant/roles`);
  await page.getByRole('heading', { name: 'Not available to your role' }).waitFor();
  await page.goto(`${hub.url}/tenant/connector`);
  await page.getByRole('heading', { name: 'Remote assistance connector' }).waitFor();
  await page.getByRole('status').filter({ hasText: /^\s*Not connected\s*$/ }).waitFor();
  for (const name of ['Connect', 'Disconnect', 'Save'])
    assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, name);
  assert.equal(await page.getByRole('textbox', { name: 'Client ID' }).count(), 0);
  assert.equal((await page.request.get(`${hub.url}/v1.0/deviceManagement/roleDefinitions`)).status(), 403);
  const partners = await page.request.get(`${hub.url}/v1.0/deviceManagement/remoteAssistancePartners`);
  assert.equal(partners.status(), 200, 'Help Desk reads the connector status (RemoteAssistance_Read)');
  const pid = (await partners.json()).value[0].id;
  const begin = await page.request.post(`${hub.url}/v1.0/deviceManagement/remoteAssistancePartners/${pid}/beginOnboarding`,
    { headers: { Origin: hub.url } });
  assert.equal(begin.status(), 403);
  await context.close();
});

test('a Read Only Operator cannot request remote assistance', async () => {
  const { context, page } = await signIn('reader@example.com', PASSWORD);
  await page.goto(`${hub.url}/devices/${ids['NEVER-1']}`);
  await page.getByRole('heading', { name: 'NEVER-1' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'More' }).count(), 0);
  const r = await page.request.post(
    `${hub.url}/v1.0/deviceManagement/managedDevices/${ids['NEVER-1']}/requestRemoteAssistance`,
    { headers: { Origin: hub.url } });
  assert.equal(r.status(), 403);
  await context.close();
});

// Issue 22: the organisation's "no H.264" setting on the connector page. The box says whether
// sessions may use H.264 video; a change is saved at once and said so; the API follows; an
// administrator without RemoteAssistance_Update sees the box but cannot change it.
test('the session settings turn H.264 video off and on, in English and Norwegian', async () => {
  const SETTINGS = '/beta/deviceManagement/remoteAssistanceSettings';
  const blocked = async () => (await hub.api('GET', SETTINGS)).json.blockH264;
  assert.equal(await blocked(), false, 'allowed by default');
  const words = {
    en: { heading: 'Session settings', box: 'Use H.264 video for moving screen content', saved: 'Saved.',
      help: 'Scrolling and video reach the supporter faster over slow links. Turn this off if your organisation may not use H.264, a patent-licensed codec: sessions then use lossless and JPEG images only.' },
    nb: { heading: 'Øktinnstillinger', box: 'Bruk H.264-video for skjerminnhold som beveger seg', saved: 'Lagret.',
      help: 'Over trege forbindelser kommer rulling og video raskere fram til den som hjelper. Slå dette av hvis organisasjonen din ikke får bruke H.264, som er en patentlisensiert kodek: da bruker øktene bare tapsfrie bilder og JPEG-bilder.' },
  };
  for (const [lang, locale] of [['en', 'en-US'], ['nb', 'nb-NO']]) {
    const w = words[lang];
    const { context, page } = await signIn(ADMIN_EMAIL, ADMIN_PASSWORD, locale);
    await page.goto(`${hub.url}/tenant/connector`);
    const section = page.getByRole('region', { name: w.heading });
    const box = section.getByRole('checkbox', { name: w.box, exact: true });
    await box.waitFor();
    assert.equal(await box.isChecked(), true);
    // The helper line describes the box.
    const described = await box.getAttribute('aria-describedby');
    assert.ok(described, 'the box has a description');
    assert.equal((await section.locator(`#${described}`).innerText()).trim(), w.help);
    const status = section.getByRole('status');
    // Off: saved at once, said politely, and the hub blocks H.264.
    await box.click();
    await status.filter({ hasText: w.saved }).waitFor();
    assert.equal(await status.getAttribute('aria-live'), 'polite');
    assert.equal(await box.isChecked(), false);
    assert.equal(await blocked(), true, `${lang}: turned off in the page, blocked in the API`);
    await section.screenshot({ path: path.join(SHOTS, `connector-session-settings-${lang}.png`) });
    await page.screenshot({ path: path.join(SHOTS, `connector-session-settings-page-${lang}.png`), fullPage: true });
    // The page shows what the hub has when it opens again.
    await page.reload();
    await box.waitFor();
    assert.equal(await box.isChecked(), false);
    assert.equal((await status.innerText()).trim(), '', 'nothing said before a change');
    // On again.
    await box.click();
    await status.filter({ hasText: w.saved }).waitFor();
    assert.equal(await box.isChecked(), true);
    assert.equal(await blocked(), false, `${lang}: turned on in the page, allowed in the API`);
    if (lang === 'en') {
      // A change the hub refuses (the role taken away meanwhile) is said, and the box goes back.
      await page.route('**/remoteAssistanceSettings', (route) => route.request().method() === 'PATCH'
        ? route.fulfill({ status: 403, contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'accessDenied', message: 'You do not have permission for this request.' } }) })
        : route.continue());
      await box.click();
      await status.filter({ hasText: 'Your role does not allow this.' }).waitFor();
      assert.equal(await box.isChecked(), true);
      assert.equal(await blocked(), false);
      await page.unroute('**/remoteAssistanceSettings');
    }
    assert.deepEqual(page.errors, []);
    await context.close();
  }
  // The Help Desk Operator reads the connector (RemoteAssistance_Read) but may not change it.
  const { context, page } = await signIn('helpdesk@example.com', PASSWORD);
  await page.goto(`${hub.url}/tenant/connector`);
  const box = page.getByRole('region', { name: 'Session settings' })
    .getByRole('checkbox', { name: 'Use H.264 video for moving screen content' });
  await box.waitFor();
  assert.equal(await box.isChecked(), true);
  assert.equal(await box.isDisabled(), true, 'greyed out without RemoteAssistance_Update');
  const refused = await page.request.patch(`${hub.url}${SETTINGS}`,
    { data: { blockH264: true }, headers: { Origin: hub.url } });
  assert.equal(refused.status(), 403);
  assert.equal(await blocked(), false);
  assert.deepEqual(page.errors, []);
  await context.close();
});

// Issue 21, point 14: the filters and the ownership are Fluent dropdowns, driven as a person does
// (the combobox named by its label, then the option); states in the table are status badges; and
// a new ownership is asked about before it is saved, as Intune does: No leaves it, Yes saves it.
test('Fluent dropdowns filter the list and set the ownership, which is confirmed first, in English and Norwegian', async () => {
  const ownership = async () =>
    (await hub.api('GET', `/v1.0/deviceManagement/managedDevices/${ids['BERGEN-PC']}`)).json.managedDeviceOwnerType;
  const words = {
    en: { devices: 'All devices', own: 'Ownership', all: 'All', personal: 'Personal', company: 'Corporate',
      unknown: 'Not evaluated', columns: 'Columns', serial: 'Serial number', title: 'Change ownership?',
      text: 'Change the ownership of BERGEN-PC to Corporate?', yes: 'Yes', no: 'No', saved: 'Ownership changed.' },
    nb: { devices: 'Alle enheter', own: 'Eierskap', all: 'Alle', personal: 'Personlig', company: 'Firma',
      unknown: 'Ikke vurdert', columns: 'Kolonner', serial: 'Serienummer', title: 'Vil du endre eierskapet?',
      text: 'Vil du endre eierskapet for BERGEN-PC til Firma?', yes: 'Ja', no: 'Nei', saved: 'Eierskapet er endret.' },
  };
  for (const [lang, locale] of [['en', 'en-US'], ['nb', 'nb-NO']]) {
    const w = words[lang];
    const { context, page } = await signIn(ADMIN_EMAIL, ADMIN_PASSWORD, locale);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ reducedMotion: 'reduce' }); // screenshots without a dialog half faded
    await page.goto(`${hub.url}/devices`);
    await page.getByRole('heading', { name: w.devices, exact: true }).waitFor();
    const table = page.getByRole('table', { name: w.devices });
    const filter = page.getByRole('combobox', { name: w.own, exact: true });
    assert.equal((await filter.innerText()).trim(), w.all);
    await filter.click();
    await page.getByRole('option', { name: w.company, exact: true }).click();
    await page.waitForURL(/ownership=company/);
    await until('only the company-owned device', async () =>
      JSON.stringify(await table.getByRole('link').allInnerTexts()) === '["CORP-1"]');
    assert.equal((await filter.innerText()).trim(), w.company);
    // Compliance is a status badge with the same words.
    const row = table.getByRole('row').filter({ hasText: 'CORP-1' });
    assert.equal((await row.locator('fluent-badge').innerText()).trim(), w.unknown);
    // The column chooser's checkboxes.
    await page.getByRole('button', { name: w.columns, exact: true }).click();
    const serial = page.getByRole('checkbox', { name: w.serial, exact: true });
    await serial.check();
    await table.getByRole('columnheader', { name: w.serial }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, `devices-filtered-${lang}.png`), fullPage: true });
    await serial.uncheck();
    await until('the column gone', async () => (await table.getByRole('columnheader', { name: w.serial }).count()) === 0);
    assert.deepEqual(await layoutProblems(page), [], `devices filtered (${lang})`);

    // The device's ownership: No leaves it as it was, on the page and at the hub.
    await page.goto(`${hub.url}/devices/${ids['BERGEN-PC']}`);
    await page.getByRole('heading', { name: 'BERGEN-PC', exact: true }).waitFor();
    const own = page.getByRole('combobox', { name: w.own, exact: true });
    assert.equal((await own.innerText()).trim(), w.personal);
    const dialog = page.getByRole('dialog', { name: w.title });
    await own.click();
    await page.getByRole('option', { name: w.company, exact: true }).click();
    await dialog.waitFor();
    await page.getByText(w.text).waitFor(); // the dialog's words (in its slots, not under its role)
    assert.equal(await ownership(), 'personal', 'nothing is saved before the answer');
    await page.screenshot({ path: path.join(SHOTS, `device-ownership-confirm-${lang}.png`) });
    await page.getByRole('button', { name: w.no, exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await own.innerText()).trim(), w.personal, 'No puts the dropdown back');
    assert.equal(await ownership(), 'personal');
    await page.reload();
    await page.getByRole('heading', { name: 'BERGEN-PC', exact: true }).waitFor();
    assert.equal((await own.innerText()).trim(), w.personal, 'the hub kept it');
    // Yes saves it.
    await own.click();
    await page.getByRole('option', { name: w.company, exact: true }).click();
    await dialog.waitFor();
    await page.getByRole('button', { name: w.yes, exact: true }).click();
    await page.getByRole('status').filter({ hasText: w.saved }).waitFor();
    assert.equal(await ownership(), 'company');
    await page.screenshot({ path: path.join(SHOTS, `device-ownership-saved-${lang}.png`), fullPage: true });
    await page.reload();
    await page.getByRole('heading', { name: 'BERGEN-PC', exact: true }).waitFor();
    assert.equal((await own.innerText()).trim(), w.company);
    const r = await hub.api('PATCH', `/v1.0/deviceManagement/managedDevices/${ids['BERGEN-PC']}`, { managedDeviceOwnerType: 'personal' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(page.errors, []);
    await context.close();
  }
});

// The assignment dialog opens as the page may still re-render (a loaded machine): fill its Name
// once it is shown, and again until the field holds it (a CI run saw the Create sent with it
// empty).
async function fillAssignmentName(page, text) {
  const names = page.getByRole('textbox', { name: 'Name', exact: true });
  for (let i = 0; i < 100 && (await names.count()) < 2; i++) await page.waitForTimeout(100);
  const field = names.last();
  for (let i = 0; i < 20; i++) {
    await field.fill(text);
    if ((await field.evaluate((el) => el.value)) === text) break;
    await page.waitForTimeout(100);
  }
  assert.equal(await field.evaluate((el) => el.value), text);
}

test('roles, users, groups and enrollment tokens: create, edit and delete through the pages', async () => {
  const { context, page } = await signIn(ADMIN_EMAIL, ADMIN_PASSWORD);
  try {
    await crud(page);
  } catch (e) {
    // What the page said (a dialog's error bar is not in the test's words).
    await page.screenshot({ path: path.join(OUT_DIR, 'admin-pages-crud-failed.png'), fullPage: true });
    throw e;
  } finally {
    await context.close();
  }
});

async function crud(page) {
  const api = (p) => hub.api('GET', p);

  // A custom role: create with one permission, edit, assign, delete.
  await page.getByRole('link', { name: 'Roles' }).click();
  await page.getByRole('button', { name: 'Create custom role' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create custom role' });
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Printer helpers');
  await page.getByRole('textbox', { name: 'Description', exact: true }).fill('Look after printers');
  await page.getByRole('checkbox', { name: 'Read devices' }).check();
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('heading', { name: 'Printer helpers' }).waitFor();
  assert.ok(dialog);
  const roleId = page.url().split('/').pop();
  let role = await api(`/v1.0/deviceManagement/roleDefinitions/${roleId}`);
  assert.deepEqual(role.json.rolePermissions[0].resourceActions[0].allowedResourceActions, ['Microsoft.Intune_ManagedDevices_Read']);
  await page.getByRole('checkbox', { name: 'Request remote assistance' }).check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  role = await api(`/v1.0/deviceManagement/roleDefinitions/${roleId}`);
  assert.equal(role.json.rolePermissions[0].resourceActions[0].allowedResourceActions.length, 2);
  await page.getByRole('button', { name: 'Assign' }).click();
  await fillAssignmentName(page, 'Printer people');
  // Members come first, scope groups second (Playwright does not look into the dialog's slots).
  await page.getByRole('checkbox', { name: 'Service desk' }).first().check();
  assert.equal(await page.getByRole('checkbox', { name: 'Service desk' }).first().isChecked(), true);
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByText('The role is assigned.').waitFor();
  let assignments = (await api('/v1.0/deviceManagement/roleAssignments')).json.value.filter((a) => a.roleDefinitionId === roleId);
  assert.equal(assignments.length, 1);
  assert.deepEqual(assignments[0].members, [ids.team]);
  await page.screenshot({ path: path.join(SHOTS, 'role-en.png'), fullPage: true });
  await page.getByRole('button', { name: 'Delete the assignment Printer people' }).click();
  await page.getByRole('button', { name: 'Yes' }).click();
  await page.getByText('This role is not assigned to anyone.').waitFor();
  // Issue 21, point 16: the dialog says members are groups, and makes a group for one user.
  await page.getByRole('button', { name: 'Assign' }).click();
  await page.getByText('A role is assigned to groups: everyone in a ticked group gets it.').waitFor();
  await page.getByRole('textbox', { name: 'User (email)' }).fill('erik@example.com');
  await page.getByRole('button', { name: 'Create a group for this user' }).click();
  const own = page.getByRole('checkbox', { name: 'Erik Eng (Printer helpers)' }).first();
  await own.waitFor();
  assert.equal(await own.isChecked(), true, 'the new group is ticked as the member');
  await fillAssignmentName(page, 'Erik alone');
  await page.screenshot({ path: path.join(SHOTS, 'role-user-group-en.png'), fullPage: true });
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  // The first assignment's "The role is assigned." may still be on the page: wait for this one.
  await page.getByRole('button', { name: 'Delete the assignment Erik alone' }).waitFor();
  assignments = (await api('/v1.0/deviceManagement/roleAssignments')).json.value.filter((a) => a.roleDefinitionId === roleId);
  assert.equal(assignments.length, 1);
  assert.equal(assignments[0].members.length, 1, 'only the group made for Erik: the dialog started empty');
  const inOwnGroup = (await api(`/v1.0/groups/${assignments[0].members[0]}/members`)).json.value;
  assert.deepEqual(inOwnGroup.map((m) => m.userPrincipalName), ['erik@example.com']);
  // The same dialog in Norwegian says so too (looked at, then closed without a change).
  {
    const nb = await signIn(ADMIN_EMAIL, ADMIN_PASSWORD, 'nb-NO');
    await nb.page.goto(`${hub.url}/tenant/roles/${roleId}`);
    await nb.page.getByRole('heading', { name: 'Printer helpers' }).waitFor();
    await nb.page.getByRole('button', { name: 'Tildel', exact: true }).click();
    await nb.page.getByText('En rolle tildeles grupper: alle i en avkrysset gruppe får den.').waitFor();
    await nb.page.getByRole('textbox', { name: 'Bruker (e-post)' }).waitFor();
    await nb.page.getByRole('button', { name: 'Lag en gruppe for denne brukeren' }).waitFor();
    await nb.page.screenshot({ path: path.join(SHOTS, 'role-user-group-nb.png'), fullPage: true });
    assert.deepEqual(nb.page.errors, []);
    await nb.context.close();
  }
  await page.getByRole('button', { name: 'Delete the assignment Erik alone' }).click();
  await page.getByRole('button', { name: 'Yes' }).click();
  await page.getByText('This role is not assigned to anyone.').waitFor();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('button', { name: 'Yes' }).click();
  await page.getByRole('heading', { name: 'Roles' }).waitFor();
  assert.equal((await api(`/v1.0/deviceManagement/roleDefinitions/${roleId}`)).status, 404);

  // A user: create, rename, disable, delete.
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'New user' }).click();
  await page.getByRole('textbox', { name: 'Display name' }).fill('Frida Field');
  await page.getByRole('textbox', { name: 'User principal name (email)' }).fill('frida@example.com');
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill('Frida-Passw0rd-1');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('heading', { name: 'Frida Field' }).waitFor();
  let frida = await api('/v1.0/users/frida@example.com');
  assert.equal(frida.json.assignedLicenses.length, 1);
  await page.getByRole('textbox', { name: 'Display name' }).fill('Frida Fjeld');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Frida Fjeld' }).waitFor();
  await page.getByRole('button', { name: 'Disable sign-in' }).click();
  await page.getByRole('button', { name: 'Enable sign-in' }).waitFor();
  frida = await api('/v1.0/users/frida@example.com');
  assert.equal(frida.json.displayName, 'Frida Fjeld');
  assert.equal(frida.json.accountEnabled, false);
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('button', { name: 'Yes' }).click();
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  assert.equal((await api('/v1.0/users/frida@example.com')).status, 404);

  // A group: create, add a user and a device, remove one, delete.
  await page.getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('button', { name: 'New group' }).click();
  await page.getByRole('textbox', { name: 'Group name' }).fill('Tromsø devices');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('heading', { name: 'Tromsø devices' }).waitFor();
  const groupId = page.url().split('/').pop();
  for (const member of ['erik@example.com', 'BERGEN-PC']) {
    await page.getByRole('textbox', { name: 'User email or device name' }).fill(member);
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByRole('row').filter({ hasText: member === 'BERGEN-PC' ? 'BERGEN-PC' : 'Erik Eng' }).waitFor();
  }
  let members = (await api(`/v1.0/groups/${groupId}/members`)).json.value.map((m) => m.id).sort();
  assert.deepEqual(members, [ids.erik, ids['BERGEN-PC']].sort());
  await page.getByRole('button', { name: 'Remove Erik Eng' }).click();
  await until('the member removed', async () => (await api(`/v1.0/groups/${groupId}/members`)).json.value.length === 1);
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('button', { name: 'Yes' }).click();
  await page.getByRole('heading', { name: 'Groups' }).waitFor();
  assert.equal((await api(`/v1.0/groups/${groupId}`)).status, 404);

  // An enrollment token: the command the page shows enrolls a device. The enrollment type is a
  // radio group: a userless device has no user to name.
  await page.getByRole('link', { name: 'Enrollment' }).click();
  const kind = page.getByRole('radiogroup', { name: 'Enrollment type' });
  await kind.getByRole('radio', { name: 'Userless (kiosk or shared device)' }).click();
  await page.getByText('Userless devices cannot be notified').waitFor();
  assert.equal(await page.getByRole('textbox', { name: 'User (email)' }).count(), 0);
  await kind.getByRole('radio', { name: 'User-driven (the device belongs to a user)' }).click();
  assert.equal(await kind.getByRole('radio', { name: 'User-driven (the device belongs to a user)' }).getAttribute('aria-checked'), 'true');
  assert.equal((await page.getByRole('combobox', { name: 'Ownership' }).innerText()).trim(), 'Personal');
  await page.getByRole('textbox', { name: 'User (email)' }).fill('erik@example.com');
  await page.getByRole('button', { name: 'Create token' }).click();
  const command = (await page.locator('pre.command').or(page.getByLabel('Enrollment command')).first().innerText()).trim();
  assert.match(command, /^reach-agent enroll --hub http:\/\/127\.0\.0\.1:\d+ --token \S+$/);
  const args = command.split(' ').slice(1);
  run(AGENT, [...args, '--state', path.join(tmp, 'enrolled-from-page')]);
  const list = await api(`/v1.0/users/erik@example.com/managedDevices`);
  assert.equal(list.json.value.length, 2, 'BERGEN-PC and the device enrolled with the page\'s command');
  assert.deepEqual(page.errors, []);
}

// What a page at its current width does wrong: the page wider than the window, a box that scrolls
// sideways, a toolbar that leaves a control alone on a row (shadow roots included).
function layoutProblems(page) {
  return page.evaluate(() => {
    const out = [];
    const de = document.documentElement;
    if (de.scrollWidth > de.clientWidth + 1) out.push(`the page is ${de.scrollWidth}px wide in ${de.clientWidth}px`);
    const name = (el) => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''}`;
    const walk = (root) => {
      for (const el of root.querySelectorAll('*')) {
        const cs = getComputedStyle(el);
        if ((cs.overflowX === 'auto' || cs.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1)
          out.push(`${name(el)} scrolls sideways (${el.scrollWidth}px in ${el.clientWidth}px)`);
        if (el.classList && el.classList.contains('toolbar')) {
          // A filter bar may take two rows; a control left alone on a row of its own ("Refresh"
          // under the filters) may not.
          const rows = new Map();
          for (const c of el.children) {
            if (!c.getClientRects().length) continue;
            // Items of a row line up at the bottom (align-items: end).
            const row = Math.round(c.getBoundingClientRect().bottom / 8);
            rows.set(row, (rows.get(row) ?? 0) + 1);
          }
          if (rows.size > 1 && [...rows.values()].some((n) => n === 1)) out.push(`${name(el)} leaves a control alone on a row (${[...el.children].map((c) => `${c.tagName.toLowerCase()}@${Math.round(c.getBoundingClientRect().left)},${Math.round(c.getBoundingClientRect().bottom)}`).join(" ")})`);
        }
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);
    return out;
  });
}

// Every page: no axe-core violations, in both languages, and a screenshot of each.
test('axe-core finds no violations on any page, in English and Norwegian', async () => {
  const { default: AxeBuilder } = await import(process.env.AXE_PLAYWRIGHT).then((m) => (m.default ? m : { default: m.AxeBuilder }));
  const roleId = (await hub.api('GET', '/v1.0/deviceManagement/roleDefinitions')).json.value[0].id;
  const pages = [
    ['home', '/', 'Home', 'Hjem'],
    ['devices', '/devices', 'All devices', 'Alle enheter'],
    ['device', `/devices/${ids['OSLO-LAPTOP']}`, null, null],
    ['connector', '/tenant/connector', 'Remote assistance connector', 'Kobling for fjernhjelp'],
    ['roles', '/tenant/roles', 'Roles', 'Roller'],
    ['role', `/tenant/roles/${roleId}`, null, null],
    ['users', '/users', 'Users', 'Brukere'],
    ['user', `/users/${ids.dana}`, 'Dana Device', 'Dana Device'],
    ['groups', '/groups', 'Groups', 'Grupper'],
    ['group', `/groups/${ids.oslo}`, 'Oslo devices', 'Oslo devices'],
    ['enrollment', '/enrollment', 'Enrollment', 'Registrering'],
    ['sessions', '/tenant/sessions', 'Remote assistance sessions', 'Fjernhjelpsøkter'],
    ['audit', '/tenant/audit', 'Audit logs', 'Overvåkingslogger'],
  ];
  for (const [lang, locale] of [['en', 'en-US'], ['nb', 'nb-NO']]) {
    // The sign-in page, before signing in.
    const anon = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale });
    const p0 = await anon.newPage();
    await p0.goto(hub.url + '/');
    await p0.getByRole('button', { name: lang === 'nb' ? 'Logg på' : 'Sign in' }).waitFor();
    const v0 = (await new AxeBuilder({ page: p0 }).withTags(AXE_TAGS).analyze()).violations;
    assert.deepEqual(v0.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(' ')}`), [], `signin (${lang})`);
    await p0.screenshot({ path: path.join(SHOTS, `signin-${lang}.png`) });
    await anon.close();

    const { context, page } = await signIn(ADMIN_EMAIL, ADMIN_PASSWORD, locale);
    // Laid out for 1280 × 800 and up (issue 21, point 13).
    await page.setViewportSize({ width: 1280, height: 800 });
    for (const [name, url, en, nb] of pages) {
      await page.goto(hub.url + url);
      const heading = lang === 'nb' ? nb : en;
      if (heading) await page.getByRole('heading', { name: heading, exact: true }).first().waitFor();
      else await page.getByRole('heading', { level: 1 }).waitFor();
      await page.waitForLoadState('networkidle');
      const violations = (await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze()).violations;
      assert.deepEqual(violations.map((v) => `${v.id}: ${v.help} @ ${v.nodes.map((n) => n.target).join(' ')}`), [], `${name} (${lang})`);
      assert.deepEqual(await layoutProblems(page), [], `${name} (${lang}) at 1280 × 800`);
      await page.screenshot({ path: path.join(SHOTS, `${name}-${lang}.png`), fullPage: true });
    }
    assert.deepEqual(page.errors, []);
    await context.close();
  }
});
