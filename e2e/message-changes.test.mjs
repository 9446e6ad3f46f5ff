// Messages after they are sent, in two real browsers: a read receipt
// shows under what the other person read, an edit and a deletion reach
// the other side at once, and a reaction shows on both.

import assert from 'node:assert/strict';
import * as H from './harness.mjs';

const USERS = [
  { name: 'alice', displayName: 'Alice Archer', mail: 'alice@example.com' },
  { name: 'bob', displayName: 'Bob Baker', mail: 'bob@example.com' },
];


const { shared, scenario, open } = H.suite(USERS, 'changes-');

scenario('a read receipt shows, an edit and a delete reach the other side, reactions show on both', async () => {
  const alice = await open('alice');
  const bob = await open('bob');
  await H.signIn(alice.page, shared.server.url, 'alice');
  await H.signIn(bob.page, shared.server.url, 'bob');
  await H.addContact(alice.page, 'bob', 'Bob Baker', 'Team');
  await H.addContact(bob.page, 'alice', 'Alice Archer', 'Team');

  const openChat = async (/** @type {import('playwright-core').Page} */ page, /** @type {string} */ peer) => {
    await page.locator(`.contact-list li[data-contact="${peer}"] .row-main`).click();
    return page.locator(`.chat[data-conversation="im:${peer}"]`);
  };
  const aliceChat = await openChat(alice.page, 'bob');
  const input = aliceChat.getByLabel('Message Bob Baker');
  await input.fill('Meet at 3?');
  await input.press('Enter');
  await input.fill('In room 4');
  await input.press('Enter');
  // Bubbles by message id: an edit changes their text.
  const byText = async (/** @type {import('playwright-core').Locator} */ chat, /** @type {string} */ text) => {
    const bubble = chat.locator('.bubble[data-message]', { hasText: text });
    await bubble.locator('time').waitFor();
    return chat.locator(`.bubble[data-message="${await bubble.getAttribute('data-message')}"]`);
  };
  const first = await byText(aliceChat, 'Meet at 3?');
  const second = await byText(aliceChat, 'In room 4');

  // Bob reads: "Seen" shows under Alice's last message, only there.
  const bobChat = await openChat(bob.page, 'alice');
  await bobChat.locator('.bubble', { hasText: 'In room 4' }).waitFor();
  await second.locator('.receipt', { hasText: 'Seen' }).waitFor();
  assert.equal(await aliceChat.locator('.receipt').count(), 1);
  assert.equal(await second.locator('.receipt').getAttribute('title'), 'Seen by Bob Baker');

  // Alice edits her first message from the keyboard.
  await first.hover();
  await first.getByRole('button', { name: 'Edit message' }).click();
  const editor = first.getByRole('textbox', { name: 'Edit message' });
  assert.equal(await editor.evaluate((e) => e === document.activeElement), true, 'the editor has focus');
  await editor.fill('Meet at 4?');
  await editor.press('Enter');
  await first.locator('.edited', { hasText: 'edited' }).waitFor();
  const bobFirst = bobChat.locator('.bubble', { hasText: 'Meet at 4?' });
  await bobFirst.locator('.edited').waitFor();
  assert.equal(await bobChat.locator('.bubble', { hasText: 'Meet at 3?' }).count(), 0);

  // Bob reacts; Alice sees it, and the button says who.
  await bobFirst.hover();
  await bobFirst.getByRole('button', { name: 'React' }).click();
  await bob.page.getByRole('menuitem', { name: /Thumbs up/ }).click();
  const aliceReaction = aliceChat.locator('.bubble', { hasText: 'Meet at 4?' }).locator('.reaction');
  await aliceReaction.waitFor();
  assert.equal(await aliceReaction.getAttribute('aria-label'), 'Thumbs up: 1, from Bob Baker');
  assert.equal(await bobFirst.locator('.reaction').getAttribute('aria-pressed'), 'true');
  await H.screenshot(alice.page, 'desktop-message-changes');

  // Alice deletes the second message; both sides say so, the text is gone.
  await second.hover();
  await second.getByRole('button', { name: 'Delete message' }).click();
  const confirm = alice.page.getByRole('dialog', { name: 'Delete this message?' });
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await aliceChat.locator('.text.deleted', { hasText: 'This message was deleted' }).waitFor();
  await bobChat.locator('.text.deleted', { hasText: 'This message was deleted' }).waitFor();
  assert.equal(await bobChat.locator('.bubble', { hasText: 'In room 4' }).count(), 0);
  await H.screenshot(bob.page, 'desktop-message-deleted');

  // After a reload the history keeps all of it.
  await bob.page.reload();
  await H.appReady(bob.page);
  const reloaded = await openChat(bob.page, 'alice');
  await reloaded.locator('.bubble', { hasText: 'Meet at 4?' }).locator('.reaction').waitFor();
  await reloaded.locator('.text.deleted').waitFor();

  // Bob turns read receipts off from his menu; the server keeps it.
  await bob.page.locator('.user-button').click();
  await bob.page.getByRole('menuitem', { name: 'Turn off read receipts' }).click();
  await bob.page.getByText('Read receipts are off').waitFor();
  const { token } = await H.apiLogin(shared.server.url, 'bob');
  const settings = await H.apiCall(shared.server.url, token, 'GET', '/api/v1/settings');
  assert.equal(settings.read_receipts, false);
  assert.deepEqual(H.realErrors(alice.errors), []);
  assert.deepEqual(H.realErrors(bob.errors), []);
});
