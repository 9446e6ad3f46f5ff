// End-to-end tests at the sizes real communities have: a contact list of
// 2,000 people in the browser client, a conversation of 1,000 messages,
// and an intranet page with 1,000 names under awareness.js, on the fixture slapd with a crowd of 2,000
// more people (`simul-test-slapd --crowd 2000`). Run with `node --test
// e2e/` after `cargo build -p simul -p simul-testkit`.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import * as H from './harness.mjs';

const { setStatus } = H;

const CROWD = 2000;
const BOB_DN = 'uid=bob,ou=people,dc=renovations,dc=com';
/** @param {number} i */
const personDn = (i) => `uid=person${String(i).padStart(6, '0')},ou=people,dc=renovations,dc=com`;

/** @type {H.Slapd} */
let slapd;
/** @type {H.Server} */
let server;
/** @type {Awaited<ReturnType<typeof H.startStaticServer>>} */
let intranet;
/** @type {import('playwright-core').Browser} */
let browser;
let configDir = '';
/** @type {Record<string, {type: string, body: string}>} */
const files = {};

before(async () => {
  // A conversation of 1,000 messages is written faster than people type.
  const serverToml = 'message_burst = 2000';
  ({ intranet, slapd, configDir, server } = await H.startWithOtherOrigin(files, { crowd: CROWD, prefix: 'simul-e2e-scale-', serverToml }));
  browser = await H.launchBrowser();
});

after(() => H.stopWithOtherOrigin({ browser, intranet, server, slapd, configDir }));

const { scenario, open } = H.testBook(() => browser, 'scale-');

/**
 * Signs `uid` in over the API (password `<uid>-secret`).
 * @param {string} uid
 */
async function apiLogin(uid) {
  const response = await fetch(`${server.url}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user: uid, password: `${uid}-secret` }),
  });
  assert.equal(response.status, 200, `login of ${uid}`);
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('LtpaToken2=')) ?? '';
  return cookie.slice('LtpaToken2='.length).split(';')[0];
}

/**
 * A page signed in as `uid`, counting its WebSockets.
 * @param {string} uid
 */
async function signedIn(uid) {
  const p = await open(uid);
  /** @type {string[]} */
  const sockets = [];
  p.page.on('websocket', (ws) => sockets.push(ws.url()));
  await H.signIn(p.page, server.url, uid, `${uid}-secret`);
  return { ...p, sockets };
}


scenario('a contact list of 2,000 people shows their statuses and follows changes', async () => {
  // Alice's list, as large as a list may be: bob and 1,999 of the crowd,
  // in four groups of 500.
  const token = await apiLogin('alice');
  const contacts = [BOB_DN, ...Array.from({ length: CROWD - 1 }, (_, i) => personDn(i))];
  const groups = [0, 1, 2, 3].map((g) => ({ name: `Team ${g + 1}`, contacts: contacts.slice(g * 500, g * 500 + 500) }));
  const put = await fetch(`${server.url}/api/v1/contacts`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ groups }),
  });
  assert.equal(put.status, 200, await put.text());

  const bob = await signedIn('bob');
  const person = await signedIn('person001998');
  const alice = await signedIn('alice');
  const row = (/** @type {string} */ id) => alice.page.locator(`.contact-list li[data-contact="${id}"]`);
  await row(BOB_DN).locator('.status-text', { hasText: 'Available' }).waitFor();
  await row(personDn(1998)).locator('.status-text', { hasText: 'Available' }).waitFor();
  await row(personDn(0)).locator('.status-text', { hasText: 'Offline' }).waitFor();
  await row(personDn(0)).locator('.row-name', { hasText: 'Person 000000' }).waitFor();
  assert.equal(await alice.page.locator('.contact-list li[data-contact]').count(), CROWD);

  // Live changes arrive, one by one, as for a short list.
  await setStatus(bob.page, 'dnd', 'On the roof');
  await row(BOB_DN).locator('.status-text', { hasText: 'Do not disturb' }).waitFor();
  await person.context.close();
  await row(personDn(1998)).locator('.status-text', { hasText: 'Offline' }).waitFor();
  const late = await signedIn('person000500');
  await row(personDn(500)).locator('.status-text', { hasText: 'Available' }).waitFor();
  await H.screenshot(alice.page, 'scale-2000-contacts');

  // The session was never cut off: one WebSocket all along.
  await H.appReady(alice.page);
  assert.equal(alice.sockets.length, 1, `WebSockets opened: ${alice.sockets.length}`);
  assert.deepEqual(H.realErrors(alice.errors), []);
  await late.context.close();
});

scenario('a conversation of 1,000 messages scrolls back to its first, page by page, without a jump', async () => {
  const alice = await apiLogin('alice');
  for (let n = 1; n <= 1000; n += 1) {
    const sent = await fetch(`${server.url}/api/v1/im/zoe`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: `m${n}` }),
    });
    assert.equal(sent.status, 200, await sent.text());
  }
  const zoe = await signedIn('zoe');
  await zoe.page.goto(`${server.url}/stwebapi/chat?userId=alice`);
  await H.appReady(zoe.page);
  const chat = zoe.page.locator('section.chat');
  const bubbles = chat.locator('.bubble');
  await chat.locator('.bubble .text').filter({ hasText: /^m1000$/ }).waitFor();
  assert.equal(await bubbles.count(), 200, 'the newest page first');

  const timeline = chat.locator('.timeline');
  /** Where message `text` is on screen, after scrolling to the top first when `toTop`. */
  const placeOf = (/** @type {string} */ text, toTop = false) => timeline.evaluate((el, [wanted, top]) => {
    if (top) el.scrollTop = 0;
    const found = [...el.querySelectorAll('.bubble .text')].find((t) => t.textContent === wanted);
    return found ? found.getBoundingClientRect().y : NaN;
  }, [text, toTop]);
  for (let shown = 200; shown < 1000; shown += 200) {
    // What is at the top of the loaded messages stays where it is on
    // screen while the page before it is put in above. (Measured in the
    // same step as the scroll: loading starts as soon as the top shows.)
    const top = `m${1001 - shown}`;
    const before = await placeOf(top, true);
    await H.eventually(async () => (await bubbles.count()) === shown + 200, `${shown + 200} messages shown`);
    await chat.locator('.intro.earlier [aria-busy]').waitFor({ state: 'detached' });
    const after = await placeOf(top);
    assert.ok(Math.abs(after - before) < 2, `no jump: ${top} at ${before}, then ${after}`);
  }
  // A full page may have been the last: the top asks once more, and
  // learns it is the beginning.
  await placeOf('m1', true);
  await chat.locator('.intro-text', { hasText: 'This is the beginning of your history' }).waitFor();
  assert.equal(await bubbles.count(), 1000);
  assert.equal(await bubbles.first().locator('.text').innerText(), 'm1');
  await H.screenshot(zoe.page, 'scale-scroll-back');
  assert.deepEqual(H.realErrors(zoe.errors), []);
});

scenario('an intranet page with 1,000 names under awareness.js keeps its widget', async () => {
  const names = Array.from({ length: 1000 }, (_, i) => `<li data-simul-user="person${String(i).padStart(6, '0')}">Person ${i}</li>`);
  files['/directory.html'] = {
    type: 'text/html; charset=utf-8',
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Directory</title></head>
<body><h1>Everyone</h1><ul>${names.join('')}</ul>
<script src="${server.url}/awareness.js"></script></body></html>`,
  };
  const someone = await signedIn('person000007');
  await setStatus(someone.page, 'away', 'Back at 2');
  const reader = await signedIn('zoe');
  const page = await reader.context.newPage();
  /** @type {string[]} */
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(`${intranet.url}/directory.html`);
  const labels = () => page.evaluate(() => [...document.querySelectorAll('[data-simul-widget]')]
    .map((host) => host.shadowRoot?.querySelector('button.icon')?.getAttribute('aria-label') ?? ''));
  await H.eventually(async () => (await labels()).filter((l) => l.endsWith(': Offline')).length === 999, '999 people offline', 30_000);
  assert.ok((await labels()).includes('Person 000007: Away — Back at 2'));

  await setStatus(someone.page, 'dnd', 'Deep work');
  await page.getByRole('button', { name: 'Person 000007: Do not disturb — Deep work', exact: true }).waitFor();
  assert.equal(sockets.length, 1, `WebSockets opened: ${sockets.join(', ')}`);
  await H.screenshot(page, 'scale-1000-names');
});
