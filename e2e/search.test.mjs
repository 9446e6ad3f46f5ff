// Message search in the browser client: a word said long ago (hundreds of
// messages back) is found from the sidebar's search field, and choosing
// the result opens the conversation at that message, loaded back to it,
// in view and highlighted, with what was said around it.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import * as H from './harness.mjs';

const USERS = [
  { name: 'alice', displayName: 'Alice Archer' },
  { name: 'bob', displayName: 'Bob Baker' },
  { name: 'carol', displayName: 'Carol Clark' },
];

/** Messages after the one searched for: more than two history pages. */
const LATER = 450;

/** @type {H.Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
before(async () => {
  // Hundreds of messages in a row: over the default rate limit.
  const env = { SIMUL_SERVER__MESSAGES_PER_MINUTE: '100000', SIMUL_SERVER__MESSAGE_BURST: '10000' };
  server = await H.startServer(USERS, { env });
  browser = await H.launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const { scenario, open } = H.testBook(() => browser, 'search-');

scenario('search finds a word in an old message and opens the conversation there', async () => {
  const bob = await H.apiLogin(server.url, 'bob');
  const alice = await H.apiLogin(server.url, 'alice');
  await H.apiCall(server.url, bob.token, 'POST', '/api/v1/im/alice', { text: 'Before the one we look for' });
  const old = await H.apiCall(server.url, bob.token, 'POST', '/api/v1/im/alice',
    { text: 'The pelican budget is due on Friday' });
  await H.apiCall(server.url, alice.token, 'POST', '/api/v1/im/bob', { text: 'Right after it' });
  for (let n = 0; n < LATER; n += 1) {
    const [from, to] = n % 2 ? [alice, 'bob'] : [bob, 'alice'];
    await H.apiCall(server.url, from.token, 'POST', `/api/v1/im/${to}`, { text: `later message ${n}` });
  }
  // Carol's own words never show Alice's.
  const carol = await H.apiLogin(server.url, 'carol');
  assert.deepEqual(await H.apiCall(server.url, carol.token, 'GET', '/api/v1/search?q=pelican'), []);

  const { page, errors } = await open('alice');
  await H.signIn(page, server.url, 'alice');
  const field = page.getByRole('searchbox', { name: 'Search messages' });
  await field.focus();
  // Typed as a person types: the last word half done.
  await field.pressSequentially('pelican bud');
  const results = page.getByRole('list', { name: 'Messages found' });
  const hit = results.getByRole('button').filter({ hasText: 'pelican' });
  await hit.waitFor();
  assert.equal(await results.getByRole('button').count(), 1);
  assert.match(await hit.innerText(), /Bob Baker/);
  assert.doesNotMatch(await hit.innerText(), /with Bob Baker/, 'his own 1:1 message needs no "with him"');
  assert.deepEqual(await hit.locator('mark').allInnerTexts(), ['pelican', 'bud']);
  await H.screenshot(page, 'desktop-search-results');

  // Keyboard: down into the results, Enter opens.
  await field.press('ArrowDown');
  await page.keyboard.press('Enter');
  const chat = page.locator('.chat[data-conversation="im:bob"]');
  const found = chat.locator(`.bubble[data-message="${old.id}"]`);
  await found.waitFor();
  await H.eventually(async () => found.evaluate((el) => el.classList.contains('found')
    && document.activeElement === el), 'the found message highlighted and focused');
  // In view: within the timeline's visible part.
  await H.eventually(async () => found.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const view = /** @type {HTMLElement} */ (el.closest('.timeline')).getBoundingClientRect();
    return box.top >= view.top && box.bottom <= view.bottom;
  }), 'the found message scrolled into view');
  assert.match(await found.innerText(), /The pelican budget is due on Friday/);
  // What was said around it is there, in order, without a gap.
  const texts = await chat.locator('.bubble .text').allInnerTexts();
  const at = texts.indexOf('The pelican budget is due on Friday');
  assert.equal(texts[at - 1], 'Before the one we look for');
  assert.equal(texts[at + 1], 'Right after it');
  assert.equal(texts[at + 2], 'later message 0');
  assert.equal(texts.at(-1), `later message ${LATER - 1}`);
  await H.screenshot(page, 'desktop-search-opened');

  // Escape clears the search.
  await field.focus();
  await field.press('Escape');
  assert.equal(await field.inputValue(), '');
  assert.equal(await results.getByRole('button').count(), 0);
  assert.deepEqual(H.realErrors(errors), []);
});

scenario('punctuation alone is no search, and says so without an error', async () => {
  const { page, errors } = await open('carol');
  await H.signIn(page, server.url, 'carol');
  const field = page.getByRole('searchbox', { name: 'Search messages' });
  await field.fill('"*" OR NEAR');
  await page.locator('#message-search-status', { hasText: /No messages match/ }).waitFor();
  await field.fill('"');
  await field.press('Enter');
  assert.equal(await page.locator('.search-panel').isHidden(), true);
  assert.deepEqual(H.realErrors(errors), []);
});

scenario('a word said in a group chat opens the chat at that message', async () => {
  const bob = await H.apiLogin(server.url, 'bob');
  const alice = await H.apiLogin(server.url, 'alice');
  const { id } = await H.apiCall(server.url, bob.token, 'POST', '/api/v1/nway', { invite: ['alice'], topic: 'Roadmap' });
  await H.apiCall(server.url, alice.token, 'POST', `/api/v1/nway/${id}/join`, {});
  const old = await H.apiCall(server.url, bob.token, 'POST', `/api/v1/nway/${id}/messages`,
    { text: 'The kiwi milestone slipped a week' });
  for (let n = 0; n < 250; n += 1) {
    const from = n % 2 ? alice : bob;
    await H.apiCall(server.url, from.token, 'POST', `/api/v1/nway/${id}/messages`, { text: `roadmap note ${n}` });
  }
  const { page, errors } = await open('alice-group');
  await H.signIn(page, server.url, 'alice');
  await page.getByRole('searchbox', { name: 'Search messages' }).fill('kiwi');
  const hit = page.getByRole('list', { name: 'Messages found' }).getByRole('button').filter({ hasText: 'kiwi' });
  await hit.waitFor();
  assert.match(await hit.innerText(), /in Roadmap/);
  await hit.click();
  const found = page.locator(`.chat[data-conversation="nway:${id}"] .bubble[data-message="${old.id}"]`);
  await found.waitFor();
  await H.eventually(async () => found.evaluate((el) => el.classList.contains('found')
    && document.activeElement === el), 'the found message highlighted and focused');
  assert.deepEqual(H.realErrors(errors), []);
});
