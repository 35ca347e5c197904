// End to end: the seed's story in the admin center, with the real hub, relay and an agent on a
// virtual display. The administrator signs in, connects the remote assistance connector through
// Connectors and tokens (relay and client, Connect, the licence, Log in to authorize, the relay's
// sign-in and consent pages, back to "Connected"), finds the device in All devices, requests a
// session from More > New remote assistance session > Yes, and watches its status change without
// a reload while the device user answers (`reach-agent accept`, `allow`, `end`). Start remote
// assistance opens the viewer, which shows the device's pixels; the history lists the session.
// Before that, the attack of issue 20 is run against the connector's onboarding and fails: a Read
// Only Operator does not get the authorization URL, another browser cannot complete the
// callback, and a grant made by another relay account is shown to the administrator, who
// refuses it, before the hub uses it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ADMIN_EMAIL, ADMIN_PASSWORD, BIN, OUT_DIR, checkEnvironment, firstLine, launchChromium, run,
  start, startHub, startPatternDisplay, startRelay, tearDown, until, waitForPattern,
} from './harness.mjs';

const AGENT = path.join(BIN || '', 'reach-agent');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-e2e-admin-'));
const state = path.join(tmp, 'agent');
let browser;
let hub;
let relay;
let display;
let client; // the hub's OAuth client at the relay
let deviceName;

function agentCli(args) {
  const r = spawnSync(AGENT, [...args, '--state', state], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}
function agentJson(args) {
  const r = agentCli([...args, '--json']);
  return r.status === 0 ? JSON.parse(r.out) : null;
}

before(async () => {
  checkEnvironment();
  display = await startPatternDisplay(tmp);
  relay = await startRelay(tmp);
  hub = await startHub(tmp);
  client = JSON.parse(run(path.join(BIN, 'reach-relay'), ['client', 'add', '--data', path.join(tmp, 'relay'),
    '--name', 'Reach hub', '--redirect-uri', `${hub.url}/api/remoteAssistance/callback`]));
  // The device's user, and the device: reach-agent enrolled to them, running on the display.
  const u = await hub.api('POST', '/v1.0/users', { displayName: 'Dana Device',
    userPrincipalName: 'dana@example.com', accountEnabled: true,
    passwordProfile: { password: 'Dana-Passw0rd-1' } });
  assert.equal(u.status, 201, JSON.stringify(u.json));
  const token = run(path.join(BIN, 'reach-hub'), ['enrollment-token', 'create', '--data', hub.data,
    '--user', 'dana@example.com']).trim();
  run(AGENT, ['enroll', '--hub', hub.url, '--token', token, '--state', state]);
  const agent = start(AGENT, ['run', '--state', state, '--display', display]);
  await firstLine(agent, 'reach-agent run');
  const { deviceId } = JSON.parse(fs.readFileSync(path.join(state, 'credential.json'), 'utf8'));
  await until('the agent\'s push channel', () => agentJson(['status'])?.channel === 'connected');
  deviceName = (await hub.api('GET', `/v1.0/deviceManagement/managedDevices/${deviceId}`)).json.deviceName;
  browser = await launchChromium();
});

after(() => tearDown(browser, tmp));

const READ_ONLY_ROLE = 'd12b9e51-1bd5-4a9d-9c8a-0b1e8e0e0d5f';
const PARTNERS = '/v1.0/deviceManagement/remoteAssistancePartners';

async function signInToHub(email, password) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(hub.url + '/');
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByRole('textbox', { name: 'Password' }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Home' }).waitFor();
  return { context, page };
}

test('a Read Only Operator with a relay account of their own cannot take the connector', async () => {
  const relaySite = relay.url.replace('127.0.0.1', 'localhost');
  // The operator: Read Only on all devices at the hub, and a supporter account at the relay.
  const org = await hub.api('PATCH', '/api/organization', { allowUnlicensedAdministrators: true });
  assert.equal(org.status, 200, JSON.stringify(org.json));
  const mallory = await hub.api('POST', '/v1.0/users', { displayName: 'Mallory Reader',
    userPrincipalName: 'mallory@example.com', accountEnabled: true,
    passwordProfile: { password: 'Mallory-Passw0rd-1' } });
  assert.equal(mallory.status, 201, JSON.stringify(mallory.json));
  const readers = await hub.api('POST', '/v1.0/groups', { displayName: 'Readers' });
  assert.equal((await hub.api('POST', `/v1.0/groups/${readers.json.id}/members/$ref`,
    { '@odata.id': `${hub.url}/v1.0/directoryObjects/${mallory.json.id}` })).status, 204);
  assert.equal((await hub.api('POST', '/v1.0/deviceManagement/roleAssignments', { displayName: 'Readers',
    roleDefinitionId: READ_ONLY_ROLE, members: [readers.json.id], resourceScopes: [],
    scopeType: 'allDevices' })).status, 201);
  run(path.join(BIN, 'reach-relay'), ['account', 'add', '--data', path.join(tmp, 'relay'),
    '--email', 'mallory@example.com', '--name', 'Mallory Supporter'], { REACH_PASSWORD: 'Mallory-Passw0rd-1' });
  const pid = (await hub.api('GET', PARTNERS)).json.value[0].id;
  assert.equal((await hub.api('PATCH', `${PARTNERS}/${pid}`, { onboardingUrl: relaySite,
    clientId: client.client_id, clientSecret: client.client_secret })).status, 200);

  // The administrator begins connecting and is at the relay's sign-in page.
  const admin = await signInToHub(ADMIN_EMAIL, ADMIN_PASSWORD);
  const attacker = await signInToHub('mallory@example.com', 'Mallory-Passw0rd-1');
  try {
    await admin.page.goto(`${hub.url}/tenant/connector`);
    await admin.page.getByRole('button', { name: 'Connect', exact: true }).click();
    await admin.page.getByRole('checkbox', { name: 'I agree' }).click();
    await admin.page.getByRole('button', { name: 'Log in to authorize' }).click();
    await admin.page.waitForURL((u) => u.href.startsWith(relaySite));
    const authorizeUrl = admin.page.url();

    // The operator reads the connector: onboarding, but neither the URL nor its state.
    const seen = await attacker.page.request.get(`${hub.url}${PARTNERS}/${pid}`);
    assert.equal(seen.status(), 200);
    const p = await seen.json();
    assert.equal(p.onboardingStatus, 'onboarding');
    assert.equal(p.authorizationUrl, undefined, 'the authorization URL is the administrator\'s alone');
    assert.doesNotMatch(JSON.stringify(p), /state=|code_challenge/);

    // Even with the administrator's URL in hand (leaked some other way), the operator's consent
    // does not connect the hub to their account. They sign in at the relay as themselves, consent,
    // and are sent back to the hub's callback: their own browser cannot complete it (it did not
    // begin the onboarding), and nothing changes.
    const mal = attacker.page;
    await mal.goto(authorizeUrl);
    await mal.getByLabel('Email').fill('mallory@example.com');
    await mal.getByLabel('Password').fill('Mallory-Passw0rd-1');
    await mal.getByRole('button', { name: 'Sign in' }).click();
    const back = mal.waitForResponse((r) => r.url().startsWith(`${hub.url}/api/remoteAssistance/callback`));
    await mal.getByRole('button', { name: 'Allow' }).click();
    const own = await back;
    const callbackUrl = own.url();
    assert.equal(own.status(), 400);
    const again = await mal.request.get(callbackUrl, { maxRedirects: 0 });
    assert.equal(again.status(), 400);
    assert.match(await again.text(), /does not belong to an onboarding begun in this browser/);
    assert.equal((await hub.api('GET', `${PARTNERS}/${pid}`)).json.onboardingStatus, 'onboarding');

    // A page on another site sends the administrator's browser to it (a top-level cross-site
    // navigation): the hub holds the grant and asks whose it is, naming the operator's account.
    await admin.page.evaluate((u) => { window.location.href = u; }, callbackUrl);
    await admin.page.waitForURL((u) => u.href.startsWith(`${hub.url}/tenant/connector`));
    await admin.page.getByRole('heading', { name: 'Confirm the relay account' }).waitFor();
    await admin.page.getByText('mallory@example.com').first().waitFor();
    await admin.page.screenshot({ path: path.join(OUT_DIR, 'admin-story-connector-confirm.png'), fullPage: true });
    // Nothing uses that grant yet; the operator sees no account waiting, and cannot confirm.
    let now = await hub.api('GET', `${PARTNERS}/${pid}`);
    assert.equal(now.json.onboardingStatus, 'onboarding');
    const theirs = await (await mal.request.get(`${hub.url}${PARTNERS}/${pid}`)).json();
    assert.equal(theirs.pendingAccount, undefined);
    const r = await mal.request.post(`${hub.url}${PARTNERS}/${pid}/confirmOnboarding`, { headers: { Origin: hub.url } });
    assert.equal(r.status(), 403);
    // The administrator refuses it: not connected, and the relay's grant is given back.
    await admin.page.getByRole('button', { name: 'Cancel connection' }).click();
    await admin.page.getByText('The connection was cancelled. Nothing was changed.').waitFor();
    await admin.page.getByRole('status').filter({ hasText: /^\s*Not connected\s*$/ }).waitFor();
    now = await hub.api('GET', `${PARTNERS}/${pid}`);
    assert.equal(now.json.onboardingStatus, 'notOnboarded');
    assert.equal(now.json.connectedAccount, null);
    const audit = await hub.api('GET', "/api/audit?$filter=activity eq 'cancelRemoteAssistanceOnboarding'");
    assert.equal(audit.json.value[0].details.account, 'mallory@example.com');
    assert.equal(audit.json.value[0].details.revokedAtRelay, true);
  } finally {
    await admin.context.close();
    await attacker.context.close();
  }
});

test('the administrator connects the connector and helps the device user, all in the browser', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const shot = (name) => page.screenshot({ path: path.join(OUT_DIR, `admin-story-${name}.png`), fullPage: true });
  try {
    // Sign in.
    await page.goto(hub.url + '/');
    await page.getByRole('textbox', { name: 'Email' }).fill(ADMIN_EMAIL);
    await page.getByRole('textbox', { name: 'Password' }).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Home' }).waitFor();

    // Tenant administration > Connectors and tokens: the relay and the client, then Connect.
    await page.getByRole('link', { name: 'Connectors and tokens' }).click();
    await page.getByRole('heading', { name: 'Remote assistance connector' }).waitFor();
    // The relay on another site than the hub (localhost vs 127.0.0.1), as it is in a real
    // deployment: the browser's way back to the hub's callback is a cross-site navigation.
    const relaySite = relay.url.replace('127.0.0.1', 'localhost');
    // The set-up details are folded away once the relay and client are set (as the test before
    // this one left them): open them.
    const relayBox = page.getByRole('textbox', { name: 'Relay URL' });
    if (!(await relayBox.isVisible())) await page.getByText('Relay and OAuth client').click();
    await relayBox.fill(relaySite);
    await page.getByRole('textbox', { name: 'Client ID' }).fill(client.client_id);
    await page.getByRole('textbox', { name: 'Client secret' }).fill(client.client_secret);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved. Connect again to use the new settings.').waitFor();
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    const login = page.getByRole('button', { name: 'Log in to authorize' });
    await login.waitFor();
    assert.equal(await login.isDisabled(), true, 'Log in to authorize waits for "I agree"');
    await page.getByRole('checkbox', { name: 'I agree' }).click();
    await until('Log in to authorize enabled', async () => !(await login.isDisabled()));
    await login.click();
    // The relay's own pages, in this tab.
    await page.waitForURL((u) => u.href.startsWith(relaySite));
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    // Back on the connector's page, which names the relay account that consented: confirm it.
    await page.waitForURL((u) => u.href.startsWith(`${hub.url}/tenant/connector`));
    await page.getByRole('heading', { name: 'Confirm the relay account' }).waitFor();
    await page.getByRole('button', { name: 'Confirm account' }).click();
    await page.getByRole('status').filter({ hasText: /^\s*Connected\s*$/ }).waitFor();
    await page.getByText(`(${ADMIN_EMAIL})`).waitFor();
    await shot('connector');

    // Devices > All devices > search > the device.
    await page.getByRole('link', { name: 'All devices' }).click();
    await page.getByRole('searchbox', { name: 'Search' }).fill(deviceName.slice(0, 4));
    await page.getByRole('link', { name: deviceName, exact: true }).click();
    await page.getByRole('heading', { name: deviceName, exact: true }).waitFor();
    await page.getByText('The status updates by itself.').waitFor();
    // Nothing below may reload the page: a reload would lose this mark.
    await page.evaluate(() => { window.reachNoReload = true; });

    // … More > New remote assistance session > Yes.
    await page.getByRole('button', { name: 'More' }).click();
    await page.getByRole('menuitem', { name: 'New remote assistance session' }).click();
    await page.getByRole('button', { name: 'Yes' }).click();
    const status = page.getByRole('status').filter({ hasText: /Requested|Accepted|Connected|Ended/ });
    await status.filter({ hasText: 'Requested: waiting for the user to accept' }).waitFor();
    await shot('requested');

    // The device user accepts (the agent's command line); the page follows, pushed by the hub.
    const list = await until('the request on the device', () => {
      const n = agentJson(['notifications']);
      return n?.notifications?.find((x) => x.kind === 'remoteAssistanceRequest') ?? null;
    });
    assert.equal(agentCli(['accept', list.id]).status, 0);
    await status.filter({ hasText: 'Accepted by the user: waiting for you' }).waitFor();

    // Start remote assistance: the viewer in a new tab; the user allows; the device's pixels.
    const [viewer] = await Promise.all([
      context.waitForEvent('page'),
      page.getByRole('link', { name: 'Start remote assistance' }).click(),
    ]);
    await until('the agent asking to allow', () => agentJson(['status'])?.session?.state === 'askingToAllow');
    // Issue 21, point 7: while the user decides, both the page and the viewer count down the time
    // they have (the agent's 5 minutes), and there is nothing to start.
    const asking = page.getByRole('status').filter({ hasText: /Waiting for the user to allow the session \(([45]):[0-5]\d\)/ });
    await asking.waitFor();
    const left = async () => {
      const m = /\((\d):(\d\d)\)/.exec(await asking.innerText());
      return Number(m[1]) * 60 + Number(m[2]);
    };
    const first = await left();
    assert.ok(first > 280 && first <= 300, `time left ${first}`);
    await until('the countdown ticking', async () => (await left()) < first);
    assert.equal(await page.getByRole('link', { name: 'Start remote assistance' }).count(), 0);
    await page.getByRole('timer').waitFor();
    await viewer.getByRole('status').filter({ hasText: /Waiting for the user to allow the session \([45]:[0-5]\d\)/ }).waitFor();
    await shot('asking');
    await viewer.screenshot({ path: path.join(OUT_DIR, 'admin-story-viewer-asking.png') });
    assert.equal(agentCli(['allow']).status, 0);
    await waitForPattern(viewer, 'admin-story-viewer-failed.png');
    await viewer.screenshot({ path: path.join(OUT_DIR, 'admin-story-viewer.png') });
    await status.filter({ hasText: 'Connected: you have control of the screen.' }).waitFor();
    // Issue 21, point 7 (in part): nothing to start while the session runs.
    await until('Start remote assistance gone while connected', async () =>
      (await page.getByRole('link', { name: 'Start remote assistance' }).count()) === 0);
    await shot('connected');

    // Issue 21, point 8: the user switches to View only; the viewer and the page say so at once,
    // and the viewer stops sending input (its View only box is checked and cannot be unchecked).
    await viewer.getByRole('status').filter({ hasText: "Connected: you see the device's screen." }).waitFor();
    assert.equal(agentCli(['view-only']).status, 0);
    await viewer.getByRole('status').filter({ hasText: 'Connected, view only: the user chose view only. You see the screen; your keyboard and mouse are not sent.' }).waitFor();
    const viewOnlyBox = viewer.getByRole('checkbox', { name: 'View only' });
    assert.equal(await viewOnlyBox.isChecked(), true);
    assert.equal(await viewOnlyBox.isDisabled(), true);
    assert.equal(await viewer.evaluate(() => window.reachRfb.viewOnly), true);
    await status.filter({ hasText: 'Connected, view only: the user chose view only.' }).waitFor();
    await shot('view-only');
    await viewer.screenshot({ path: path.join(OUT_DIR, 'admin-story-viewer-view-only.png') });

    // The user ends the session; the page says so, with its duration.
    assert.equal(agentCli(['end']).status, 0);
    await status.filter({ hasText: 'Ended: ended by the user.' }).waitFor();
    const duration = page.locator('dt', { hasText: 'Duration' }).locator('xpath=following-sibling::dd');
    assert.match(await duration.innerText(), /^\d+ (s|min)/);
    assert.equal(await page.evaluate(() => window.reachNoReload), true, 'the page was never reloaded');
    await shot('ended');

    // Tenant administration > Remote assistance sessions lists it.
    await page.getByRole('link', { name: 'Remote assistance sessions' }).click();
    const row = page.getByRole('row').filter({ hasText: deviceName });
    await row.filter({ hasText: 'Ended: ended by the user.' }).waitFor();
    assert.match(await row.innerText(), /Accepted, allowed full control, view only from \d{1,2}:\d\d/);
    // The device's own signed record of that answer (issue 24), checked by the hub.
    await row.filter({ hasText: 'Consent signed by the device' }).waitFor();
    await shot('history');

    // Tenant administration > Audit logs: the request and the viewer being opened, in words.
    await page.getByRole('link', { name: 'Audit logs' }).click();
    const audit = page.getByRole('table', { name: 'Audit logs' });
    const opened = audit.getByRole('row').filter({ hasText: 'Remote assistance viewer opened' });
    await opened.filter({ hasText: deviceName }).filter({ hasText: ADMIN_EMAIL }).waitFor();
    await audit.getByRole('row').filter({ hasText: 'Remote assistance requested' }).first().waitFor();
    await opened.first().getByRole('button', { name: 'Show' }).click();
    await page.getByRole('heading', { name: 'Details: Remote assistance viewer opened' }).waitFor();
    await page.locator('dd', { hasText: 'openRemoteAssistanceViewer' }).waitFor();
    await shot('audit');
    assert.deepEqual(errors, []);
  } catch (e) {
    await shot('failed');
    throw e;
  } finally {
    await context.close();
  }
});

// Issue 21, point 6: asking again while a request waits says so, with when it was sent, and
// offers Resend (a new request, a new code on the device) and Cancel; both languages.
test('a request still waiting is said so, with Resend and Cancel', async () => {
  for (const [lang, locale] of [['en', 'en-US'], ['nb', 'nb-NO']]) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale });
    const page = await context.newPage();
    const w = lang === 'nb'
      ? { email: 'E-post', password: 'Passord', signin: 'Logg på', more: 'Mer', newSession: 'Ny fjernhjelpsøkt', yes: 'Ja',
        waiting: /venter fortsatt på at brukeren godtar den/, resend: 'Send på nytt', resent: 'En ny forespørsel ble sendt til enheten.',
        cancel: 'Avbryt forespørselen', cancelled: 'Avsluttet: avbrutt av en administrator.', pending: /En forespørsel venter fortsatt/ }
      : { email: 'Email', password: 'Password', signin: 'Sign in', more: 'More', newSession: 'New remote assistance session', yes: 'Yes',
        waiting: /is still waiting for the user to accept it/, resend: 'Resend', resent: 'A new request was sent to the device.',
        cancel: 'Cancel request', cancelled: 'Ended: cancelled by an administrator.', pending: /A request is still waiting/ };
    try {
      await page.goto(hub.url + '/');
      await page.getByRole('textbox', { name: w.email }).fill(ADMIN_EMAIL);
      await page.getByRole('textbox', { name: w.password }).fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: w.signin }).click();
      await page.getByRole('heading', { name: lang === 'nb' ? 'Hjem' : 'Home' }).waitFor();
      const { deviceId } = JSON.parse(fs.readFileSync(path.join(state, 'credential.json'), 'utf8'));
      await page.goto(`${hub.url}/devices/${deviceId}`);
      await page.getByRole('heading', { name: deviceName, exact: true }).waitFor();
      const ask = async () => {
        await page.getByRole('button', { name: w.more }).click();
        await page.getByRole('menuitem', { name: w.newSession }).click();
        await page.getByRole('button', { name: w.yes }).click();
      };
      await ask();
      await page.getByText(w.waiting).waitFor();
      const code = async () => page.locator('dt', { hasText: /^(Session code|Øktkode)$/ }).locator('xpath=following-sibling::dd').innerText();
      const first = await code();
      // Asking again is not a silent no-op.
      await ask();
      await page.getByRole('alert').filter({ hasText: w.pending }).waitFor();
      await page.screenshot({ path: path.join(OUT_DIR, `admin-story-request-waiting-${lang}.png`), fullPage: true });
      // Resend: a new code, and the device gets a new request.
      const requests = () => agentJson(['notifications'])?.notifications?.filter((n) => n.kind === 'remoteAssistanceRequest').length ?? 0;
      await until('the first request on the device', () => requests() > 0);
      const before = requests();
      await page.getByRole('button', { name: w.resend }).click();
      await page.getByText(w.resent).waitFor();
      await until('a new session code', async () => (await code()) !== first);
      await until('the new request on the device', () => requests() > before);
      // Cancel, confirmed: ended in words.
      await page.getByRole('button', { name: w.cancel }).click();
      await page.getByRole('button', { name: w.yes }).click();
      await page.getByRole('status').filter({ hasText: w.cancelled }).waitFor();
      assert.equal(await page.getByRole('button', { name: w.cancel }).count(), 0);
      await page.screenshot({ path: path.join(OUT_DIR, `admin-story-request-cancelled-${lang}.png`), fullPage: true });
    } finally {
      await context.close();
    }
  }
});

// Issue 21, points 7 and 8, in Norwegian: while the user decides, the page and the viewer count
// down; when the user chooses view only, both say so at once.
// This browser's clock is 10 minutes fast, as a badly set PC's may be: the countdown runs on the
// hub's time (read from its answers' Date), so it still shows the user's 5 minutes.
test('nb: the countdown while the user decides, and view only said at both ends', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'nb-NO' });
  await context.addInitScript(() => {
    const real = Date.now;
    Date.now = () => real.call(Date) + 10 * 60 * 1000;
  });
  const page = await context.newPage();
  const shot = (name) => page.screenshot({ path: path.join(OUT_DIR, `admin-story-${name}-nb.png`), fullPage: true });
  try {
    await page.goto(hub.url + '/');
    await page.getByRole('textbox', { name: 'E-post' }).fill(ADMIN_EMAIL);
    await page.getByRole('textbox', { name: 'Passord' }).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Logg på' }).click();
    await page.getByRole('heading', { name: 'Hjem' }).waitFor();
    const { deviceId } = JSON.parse(fs.readFileSync(path.join(state, 'credential.json'), 'utf8'));
    await page.goto(`${hub.url}/devices/${deviceId}`);
    await page.getByRole('heading', { name: deviceName, exact: true }).waitFor();
    // The request this test makes: one the device did not have before (those the earlier tests
    // resent or cancelled stay in the list, and one of them may still look open there).
    const before = new Set((agentJson(['notifications'])?.notifications ?? []).map((n) => n.id));
    await page.getByRole('button', { name: 'Mer' }).click();
    await page.getByRole('menuitem', { name: 'Ny fjernhjelpsøkt' }).click();
    await page.getByRole('button', { name: 'Ja' }).click();
    const request = await until('the request on the device', () =>
      agentJson(['notifications'])?.notifications
        ?.find((n) => n.kind === 'remoteAssistanceRequest' && !n.answer && !before.has(n.id)) ?? null);
    const accepted = agentCli(['accept', request.id]);
    assert.equal(accepted.status, 0, accepted.out + accepted.err);
    const [viewer] = await Promise.all([
      context.waitForEvent('page'),
      page.getByRole('link', { name: 'Start fjernhjelp' }).click(),
    ]);
    await until('the agent asking to allow', () => agentJson(['status'])?.session?.state === 'askingToAllow');
    await page.getByRole('status').filter({ hasText: /Venter på at brukeren tillater økten \([45]:[0-5]\d\)\./ }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Start fjernhjelp' }).count(), 0);
    await viewer.getByRole('status').filter({ hasText: /Venter på at brukeren tillater økten \([45]:[0-5]\d\)\./ }).waitFor();
    await shot('asking');
    await viewer.screenshot({ path: path.join(OUT_DIR, 'admin-story-viewer-asking-nb.png') });

    assert.equal(agentCli(['allow']).status, 0);
    await page.getByRole('status').filter({ hasText: 'Tilkoblet: du har kontroll over skjermen.' }).waitFor();
    await viewer.getByRole('status').filter({ hasText: 'Tilkoblet: du ser skjermen til enheten.' }).waitFor();
    assert.equal(agentCli(['view-only']).status, 0);
    await viewer.getByRole('status').filter({ hasText: 'Tilkoblet, bare visning: brukeren valgte bare visning.' }).waitFor();
    assert.equal(await viewer.getByRole('checkbox', { name: 'Bare visning' }).isDisabled(), true);
    await page.getByRole('status').filter({ hasText: 'Tilkoblet, bare visning: brukeren valgte bare visning.' }).waitFor();
    await shot('view-only');
    await viewer.screenshot({ path: path.join(OUT_DIR, 'admin-story-viewer-view-only-nb.png') });
    assert.equal(agentCli(['end']).status, 0);
    await page.getByRole('status').filter({ hasText: /^Avsluttet/ }).waitFor();
    // The history says, in Norwegian, that the device signed the user's answer (issue 24).
    await page.getByRole('link', { name: 'Fjernhjelpsøkter' }).click();
    await page.getByRole('row').filter({ hasText: 'Samtykket er signert av enheten' }).first().waitFor();
    await shot('history');
  } catch (e) {
    await shot('failed');
    throw e;
  } finally {
    await context.close();
  }
});
