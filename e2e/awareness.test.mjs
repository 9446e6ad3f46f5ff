// End-to-end tests of awareness.js, the widget other applications' pages
// include: the demo intranet page served from another origin (a second
// loopback port, in `server.allowed_origins`), real Simul on the fixture
// LDAP directory (people by uid, mail or DN, with titles and phones),
// headless Chromium. Run with `node --test e2e/` after
// `cargo build -p simul -p simul-testkit`.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { after, before } from 'node:test';
import * as H from './harness.mjs';

const { setStatus } = H;

const run = promisify(execFile);
const BIN = path.resolve(H.ROOT, process.env.SIMUL_BIN ?? 'target/debug/simul');
const BOB_DN = 'uid=bob,ou=people,dc=renovations,dc=com';
const CAROL1_DN = 'uid=carol1,ou=people,dc=renovations,dc=com';

/** @type {H.Slapd} */
let slapd;
/** @type {H.Server} */
let server;
/** @type {Awaited<ReturnType<typeof H.startStaticServer>>} */
let intranet;
/** @type {import('playwright-core').Browser} */
let browser;
/** The intranet page on the other origin. */
let pageUrl = '';
/** Holds simul.toml, the bind password and the exported keys. */
let configDir = '';
/** @type {Record<string, {type: string, body: string}>} */
const files = {};

before(async () => {
  // The other application's origin must be known before Simul starts.
  ({ intranet, slapd, configDir, server } = await H.startWithOtherOrigin(files, { prefix: 'simul-e2e-awareness-' }));
  // The demo page, as another application would serve it: absolute URLs
  // to Simul for the widget (and, for the look, the demo's stylesheet).
  const demo = await (await fetch(`${server.url}/demo/awareness`)).text();
  assert.match(demo, /<script src="\/awareness\.js" data-simul-mail-links><\/script>/);
  files['/intranet.html'] = {
    type: 'text/html; charset=utf-8',
    body: demo
      .replace('src="/awareness.js"', `src="${server.url}/awareness.js"`)
      .replaceAll('href="/assets/', `href="${server.url}/assets/`),
  };
  pageUrl = `${intranet.url}/intranet.html`;
  browser = await H.launchBrowser();
});

after(() => H.stopWithOtherOrigin({ browser, intranet, server, slapd, configDir }));

const { scenario, open, pages } = H.testBook(() => browser, 'awareness-');

/**
 * Opens the intranet page in a new tab of `context`, recording the tab's
 * WebSockets, its people lookups and its errors.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} [url]
 */
async function intranetTab(context, url = pageUrl) {
  const page = await context.newPage();
  /** @type {string[]} */
  const sockets = [];
  /** @type {string[]} */
  const lookups = [];
  /** @type {string[]} */
  const errors = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/users')) lookups.push(r.url());
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return { page, sockets, lookups, errors };
}

/**
 * What has focus, through shadow roots: its accessible label or text.
 * @param {import('playwright-core').Page} page
 */
function focused(page) {
  return page.evaluate(() => {
    let el = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return el?.getAttribute('aria-label') ?? el?.textContent ?? '';
  });
}

/**
 * The labels of every widget icon on the page.
 * @param {import('playwright-core').Page} page
 */
function iconLabels(page) {
  return page.evaluate(() => [...document.querySelectorAll('[data-simul-widget]')]
    .map((host) => host.shadowRoot?.querySelector('button.icon')?.getAttribute('aria-label') ?? ''));
}


/**
 * A fixture person online in a browser of their own (password `<uid>-secret`).
 * @param {string} uid
 * @param {string} [status]
 * @param {string} [message]
 */
async function online(uid, status, message = '') {
  const p = await open(uid);
  await H.signIn(p.page, server.url, uid, `${uid}-secret`);
  if (status) await setStatus(p.page, status, message);
  return p;
}

scenario('awareness.js is small, plain, and served for other origins', async () => {
  const response = await fetch(`${server.url}/awareness.js`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/javascript/);
  const source = await response.text();
  const gzipped = gzipSync(source, { level: 9 }).length;
  assert.ok(gzipped < 20 * 1024, `awareness.js is ${gzipped} bytes gzipped (at most 20 KB)`);
  assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  assert.doesNotMatch(source, /\bimport\b|require\(/, 'no dependencies');
  const demo = await fetch(`${server.url}/demo/awareness`);
  assert.match(demo.headers.get('content-security-policy') ?? '', /script-src 'self'; style-src 'self'/);
});

scenario('a signed-in user sees live status on another origin\'s page, with one WebSocket', async () => {
  const bob = await online('bob');
  await online('zoe', 'in_meeting', 'Site walk');
  const alice = await online('alice');

  const tab = await intranetTab(alice.context);
  pages.set('alice-intranet', { ...alice, page: tab.page });
  const { page } = tab;
  const icon = (/** @type {string} */ name) => page.getByRole('button', { name, exact: true });
  await icon('Bob Builder: Available').first().waitFor();
  await icon('Alice Allen: Available').first().waitFor();
  await icon('Zoë Ångström-Łukasiewicz: In a meeting — Site walk').first().waitFor();
  await icon('Carol One: Offline').waitFor();
  await icon('facilities@renovations.com: Status unknown (not in the Simul directory)').waitFor();
  await icon('Dave Dunn: Status unknown (not in the Simul directory)').waitFor();
  // By uid, DN and mail (the team, the news, a mail link, the documents):
  // one person, named by the directory.
  assert.equal(await icon('Bob Builder: Available').count(), 4);
  assert.equal(await icon('Alice Allen: Available').count(), 2);
  assert.equal(await page.getByRole('button', { name: /^Zoë Ångström-Łukasiewicz: / }).count(), 2);

  // Bob sets Do not disturb in his client: all his icons say so in moments.
  const set = Date.now();
  await setStatus(bob.page, 'dnd', 'On the roof until 3');
  const dnd = icon('Bob Builder: Do not disturb — On the roof until 3');
  await H.eventually(async () => (await dnd.count()) === 4, 'all of Bob\'s icons on Do not disturb', 5000);
  const took = Date.now() - set;
  assert.ok(took < 3000, `the change took ${took} ms`);
  await page.mouse.move(1, 1);
  await H.screenshot(page, 'awareness-demo');

  // Keyboard: Tab to Bob's icon shows his card; Tab goes into it; Escape
  // closes it and focus goes back to the icon.
  await page.locator('body').focus();
  for (let i = 0; i < 30 && !/^Bob Builder: /.test(await focused(page)); i++) await page.keyboard.press('Tab');
  assert.match(await focused(page), /^Bob Builder: Do not disturb/);
  const card = page.getByRole('group', { name: 'Business card: Bob Builder' });
  await card.waitFor();
  await card.getByText('Do not disturb', { exact: true }).waitFor();
  await card.getByText('— On the roof until 3').waitFor();
  await card.getByText('Builder', { exact: true }).waitFor();
  await card.getByText('Cambridge', { exact: true }).waitFor();
  await card.getByRole('link', { name: 'bob@renovations.com' }).waitFor();
  await card.getByRole('link', { name: '+1 617 555 0102' }).waitFor();
  await card.getByRole('button', { name: 'Chat with Bob Builder' }).waitFor();
  await H.screenshot(page, 'awareness-card');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'bob@renovations.com', 'Tab goes into the card');
  // A change while the card is open: it stays, focus stays where it was.
  await setStatus(bob.page, 'dnd', 'On the roof until 4');
  await card.getByText('— On the roof until 4').waitFor();
  assert.equal(await focused(page), 'bob@renovations.com');
  await page.keyboard.press('Escape');
  await card.waitFor({ state: 'hidden' });
  assert.match(await focused(page), /^Bob Builder: /, 'Escape brings focus back to the icon');
  await page.keyboard.press('Tab');
  assert.match(await focused(page), /^Zoë Ångström-Łukasiewicz: In a meeting/);
  await page.getByRole('group', { name: 'Business card: Zoë Ångström-Łukasiewicz' }).waitFor();
  await page.keyboard.press('Escape');

  // The mouse: hovering shows the card, leaving hides it.
  await icon('Carol One: Offline').hover();
  const carolCard = page.getByRole('group', { name: 'Business card: Carol One' });
  await carolCard.waitFor();
  await page.mouse.move(5, 700);
  await carolCard.waitFor({ state: 'hidden' });

  // A click opens the full client on a chat with Bob, in its own window.
  const popup = alice.context.waitForEvent('page');
  await page.getByRole('button', { name: /^Bob Builder: Do not disturb/ }).first().click();
  const chat = await popup;
  await H.appReady(chat);
  await chat.locator(`section.chat[data-conversation="im:${BOB_DN}"]`).waitFor();
  await chat.getByRole('textbox', { name: 'Message Bob Builder' }).waitFor();
  await chat.close();

  assert.deepEqual(tab.sockets, [`${server.url.replace('http', 'ws')}/api/v1/events?presence=none`], 'one watch-only WebSocket for the page');
  assert.equal(tab.lookups.length, 1, `one batched lookup: ${tab.lookups.join(', ')}`);
  const labels = await iconLabels(page);
  assert.equal(labels.length, 11);
  assert.deepEqual(labels.filter((l) => !/^[^:]+: \S/.test(l)), [], 'every icon has a name and a status');
  assert.deepEqual(await H.accessibilityProblems(page), []);
  assert.deepEqual(tab.errors, []);
});

scenario('the widget changes none of the page\'s styles, and takes none of them', async () => {
  const { page } = pages.get('alice-intranet') ?? assert.fail('the previous scenario opened the page');
  const styles = await page.evaluate(() => {
    const pick = (/** @type {Element} */ el, /** @type {string[]} */ names) => {
      const style = getComputedStyle(el);
      return Object.fromEntries(names.map((n) => [n, style.getPropertyValue(n)]));
    };
    const person = /** @type {HTMLElement} */ (document.querySelector('[data-simul-user="bob"]'));
    const host = /** @type {HTMLElement} */ (person.querySelector('[data-simul-widget]'));
    const icon = /** @type {Element} */ (host.shadowRoot?.querySelector('button'));
    return {
      pageButton: pick(/** @type {Element} */ (document.querySelector('.search button')), ['background-color', 'padding', 'border-radius', 'font-family']),
      icon: pick(icon, ['background-color', 'padding', 'border-radius', 'width', 'font-family']),
      host: pick(host, ['letter-spacing', 'font-weight']),
      person: pick(person, ['font-weight', 'letter-spacing']),
      personText: person.textContent,
      sheets: document.styleSheets.length,
      adopted: document.adoptedStyleSheets.length,
      lightDomButtons: document.querySelectorAll('button').length,
      hosts: document.querySelectorAll('[data-simul-widget]').length,
    };
  });
  // The page's own rules (every button green, padded, squarish) still apply to its buttons.
  assert.deepEqual(styles.pageButton, {
    'background-color': 'rgb(15, 92, 77)', padding: '10px 16px', 'border-radius': '4px', 'font-family': 'system-ui, sans-serif',
  });
  // And not to the widget's.
  assert.equal(styles.icon['background-color'], 'rgba(0, 0, 0, 0)');
  assert.equal(styles.icon.padding, '0px');
  assert.equal(styles.icon['border-radius'], '50%');
  assert.equal(styles.icon.width, '20px');
  assert.notEqual(styles.icon['font-family'], styles.pageButton['font-family']);
  // The page's `span` and `.person` rules stop at the widget's host.
  assert.deepEqual(styles.host, { 'letter-spacing': 'normal', 'font-weight': '400' });
  assert.deepEqual(styles.person, { 'font-weight': '700', 'letter-spacing': '0.16px' });
  assert.equal(styles.personText, 'Bob Builder', 'the marked element\'s text is unchanged');
  assert.equal(styles.sheets, 1, 'no stylesheet added to the page');
  assert.equal(styles.adopted, 0);
  assert.equal(styles.lightDomButtons, 2, 'the widget\'s buttons are in shadow roots');
  assert.equal(styles.hosts, 11);
});

scenario('people added to the page later get icons too, from a second batch', async () => {
  const { page } = pages.get('alice-intranet') ?? assert.fail('the first scenario opened the page');
  const lookups = /** @type {string[]} */ ([]);
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/users')) lookups.push(r.url());
  });
  await page.evaluate((dn) => {
    for (const id of [dn, 'carol1']) {
      const li = document.createElement('li');
      const who = document.createElement('span');
      who.dataset.simulUser = id;
      who.textContent = 'Carol One';
      li.append(who);
      document.querySelector('.team')?.append(li);
    }
  }, CAROL1_DN);
  await H.eventually(async () => (await page.getByRole('button', { name: 'Carol One: Offline', exact: true }).count()) === 3,
    'the new elements\' icons');
  assert.equal(lookups.length, 1, 'one lookup, for the one new id');
  assert.match(lookups[0], /\?id=uid%3Dcarol1%2Cou%3Dpeople%2Cdc%3Drenovations%2Cdc%3Dcom$/);
});

scenario('without a Simul session every icon says status unknown, and no WebSocket opens', async () => {
  const stranger = await open('stranger');
  const tab = await intranetTab(stranger.context);
  pages.set('stranger-intranet', { ...stranger, page: tab.page });
  const { page } = tab;
  await page.getByRole('button', { name: 'Bob Builder: Status unknown (not signed in to Simul)', exact: true }).first().waitFor();
  await H.eventually(async () => (await iconLabels(page)).every((l) => l.endsWith(': Status unknown (not signed in to Simul)')),
    'every icon on "not signed in"');
  assert.ok((await iconLabels(page)).includes('Bob: Status unknown (not signed in to Simul)'), 'named after the link text');
  await page.getByRole('button', { name: /^Carol One: / }).focus();
  const card = page.getByRole('group', { name: 'Business card: Carol One' });
  await card.getByText('Not signed in to Simul', { exact: true }).waitFor();
  await card.getByRole('button', { name: 'Sign in to Simul to chat with Carol One' }).waitFor();
  await H.screenshot(page, 'awareness-signed-out');
  await page.waitForTimeout(1000);
  assert.deepEqual(tab.sockets, [], 'no WebSocket without a session');
  assert.equal(tab.lookups.length, 1);
  assert.deepEqual(H.realErrors(tab.errors), []);
  assert.deepEqual(stranger.dialogs, []);
});

scenario('a user signed in to another application of the SSO domain sees live status with no prompt', async () => {
  // Another server of the SSO domain (WebSphere, Domino) mints the cookie
  // with the shared keys; here `simul ltpa token create` with the export.
  const keys = path.join(configDir, 'x.keys');
  const pw = path.join(configDir, 'export.pw');
  await writeFile(pw, 'for-websphere\n', { mode: 0o600 });
  await run(BIN, ['ltpa', 'export', '--data', path.join(server.dir, 'data'), '--password-file', pw, '--out', keys]);
  const { stdout } = await run(BIN, ['ltpa', 'token', 'create', '--keys', keys, '--password-file', pw, '--user', CAROL1_DN]);
  const sso = await open('sso');
  await sso.context.addCookies([{ name: 'LtpaToken2', value: stdout.trim(), domain: '127.0.0.1', path: '/' }]);
  const tab = await intranetTab(sso.context);
  const { page } = tab;
  await page.getByRole('button', { name: 'Bob Builder: Do not disturb — On the roof until 4', exact: true }).first().waitFor();
  // Reading a page does not put Carol online: the widget's WebSocket only watches.
  await page.getByRole('button', { name: 'Carol One: Offline', exact: true }).waitFor();
  await setStatus((pages.get('bob') ?? assert.fail('Bob signed in earlier')).page, 'away', 'Back at 2');
  await page.getByRole('button', { name: 'Bob Builder: Away — Back at 2', exact: true }).first().waitFor({ timeout: 3000 });
  assert.equal(new URL(page.url()).origin, intranet.url, 'no redirect to a sign-in page');
  assert.equal(sso.context.pages().length, 2, 'no sign-in window');
  assert.deepEqual(sso.dialogs, []);
  assert.equal(tab.sockets.length, 1);
  assert.deepEqual(tab.errors, []);
});

scenario('after Simul restarts, the page reconnects by itself and is live again', async () => {
  const sso = pages.get('sso') ?? assert.fail('the SSO scenario opened the page');
  const page = sso.context.pages()[1];
  const sockets = /** @type {string[]} */ ([]);
  page.on('websocket', (ws) => sockets.push(ws.url()));
  const config = path.join(configDir, 'simul.toml');
  await server.stop({ keepData: true });
  await page.getByRole('button', { name: 'Carol One: Status unknown (Simul cannot be reached)', exact: true }).waitFor();
  server = await H.startServer([], { dir: server.dir, port: server.port, config });
  // The SSO cookie is still good (same keys): the widget is live again.
  await page.getByRole('button', { name: 'Carol One: Offline', exact: true }).waitFor({ timeout: 20_000 });
  const bob = pages.get('bob') ?? assert.fail('Bob signed in earlier');
  await H.appReady(bob.page);
  await setStatus(bob.page, 'away', 'Back at 2');
  await page.getByRole('button', { name: 'Bob Builder: Away — Back at 2', exact: true }).first().waitFor({ timeout: 5000 });
  assert.equal(sockets.length, 1, `one new WebSocket: ${sockets.join(', ')}`);
});

scenario('the demo page on Simul itself works under its strict CSP, in dark mode too', async () => {
  const alice = pages.get('alice') ?? assert.fail('the first scenario signed Alice in');
  const dark = await open('alice-dark', { ...H.DESKTOP, colorScheme: 'dark' });
  await dark.context.addCookies(await alice.context.cookies());
  const zoe = pages.get('zoe') ?? assert.fail('Zoë signed in earlier');
  await H.appReady(zoe.page);
  await setStatus(zoe.page, 'in_meeting', 'Site walk');
  const tab = await intranetTab(dark.context, `${server.url}/demo/awareness`);
  const { page } = tab;
  await page.getByRole('button', { name: 'Bob Builder: Away — Back at 2', exact: true }).first().waitFor();
  await page.getByRole('button', { name: /^Zoë Ångström-Łukasiewicz: In a meeting/ }).first().hover();
  await page.getByRole('group', { name: 'Business card: Zoë Ångström-Łukasiewicz' }).waitFor();
  await H.screenshot(page, 'awareness-demo-dark');
  assert.equal(tab.sockets.length, 1);
  assert.deepEqual(tab.errors, [], 'no CSP violation');
});
