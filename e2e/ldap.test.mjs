// End-to-end tests of the browser client on an LDAP directory: the fixture
// slapd of simul-testkit, where user ids are DNs (`uid=bob,ou=people,...`,
// with `=` and `,` in them). Run with `node --test e2e/` after
// `cargo build -p simul -p simul-testkit`.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import * as H from './harness.mjs';

const ALICE_DN = 'uid=alice,ou=people,dc=renovations,dc=com';
const BOB_DN = 'uid=bob,ou=people,dc=renovations,dc=com';

/** @type {H.Slapd} */
let slapd;
/** @type {H.Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** Holds simul.toml and the bind password. */
let configDir = '';
before(async () => {
  slapd = await H.startSlapd();
  configDir = await mkdtemp(path.join(tmpdir(), 'simul-e2e-ldap-'));
  const config = await H.writeLdapConfig(configDir, slapd);
  server = await H.startServer([], { config });
  browser = await H.launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await slapd?.stop();
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

const { scenario, open, opened, pages } = H.testBook(() => browser, 'ldap-');
const { realErrors } = H;

/**
 * A CSS attribute selector's value: DNs have `=` and `,`, fine inside
 * quotes; `"` and `\` would not be.
 * @param {string} value
 */
const quoted = (value) => `"${value.replace(/["\\]/g, '\\$&')}"`;

/** @param {import('playwright-core').Page} page @param {string} id */
const row = (page, id) => page.locator(`.contact-list li[data-contact=${quoted(id)}]`);

const { addContact } = H;

scenario('LDAP people sign in by uid and by mail, find each other, chat and see business cards', async () => {
  const alice = await open('alice');
  const bob = await open('bob');
  await H.signIn(alice.page, server.url, 'alice', 'alice-secret');
  await H.signIn(bob.page, server.url, 'bob@renovations.com', 'bob-secret');
  await alice.page.locator('.user-name', { hasText: 'Alice Allen' }).waitFor();
  await bob.page.locator('.user-name', { hasText: 'Bob Builder' }).waitFor();

  // Found by his title and surname; the row's id is his DN.
  await addContact(alice.page, 'Builder', 'Bob Builder', 'Site');
  // The confirmation would cover the chat header (and its business card button) for seconds.
  const added = alice.page.locator('.toast', { hasText: 'Bob Builder added to Site' });
  await added.getByRole('button', { name: 'Dismiss' }).click();
  await added.waitFor({ state: 'detached' });
  const bobRow = alice.page.locator('.contact-list li', { hasText: 'Bob Builder' });
  await bobRow.locator('.status-text', { hasText: 'Available' }).waitFor();
  assert.equal(await bobRow.getAttribute('data-contact'), BOB_DN);
  assert.equal(await row(alice.page, BOB_DN).count(), 1);
  assert.match(await alice.page.locator('[data-group="Site"] .group-count').innerText(), /1\/1/);
  await addContact(bob.page, 'alice@renovations', 'Alice Allen', 'Contacts');
  await row(bob.page, ALICE_DN).locator('.status-text', { hasText: 'Available' }).waitFor();

  await bobRow.locator('.row-main').click();
  const aliceChat = alice.page.locator(`.chat[data-conversation=${quoted(`im:${BOB_DN}`)}]`);
  const aliceInput = aliceChat.getByLabel('Message Bob Builder');
  await aliceInput.fill('Hello from LDAP');
  await aliceInput.press('Enter');
  await aliceChat.locator('.msg-group.mine .bubble', { hasText: 'Hello from LDAP' }).waitFor();

  const badge = row(bob.page, ALICE_DN).locator('.badge');
  await badge.waitFor();
  assert.equal(await badge.getAttribute('data-unread'), '1');
  await row(bob.page, ALICE_DN).locator('.row-main').click();
  const bobChat = bob.page.locator(`.chat[data-conversation=${quoted(`im:${ALICE_DN}`)}]`);
  await bobChat.locator('.msg-group.theirs .bubble', { hasText: 'Hello from LDAP' }).waitFor();
  await bobChat.getByLabel('Message Alice Allen').fill('Hi Alice, on site at 8');
  await bobChat.getByLabel('Message Alice Allen').press('Enter');
  await aliceChat.locator('.msg-group.theirs .bubble', { hasText: 'Hi Alice, on site at 8' }).waitFor();
  assert.equal(await aliceChat.locator('.bubble').count(), 2);
  assert.equal(await bobChat.locator('.bubble').count(), 2);
  await H.screenshot(alice.page, 'ldap-chat');

  await aliceChat.getByRole('button', { name: 'Business card of Bob Builder' }).click();
  const card = alice.page.getByRole('dialog', { name: 'Business card' });
  await card.locator('.card-name', { hasText: 'Bob Builder' }).waitFor();
  await card.locator('.card-title', { hasText: 'Builder' }).waitFor();
  await card.locator('.card-row', { hasText: 'Cambridge' }).waitFor();
  await card.getByRole('link', { name: 'bob@renovations.com' }).waitFor();
  await card.locator('.card-row', { hasText: BOB_DN }).waitFor();
  await H.screenshot(alice.page, 'ldap-business-card');
  await alice.page.keyboard.press('Escape');
  await card.waitFor({ state: 'detached' });

  assert.deepEqual(await H.accessibilityProblems(alice.page), []);
  assert.deepEqual(realErrors(alice.errors), []);
  assert.deepEqual(realErrors(bob.errors), []);
});

scenario('someone disabled in LDAP cannot sign in', async () => {
  const dave = await open('dave');
  await dave.page.goto(server.url);
  await dave.page.getByLabel('User name').fill('dave');
  await dave.page.getByLabel('Password', { exact: true }).fill('dave-secret');
  await dave.page.getByRole('button', { name: 'Sign in' }).click();
  await dave.page.getByRole('alert').filter({ hasText: 'Wrong user name or password.' }).waitFor();
  assert.equal(await dave.page.locator('.shell').count(), 0, 'no app for a disabled account');
  assert.deepEqual(realErrors(dave.errors), []);
  await dave.context.close();
  pages.delete('dave');
});

scenario('someone disabled in LDAP while signed in is signed out on SIGHUP', async () => {
  const alice = opened('alice');
  const bob = opened('bob');
  const bobRow = row(alice.page, BOB_DN);
  await bobRow.locator('.status-text', { hasText: 'Available' }).waitFor();
  await H.appReady(bob.page);

  await slapd.modify(`dn: ${BOB_DN}\nchangetype: modify\nadd: employeeType\nemployeeType: disabled\n`);
  server.signal('SIGHUP');

  // The server closes his socket; the client's reconnect is refused and
  // GET /api/v1/me says why.
  await bob.page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 15_000 });
  await bob.page.locator('.login-notice', { hasText: 'You were signed out: this account is disabled.' }).waitFor();
  assert.equal(await bob.page.locator('.shell').count(), 0);
  assert.equal(await bob.page.locator('.toast').count(), 0, 'the signed-in session\'s toasts went with it');
  await bobRow.locator('.status-text', { hasText: 'Offline' }).waitFor();
  assert.equal(await bobRow.getAttribute('data-status'), 'offline');
  await H.screenshot(bob.page, 'ldap-signed-out');

  // And he cannot sign in again.
  await bob.page.getByLabel('User name').fill('bob');
  await bob.page.getByLabel('Password', { exact: true }).fill('bob-secret');
  await bob.page.getByRole('button', { name: 'Sign in' }).click();
  await bob.page.getByRole('alert').filter({ hasText: 'Wrong user name or password.' }).waitFor();

  assert.deepEqual(realErrors(alice.errors), []);
  // The refused WebSocket upgrade and GET /api/v1/me are 403s.
  assert.deepEqual(realErrors(bob.errors).filter((e) => !/403/.test(e)), []);
});
