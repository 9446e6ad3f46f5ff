// End-to-end tests of the browser client: real server, real headless
// Chromium, several users at once. Run with `node --test e2e/` after
// `cargo build -p simul`.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as H from './harness.mjs';

const USERS = [
  { name: 'alice', displayName: 'Alice Archer', mail: 'alice@example.com' },
  { name: 'bob', displayName: 'Bob Baker', mail: 'bob@example.com' },
  { name: 'carol', displayName: 'Carol Clark', mail: 'carol@example.com' },
  { name: 'mallory', displayName: 'Mallory Moss', mail: 'mallory@example.com' },
  // Signs in only to find what was sent while away.
  { name: 'frank', displayName: 'Frank Fischer', mail: 'frank@example.com' },
];


const { shared, scenario, open, opened, pages } = H.suite(USERS, '');
const { realErrors, addContact } = H;

/** @param {import('playwright-core').Page} page @param {string} id */
const row = (page, id) => page.locator(`.contact-list li[data-contact="${id}"]`);

scenario('a wrong password shows an error, and too many attempts say to wait', async () => {
  const { page, errors } = await open('mallory');
  await page.goto(shared.server.url);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await H.screenshot(page, 'desktop-login');
  await page.getByLabel('User name').fill('mallory');
  await page.getByLabel('Password', { exact: true }).fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await alert.filter({ hasText: 'Wrong user name or password.' }).waitFor();
  assert.equal(await page.locator('.shell').count(), 0, 'no app without a valid password');
  await H.screenshot(page, 'desktop-login-error');

  // The server allows 10 attempts a minute per account.
  await H.eventually(async () => {
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    return /Too many sign-in attempts\. Wait \d+ seconds? and try again\./.test(await alert.innerText());
  }, 'the rate-limit message', 20_000);
  assert.deepEqual(realErrors(errors).filter((e) => !/status of 429/.test(e)), []);
});

scenario('two users sign in, add each other from the directory and see live status', async () => {
  const alice = await open('alice');
  const bob = await open('bob');
  await H.signIn(alice.page, shared.server.url, 'alice');
  await H.signIn(bob.page, shared.server.url, 'bob');
  await alice.page.getByRole('heading', { name: 'No conversation open' }).waitFor();
  await H.screenshot(alice.page, 'desktop-empty');

  await addContact(alice.page, 'bob', 'Bob Baker', 'Team', 'desktop-add-contact');
  await addContact(bob.page, 'alice@example', 'Alice Archer', 'Contacts');

  const bobRow = row(alice.page, 'bob');
  await bobRow.locator('.row-name', { hasText: 'Bob Baker' }).waitFor();
  await bobRow.locator('.status-text', { hasText: 'Available' }).waitFor();
  await row(bob.page, 'alice').locator('.status-text', { hasText: 'Available' }).waitFor();
  assert.match(await alice.page.locator('[data-group="Team"] .group-count').innerText(), /1\/1/);

  // Bob: Do not disturb, with a message; Alice sees both within seconds.
  await bob.page.locator('.status-button').click();
  const panel = bob.page.getByRole('dialog', { name: 'Set your status' });
  await panel.getByLabel('Status message', { exact: true }).fill('In a call until 3');
  await H.screenshot(bob.page, 'desktop-status-menu');
  await panel.getByRole('button', { name: /Do not disturb/ }).click();
  await bob.page.locator('.status-button', { hasText: 'Do not disturb' }).waitFor();
  await bobRow.locator('.status-text', { hasText: 'Do not disturb' }).waitFor({ timeout: 5000 });
  await bobRow.locator('.status-message', { hasText: 'In a call until 3' }).waitFor({ timeout: 5000 });
  assert.equal(await bobRow.getAttribute('data-status'), 'dnd');

  // Someone else in the directory, to make the list look lived-in.
  await addContact(alice.page, 'mallory', 'Mallory Moss', 'Team');
  await row(alice.page, 'mallory').locator('.status-text', { hasText: 'Offline' }).waitFor();
  assert.match(await alice.page.locator('[data-group="Team"] .group-count').innerText(), /1\/2/);
  await H.screenshot(alice.page, 'desktop-contacts');
  assert.deepEqual(await H.accessibilityProblems(alice.page), []);
  assert.deepEqual(realErrors(alice.errors), []);
  assert.deepEqual(realErrors(bob.errors), []);
});

scenario('they chat both ways, with typing indicators and unread badges', async () => {
  const alice = opened('alice');
  const bob = opened('bob');

  await row(alice.page, 'bob').locator('.row-main').click();
  const aliceChat = alice.page.locator('.chat[data-conversation="im:bob"]');
  const aliceInput = aliceChat.getByLabel('Message Bob Baker');
  await aliceInput.pressSequentially('Hi Bob, lunch', { delay: 20 });
  // Bob has no chat open: the contact row says Alice is typing.
  await row(bob.page, 'alice').locator('.typing-note', { hasText: 'typing…' }).waitFor();
  await aliceInput.pressSequentially(' at noon?');
  await aliceInput.press('Enter');
  await aliceChat.locator('.msg-group.mine .bubble', { hasText: 'Hi Bob, lunch at noon?' }).waitFor();
  assert.equal(await aliceInput.inputValue(), '', 'the composer is empty after sending');

  // Unread on Bob's side: badge on the contact and in the title.
  const badge = row(bob.page, 'alice').locator('.badge');
  await badge.waitFor();
  assert.equal(await badge.getAttribute('data-unread'), '1');
  await H.eventually(async () => (await bob.page.title()) === '(1) Simul', 'the unread count in the title');

  await row(bob.page, 'alice').locator('.row-main').click();
  const bobChat = bob.page.locator('.chat[data-conversation="im:alice"]');
  await bobChat.locator('.msg-group.theirs .bubble', { hasText: 'Hi Bob, lunch at noon?' }).waitFor();
  // Each message takes its own direction (right-to-left text reads right).
  assert.equal(await bobChat.locator('.bubble .text', { hasText: 'Hi Bob, lunch at noon?' }).getAttribute('dir'), 'auto');
  assert.equal(await bobChat.locator('textarea.composer-input').getAttribute('dir'), 'auto');
  await badge.waitFor({ state: 'detached' });
  await H.eventually(async () => (await bob.page.title()) === 'Simul', 'the title without unread count');

  // Bob answers; Alice sees him typing in the open chat.
  const bobInput = bobChat.getByLabel('Message Alice Archer');
  await bobInput.pressSequentially('Sounds good', { delay: 20 });
  await aliceChat.locator('.typing-line', { hasText: 'Bob Baker is typing…' }).waitFor();
  await bobInput.press('Shift+Enter');
  await bobInput.pressSequentially('see you there');
  await bobInput.press('Enter');
  const reply = aliceChat.locator('.msg-group.theirs .bubble .text', { hasText: 'Sounds good' });
  await reply.waitFor();
  assert.equal(await reply.innerText(), 'Sounds good\nsee you there', 'Shift+Enter makes a new line');
  await aliceChat.locator('.typing-line', { hasText: 'is typing' }).waitFor({ state: 'detached' });
  await aliceInput.fill('Great, à tout à l’heure!');
  await aliceInput.press('Enter');
  await bobChat.locator('.bubble', { hasText: 'Great, à tout à l’heure!' }).waitFor();
  // Every message once, on both sides (no echo duplicates).
  assert.equal(await aliceChat.locator('.bubble').count(), 3);
  assert.equal(await bobChat.locator('.bubble').count(), 3);
  await H.screenshot(alice.page, 'desktop-chat');
  assert.deepEqual(await H.accessibilityProblems(alice.page), []);

  // Keyboard only: Ctrl+K, arrow keys through the list, Enter opens the chat.
  await alice.page.keyboard.press('Control+K');
  assert.equal(await alice.page.evaluate(() => document.activeElement?.id), 'contact-filter');
  await alice.page.keyboard.press('ArrowDown');
  await alice.page.keyboard.press('ArrowDown');
  assert.match(await alice.page.evaluate(() => document.activeElement?.textContent ?? ''), /Bob Baker/);
  await alice.page.keyboard.press('Enter');
  assert.equal(await alice.page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.id), 'composer-im-bob');

  await aliceChat.getByRole('button', { name: 'Business card of Bob Baker' }).click();
  const card = alice.page.getByRole('dialog', { name: 'Business card' });
  await card.locator('.card-name', { hasText: 'Bob Baker' }).waitFor();
  await card.getByRole('link', { name: 'bob@example.com' }).waitFor();
  await H.screenshot(alice.page, 'desktop-business-card');
  await alice.page.keyboard.press('Escape');
  await card.waitFor({ state: 'detached' });
});

scenario('the history is there after a reload, and group changes are kept', async () => {
  const alice = opened('alice');
  await alice.page.reload();
  await H.appReady(alice.page);
  await row(alice.page, 'bob').locator('.row-main').click();
  const chat = alice.page.locator('.chat[data-conversation="im:bob"]');
  await chat.locator('.bubble', { hasText: 'Hi Bob, lunch at noon?' }).waitFor();
  await chat.locator('.bubble', { hasText: 'see you there' }).waitFor();
  await chat.locator('.bubble', { hasText: 'Great, à tout à l’heure!' }).waitFor();
  assert.equal(await chat.locator('.bubble').count(), 3);

  // Rename the group and remove a contact; both survive a reload.
  await alice.page.getByRole('button', { name: 'Options for group Team' }).click();
  await alice.page.getByRole('menuitem', { name: 'Rename group…' }).click();
  const rename = alice.page.getByRole('dialog', { name: 'Rename group' });
  await rename.getByLabel('Group name').fill('Core team');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await alice.page.locator('[data-group="Core team"]').waitFor();
  // A contact renamed (a Sametime buddy alias) shows by that name.
  await row(alice.page, 'bob').hover();
  await alice.page.getByRole('button', { name: 'Options for Bob Baker' }).click();
  await alice.page.getByRole('menuitem', { name: 'Rename…' }).click();
  const alias = alice.page.getByRole('dialog', { name: 'Rename Bob Baker' });
  await alias.getByLabel('Name').fill('Bobby from lunch');
  await H.screenshot(alice.page, 'desktop-rename-contact');
  await alias.getByRole('button', { name: 'Rename' }).click();
  await row(alice.page, 'bob').getByText('Bobby from lunch').waitFor();
  await row(alice.page, 'mallory').hover();
  await alice.page.getByRole('button', { name: 'Options for Mallory Moss' }).click();
  // The list shows the change at once; the reload waits for the server to have it.
  const saved = alice.page.waitForResponse((r) => r.url().endsWith('/api/v1/contacts')
    && r.request().method() === 'PUT' && !(r.request().postData() ?? '').includes('mallory'));
  await alice.page.getByRole('menuitem', { name: 'Remove from Core team' }).click();
  await row(alice.page, 'mallory').waitFor({ state: 'detached' });
  await saved;
  await alice.page.reload();
  await H.appReady(alice.page);
  await alice.page.locator('[data-group="Core team"] li[data-contact="bob"]').waitFor();
  await row(alice.page, 'bob').getByText('Bobby from lunch').waitFor();
  assert.equal(await row(alice.page, 'mallory').count(), 0);
  assert.equal(await alice.page.locator('[data-group="Team"]').count(), 0);
  // An empty name goes back to the directory's.
  await row(alice.page, 'bob').hover();
  await alice.page.getByRole('button', { name: 'Options for Bobby from lunch' }).click();
  await alice.page.getByRole('menuitem', { name: 'Rename…' }).click();
  const back = alice.page.getByRole('dialog', { name: 'Rename Bobby from lunch' });
  await back.getByLabel('Name').fill('');
  await back.getByRole('button', { name: 'Rename' }).click();
  await row(alice.page, 'bob').getByText('Bob Baker').waitFor();
});

scenario('markup in a message is shown as text and runs nothing', async () => {
  const alice = opened('alice');
  const bob = opened('bob');
  const attack = '<img src=x onerror=alert(1)>';
  await row(alice.page, 'bob').locator('.row-main').click();
  const chat = alice.page.locator('.chat[data-conversation="im:bob"]');
  await chat.getByLabel('Message Bob Baker').fill(attack);
  await chat.getByLabel('Message Bob Baker').press('Enter');
  const bobChat = bob.page.locator('.chat[data-conversation="im:alice"]');
  const bubble = bobChat.locator('.bubble .text', { hasText: '<img' });
  await bubble.waitFor();
  assert.equal(await bubble.innerText(), attack);
  assert.equal(await bob.page.locator('.messages img').count(), 0);
  // Again from the history, after a reload.
  await bob.page.reload();
  await H.appReady(bob.page);
  await row(bob.page, 'alice').locator('.row-main').click();
  await bobChat.locator('.bubble .text', { hasText: '<img' }).waitFor();
  assert.equal(await bob.page.locator('.messages img').count(), 0);
  assert.equal(await bob.page.evaluate(() => document.querySelectorAll('img[src="x"]').length), 0);
  assert.deepEqual(alice.dialogs, []);
  assert.deepEqual(bob.dialogs, []);
});

scenario('a browser that already has the SSO cookie skips the sign-in page', async () => {
  const { token } = await H.apiLogin(shared.server.url, 'carol');
  const carol = await open('carol');
  await carol.context.addCookies([{ name: 'LtpaToken2', value: token, url: shared.server.url }]);
  /** @type {string[]} */
  const logins = [];
  carol.page.on('request', (r) => {
    if (r.url().includes('/api/v1/login')) logins.push(r.url());
  });
  await carol.page.addInitScript(() => {
    new MutationObserver(() => {
      if (document.getElementById('login-user')) /** @type {any} */ (window).sawLogin = true;
    }).observe(document, { childList: true, subtree: true });
  });
  await carol.page.goto(shared.server.url);
  await H.appReady(carol.page);
  await carol.page.locator('.user-name', { hasText: 'Carol Clark' }).waitFor();
  assert.equal(await carol.page.evaluate(() => /** @type {any} */ (window).sawLogin ?? false), false);
  assert.deepEqual(logins, []);
  assert.deepEqual(realErrors(carol.errors), []);
});

scenario('an n-way chat among three: invite, accept, messages seen by all, participants listed', async () => {
  const alice = opened('alice');
  const bob = opened('bob');
  const carol = opened('carol');

  await alice.page.locator('.sidebar-tools').getByRole('button', { name: 'New group chat' }).click();
  const dialog = alice.page.getByRole('dialog', { name: 'New group chat' });
  await dialog.getByLabel('Topic', { exact: true }).fill('Launch plan');
  await dialog.locator('.pick', { hasText: 'Bob Baker' }).locator('input').check();
  // Carol is not a contact: the directory finds her.
  await dialog.getByLabel('People', { exact: true }).fill('carol');
  await dialog.locator('.pick', { hasText: 'Carol Clark' }).locator('input:not([disabled])').check();
  await dialog.getByText('2 people selected').waitFor();
  await H.screenshot(alice.page, 'desktop-new-group-chat');
  await dialog.getByRole('button', { name: 'Start group chat' }).click();
  const aliceChat = alice.page.locator('.chat.group-chat');
  await aliceChat.locator('.chat-title', { hasText: 'Launch plan' }).waitFor();

  for (const p of [bob, carol]) {
    const invite = p.page.locator('.toast.invite', { hasText: 'Alice Archer invited you to a group chat' });
    await invite.locator('.toast-body', { hasText: 'Launch plan' }).waitFor();
    await invite.getByRole('button', { name: 'Accept' }).click();
    await p.page.locator('.chat.group-chat .chat-title', { hasText: 'Launch plan' }).waitFor();
  }
  await aliceChat.locator('.participants .people:not(.invited) .person').nth(2).waitFor();

  const carolChat = carol.page.locator('.chat.group-chat');
  await carolChat.getByLabel('Message Launch plan').fill('Kick-off at 10?');
  await carolChat.getByLabel('Message Launch plan').press('Enter');
  for (const p of [alice, bob]) {
    const group = p.page.locator('.chat.group-chat .msg-group.theirs', { hasText: 'Kick-off at 10?' });
    await group.waitFor();
    assert.equal(await group.locator('.sender').innerText(), 'Carol Clark');
  }
  await bob.page.locator('.chat.group-chat').getByLabel('Message Launch plan').fill('Works for me');
  await bob.page.locator('.chat.group-chat').getByLabel('Message Launch plan').press('Enter');
  for (const p of [alice, carol]) {
    await p.page.locator('.chat.group-chat .bubble', { hasText: 'Works for me' }).waitFor();
  }
  for (const p of [alice, bob, carol]) {
    const names = await p.page.locator('.chat.group-chat .participants .people:not(.invited) .person-name').allInnerTexts();
    assert.deepEqual(names.map((n) => n.replace(' (you)', '')).sort(), ['Alice Archer', 'Bob Baker', 'Carol Clark']);
    await p.page.locator('.chat.group-chat .participants [data-person="bob"][data-status="dnd"]').waitFor();
  }
  await H.screenshot(alice.page, 'desktop-nway');
  await alice.page.emulateMedia({ colorScheme: 'dark' });
  await H.screenshot(alice.page, 'desktop-nway-dark');
  await alice.page.emulateMedia({ colorScheme: 'light' });

  // Carol leaves; the others see it.
  await carolChat.getByRole('button', { name: 'Leave' }).click();
  await carol.page.getByRole('dialog', { name: 'Leave this group chat?' }).getByRole('button', { name: 'Leave chat' }).click();
  await carol.page.getByRole('heading', { name: 'No conversation open' }).waitFor();
  await aliceChat.locator('.system-line', { hasText: 'Carol Clark left.' }).waitFor();
  await H.eventually(async () => (await aliceChat.locator('.participants .people:not(.invited) .person').count()) === 2, 'two participants');

  // Carol signs out: the sign-in page, also after a reload (cookie gone).
  await carol.page.locator('.user-button').click();
  await carol.page.getByRole('menuitem', { name: 'Sign out' }).click();
  await carol.page.getByText('You are signed out.').waitFor();
  await carol.page.reload();
  await carol.page.getByRole('heading', { name: 'Sign in' }).waitFor();
});

scenario('an invitation waits for someone offline: they sign in, accept, read what was said and reply', async () => {
  const alice = opened('alice');
  const carol = opened('carol');
  // Carol signed out at the end of the previous scenario: she is offline.
  await carol.page.getByRole('heading', { name: 'Sign in' }).waitFor();

  await alice.page.locator('.sidebar-tools').getByRole('button', { name: 'New group chat' }).click();
  const dialog = alice.page.getByRole('dialog', { name: 'New group chat' });
  await dialog.getByLabel('Topic', { exact: true }).fill('Welcome aboard');
  await dialog.getByLabel('People', { exact: true }).fill('carol');
  const pick = dialog.locator('.pick', { hasText: 'Carol Clark' });
  await pick.locator('.pick-sub', { hasText: 'Offline' }).waitFor();
  await pick.locator('input').check();
  await dialog.getByText('1 person selected').waitFor();
  await H.screenshot(alice.page, 'desktop-new-group-chat-offline');
  await dialog.getByRole('button', { name: 'Start group chat' }).click();
  const aliceChat = alice.page.locator('.chat.group-chat');
  await aliceChat.locator('.chat-title', { hasText: 'Welcome aboard' }).waitFor();
  await aliceChat.getByLabel('Message Welcome aboard').fill('Hi Carol, the onboarding notes are in the wiki.');
  await aliceChat.getByLabel('Message Welcome aboard').press('Enter');
  await aliceChat.locator('.bubble[data-state="sent"]', { hasText: 'the onboarding notes' }).waitFor();

  // Carol signs in: the invitation sent while she was away is there.
  await H.signIn(carol.page, shared.server.url, 'carol');
  const invite = carol.page.locator('.toast.invite', { hasText: 'invited to a group chat' });
  await invite.locator('.toast-body', { hasText: 'Welcome aboard' }).waitFor();
  assert.match(await invite.locator('.toast-body').innerText(), /with Alice Archer/);
  await carol.page.locator('.invites .invite-row', { hasText: 'Welcome aboard' }).locator('.row-sub', { hasText: 'With Alice Archer' }).waitFor();
  await H.screenshot(carol.page, 'desktop-invite-after-sign-in');
  await invite.getByRole('button', { name: 'Accept' }).click();
  const carolChat = carol.page.locator('.chat.group-chat');
  await carolChat.locator('.chat-title', { hasText: 'Welcome aboard' }).waitFor();
  const earlier = carolChat.locator('.msg-group.theirs', { hasText: 'the onboarding notes are in the wiki' });
  await earlier.waitFor();
  assert.equal(await earlier.locator('.sender').innerText(), 'Alice Archer');
  await carol.page.locator('.invites').waitFor({ state: 'detached' });
  await aliceChat.locator('.system-line', { hasText: 'Carol Clark joined.' }).waitFor();

  await carolChat.getByLabel('Message Welcome aboard').fill('Thanks, reading them now.');
  await carolChat.getByLabel('Message Welcome aboard').press('Enter');
  const reply = aliceChat.locator('.msg-group.theirs', { hasText: 'Thanks, reading them now.' });
  await reply.waitFor();
  assert.equal(await reply.locator('.sender').innerText(), 'Carol Clark');
  assert.equal(await carolChat.locator('.bubble').count(), 2);
  assert.deepEqual(realErrors(carol.errors), []);
  assert.deepEqual(realErrors(alice.errors), []);
});

scenario('on a phone the contact list and the chat are separate views', async () => {
  const alice = opened('alice');
  const phone = await open('bob-phone', H.PHONE);
  await phone.page.goto(shared.server.url);
  await phone.page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await H.screenshot(phone.page, 'phone-login');
  await H.signIn(phone.page, shared.server.url, 'bob');

  const list = phone.page.locator('.sidebar');
  const main = phone.page.locator('.main');
  await row(phone.page, 'alice').waitFor();
  assert.ok(await list.isVisible());
  assert.ok(!(await main.isVisible()), 'no chat pane next to the list');
  await H.screenshot(phone.page, 'phone-contacts');

  await row(phone.page, 'alice').locator('.row-main').tap();
  const chat = phone.page.locator('.chat[data-conversation="im:alice"]');
  await chat.locator('.bubble', { hasText: 'Hi Bob, lunch at noon?' }).waitFor();
  assert.ok(!(await list.isVisible()), 'the list is hidden while chatting');
  await row(alice.page, 'bob').locator('.row-main').click();
  await chat.getByLabel('Message Alice Archer').fill('Sent from my phone');
  await chat.getByRole('button', { name: 'Send message' }).tap();
  await alice.page.locator('.chat[data-conversation="im:bob"] .bubble', { hasText: 'Sent from my phone' }).waitFor();
  await H.screenshot(phone.page, 'phone-chat');

  await chat.getByRole('button', { name: 'Back to contacts' }).tap();
  await list.waitFor({ state: 'visible' });
  assert.ok(!(await main.isVisible()));

  // A group chat on the phone, with the participants drawer.
  await alice.page.locator('.sidebar-tools').getByRole('button', { name: 'New group chat' }).click();
  const dialog = alice.page.getByRole('dialog', { name: 'New group chat' });
  await dialog.getByLabel('Topic', { exact: true }).fill('Design review');
  await dialog.locator('.pick', { hasText: 'Bob Baker' }).locator('input').check();
  await dialog.getByRole('button', { name: 'Start group chat' }).click();
  // Said before Bob joins: he reads it in the chat's history.
  const aliceGroup = alice.page.locator('.chat.group-chat');
  await aliceGroup.getByLabel('Message Design review').fill('Mock-ups are in the shared folder.');
  await aliceGroup.getByLabel('Message Design review').press('Enter');
  await aliceGroup.locator('.bubble[data-state="sent"]', { hasText: 'Mock-ups are in the shared folder.' }).waitFor();
  const invite = phone.page.locator('.toast.invite', { hasText: 'Alice Archer invited you' });
  await invite.getByRole('button', { name: 'Accept' }).tap();
  const group = phone.page.locator('.chat.group-chat');
  await group.locator('.chat-title', { hasText: 'Design review' }).waitFor();
  await group.locator('.bubble', { hasText: 'Mock-ups are in the shared folder.' }).waitFor();
  await aliceGroup.getByLabel('Message Design review').fill('Bob, the second page is the new one.');
  await aliceGroup.getByLabel('Message Design review').press('Enter');
  await group.locator('.bubble', { hasText: 'Bob, the second page is the new one.' }).waitFor();
  assert.equal(await group.locator('.bubble').count(), 2);
  await H.screenshot(phone.page, 'phone-nway');
  await group.getByRole('button', { name: /Participants/ }).tap();
  await group.locator('.participants .person-name', { hasText: 'Alice Archer' }).waitFor({ state: 'visible' });
  await H.screenshot(phone.page, 'phone-nway-participants');
  assert.deepEqual(realErrors(phone.errors), []);
});

scenario('a one-time password must be replaced before the app opens', async () => {
  const fresh = await H.startServer([]);
  try {
    // It goes to a file only its owner reads, never to the output (logs).
    const file = /one-time password is in (\S+)/.exec(fresh.output())?.[1];
    assert.ok(file, `the server says where the admin's password is:\n${fresh.output()}`);
    const password = (await readFile(file, 'utf8')).trim();
    assert.ok(!fresh.output().includes(password), 'the password is not in the output');
    const admin = await open('admin');
    await admin.page.goto(fresh.url);
    await admin.page.getByLabel('User name').fill('admin');
    await admin.page.getByLabel('Password', { exact: true }).fill(password);
    await admin.page.getByRole('button', { name: 'Sign in' }).click();
    await admin.page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await admin.page.getByLabel('Temporary password').fill(password);
    await admin.page.getByLabel('New password', { exact: true }).fill('short');
    await admin.page.getByLabel('Repeat new password').fill('short');
    await admin.page.getByRole('button', { name: 'Change password and continue' }).click();
    await admin.page.getByRole('alert').filter({ hasText: 'at least 8 characters' }).waitFor();
    await H.screenshot(admin.page, 'desktop-password-change');
    await admin.page.getByLabel('New password', { exact: true }).fill('a much better password');
    await admin.page.getByLabel('Repeat new password').fill('a much better password');
    await admin.page.getByRole('button', { name: 'Change password and continue' }).click();
    await H.appReady(admin.page);
    await admin.page.locator('.user-name', { hasText: 'Administrator' }).waitFor();
    // The new password works.
    const check = await fetch(`${fresh.url}/api/v1/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: 'admin', password: 'a much better password' }),
    });
    assert.equal(check.status, 200);
    assert.equal((await check.json()).must_change_password, false);

    // A later change from the menu ends every earlier sign-in, this page's
    // too; the page moves to the new one and stays online.
    const ltpa = async () => (await admin.context.cookies()).find((c) => c.name === 'LtpaToken2')?.value;
    const earlier = await ltpa();
    await admin.page.locator('.user-button').click();
    await admin.page.getByRole('menuitem', { name: 'Change password…' }).click();
    const dialog = admin.page.getByRole('dialog', { name: 'Change password' });
    await dialog.getByLabel('Current password').fill('a much better password');
    await dialog.getByLabel('New password', { exact: true }).fill('an even better password');
    await dialog.getByLabel('Repeat new password').fill('an even better password');
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const renewed = await ltpa();
    assert.ok(renewed && renewed !== earlier, 'a new SSO cookie');
    const old = await fetch(`${fresh.url}/api/v1/me`, { headers: { Authorization: `Bearer ${earlier}` } });
    assert.equal(old.status, 401, 'the earlier token ended');
    await H.appReady(admin.page);
    // Writes carry the new CSRF token.
    await admin.page.getByRole('button', { name: /^Your status/ }).click();
    await admin.page.locator('.status-option[data-status="away"]').click();
    await admin.page.getByRole('button', { name: /^Your status: Away/ }).waitFor();
    assert.deepEqual(realErrors(admin.errors), []);
    await admin.context.close();
    pages.delete('admin');
  } finally {
    await fresh.stop();
  }
});

scenario('after the server restarts the client reconnects by itself and follows status again', async () => {
  const people = [
    { name: 'dave', displayName: 'Dave Dunn' },
    { name: 'erin', displayName: 'Erin Eckert' },
  ];
  const first = await H.startServer(people);
  let current = first;
  try {
    const { token } = await H.apiLogin(first.url, 'dave');
    await H.apiCall(first.url, token, 'PUT', '/api/v1/contacts', { groups: [{ name: 'Friends', contacts: ['erin'] }] });
    const dave = await open('dave');
    const erin = await open('erin');
    await H.signIn(dave.page, first.url, 'dave');
    await H.signIn(erin.page, first.url, 'erin');
    await row(dave.page, 'erin').locator('.status-text', { hasText: 'Available' }).waitFor();
    // A group chat started elsewhere (over the API): Dave's page learns its
    // topic from the server; Erin gets the invitation.
    const { id } = await H.apiCall(first.url, token, 'POST', '/api/v1/nway', { invite: ['erin'], topic: 'Release night' });
    const chatRow = dave.page.locator(`.chats li[data-chat="nway:${id}"]`);
    await chatRow.locator('.row-name', { hasText: 'Release night' }).waitFor();
    await chatRow.locator('.row-main').click();
    const daveChat = dave.page.locator('.chat.group-chat');
    await daveChat.locator('.chat-title', { hasText: 'Release night' }).waitFor();
    await erin.page.locator('.toast.invite', { hasText: 'Dave Dunn invited you' }).waitFor();
    await H.apiCall(first.url, token, 'POST', `/api/v1/nway/${id}/messages`, { text: 'ship it at nine' });
    await daveChat.locator('.bubble .text', { hasText: 'ship it at nine' }).waitFor();

    await first.stop({ keepData: true, signal: 'SIGKILL' });
    await dave.page.locator('.conn-banner', { hasText: /Connection lost|Reconnecting/ }).waitFor();
    await H.screenshot(dave.page, 'desktop-reconnecting');
    current = await H.startServer([], { dir: first.dir, port: first.port });
    for (const p of [dave, erin]) await p.page.locator('.shell[data-connection="online"]').waitFor({ timeout: 20_000 });
    await dave.page.locator('.conn-banner').waitFor({ state: 'hidden' });
    // The restart ended the chat: read-only with a notice, and the
    // invitation to it is gone.
    await daveChat.locator('.ended-bar', { hasText: 'You are no longer in this group chat.' }).waitFor();
    await daveChat.locator('.system-line', { hasText: 'the connection dropped, or the chat ended' }).waitFor();
    assert.ok(!(await daveChat.locator('.composer').isVisible()), 'no composer in an ended chat');
    await chatRow.locator('.row-sub', { hasText: 'You are no longer in this chat' }).waitFor();
    await erin.page.locator('.toast.invite').waitFor({ state: 'detached' });
    await H.screenshot(dave.page, 'desktop-nway-ended');

    // The server keeps the chat for Dave: after a reload it is still there,
    // read-only, with what was said, until he closes it.
    await dave.page.reload();
    await H.appReady(dave.page);
    await chatRow.locator('.row-sub', { hasText: 'You are no longer in this chat' }).waitFor();
    await chatRow.locator('.row-main').click();
    await daveChat.locator('.bubble .text', { hasText: 'ship it at nine' }).waitFor();
    await daveChat.locator('.ended-bar').waitFor();
    assert.ok(!(await daveChat.locator('.composer').isVisible()), 'still no composer');
    assert.ok(!(await daveChat.locator('.participants').isVisible()), 'no participants to list');
    await H.screenshot(dave.page, 'desktop-nway-kept');
    await daveChat.locator('.ended-bar').getByRole('button', { name: 'Close chat' }).click();
    await chatRow.waitFor({ state: 'detached' });
    const listed = await H.apiCall(current.url, token, 'GET', '/api/v1/conversations');
    assert.ok(!listed.some((/** @type {any} */ c) => c.chat === id), JSON.stringify(listed));
    const synced = dave.page.waitForResponse((r) => r.url().endsWith('/api/v1/conversations'));
    await dave.page.reload();
    await H.appReady(dave.page);
    await synced;
    await row(dave.page, 'erin').waitFor();
    assert.equal(await chatRow.count(), 0, 'a closed chat stays closed');

    // The watches went out again: a change made after the restart arrives.
    await erin.page.locator('.status-button').click();
    await erin.page.getByRole('dialog', { name: 'Set your status' }).getByRole('button', { name: /In a meeting/ }).click();
    await row(dave.page, 'erin').locator('.status-text', { hasText: 'In a meeting' }).waitFor();
    for (const p of [dave, erin]) {
      await p.context.close();
    }
    pages.delete('dave');
    pages.delete('erin');
  } finally {
    await current.stop();
  }
});

scenario('a chat link from another application opens the client on that chat', async () => {
  // Connections' "chat" action calls /stwebapi/chat?userId=<login name>.
  const carol = await open('carol-link');
  await H.signIn(carol.page, shared.server.url, 'carol');
  await carol.page.goto(`${shared.server.url}/stwebapi/chat?userId=Bob`);
  await H.appReady(carol.page);
  await carol.page.locator('section.chat[data-conversation="im:bob"]').waitFor();
  await carol.page.getByRole('textbox', { name: 'Message Bob Baker' }).waitFor();
  await carol.page.locator('.intro-title', { hasText: 'Bob Baker' }).waitFor();
  assert.equal(new URL(carol.page.url()).search, '', 'the link is not left in the address bar');
  assert.deepEqual(H.realErrors(carol.errors), []);
  await carol.context.close();
  pages.delete('carol-link');
});

scenario('messages sent while someone was away wait for them as an unread chat', async () => {
  const { token } = await H.apiLogin(shared.server.url, 'alice');
  for (const text of ['Are you in today?', 'Call me when you are back']) {
    const sent = await H.apiCall(shared.server.url, token, 'POST', '/api/v1/im/frank', { text });
    assert.equal(sent.delivered, false, 'frank has no session');
  }
  const frank = await open('frank');
  await H.signIn(frank.page, shared.server.url, 'frank');
  const chatRow = frank.page.locator('.chats li[data-chat="im:alice"]');
  await chatRow.locator('.row-name', { hasText: 'Alice Archer' }).waitFor();
  assert.equal(await chatRow.locator('.badge').getAttribute('data-unread'), '2');
  await H.eventually(async () => (await frank.page.title()) === '(2) Simul', 'the unread count in the title');
  await H.screenshot(frank.page, 'desktop-missed-messages');

  await chatRow.locator('.row-main').click();
  const chat = frank.page.locator('.chat[data-conversation="im:alice"]');
  await chat.locator('.msg-group.theirs .bubble', { hasText: 'Are you in today?' }).waitFor();
  await chat.locator('.msg-group.theirs .bubble', { hasText: 'Call me when you are back' }).waitFor();
  await H.eventually(async () => (await frank.page.title()) === 'Simul', 'read: no count in the title');
  assert.deepEqual(realErrors(frank.errors), []);
});

scenario('a chat with someone not on the list survives a reload, and reading it on one device clears it on the other', async () => {
  const laptop = opened('frank');
  const { token } = await H.apiLogin(shared.server.url, 'carol');
  await H.apiCall(shared.server.url, token, 'POST', '/api/v1/im/frank', { text: 'Lunch tomorrow?' });
  const carolRow = (/** @type {import('playwright-core').Page} */ page) => page.locator('.chats li[data-chat="im:carol"]');
  await carolRow(laptop.page).locator('.badge[data-unread="1"]').waitFor();

  // The phone signs in later: the server's list brings the chat and its
  // unread count (delivered to the laptop, not read anywhere).
  const phone = await open('frank-phone', H.PHONE);
  await H.signIn(phone.page, shared.server.url, 'frank');
  await carolRow(phone.page).locator('.row-name', { hasText: 'Carol Clark' }).waitFor();
  await carolRow(phone.page).locator('.badge[data-unread="1"]').waitFor();
  await H.eventually(async () => (await phone.page.title()) === '(1) Simul', 'the count in the title on the phone');

  // Read on the laptop: the phone's count goes.
  await carolRow(laptop.page).locator('.row-main').click();
  await laptop.page.locator('.chat[data-conversation="im:carol"] .bubble', { hasText: 'Lunch tomorrow?' }).waitFor();
  await carolRow(phone.page).locator('.badge').waitFor({ state: 'detached' });
  await H.eventually(async () => (await phone.page.title()) === 'Simul', 'no count on the phone');

  // Carol is no contact of Frank's, yet her chat is still there after a reload.
  await phone.page.reload();
  await H.appReady(phone.page);
  await carolRow(phone.page).locator('.row-name', { hasText: 'Carol Clark' }).waitFor();
  assert.equal(await carolRow(phone.page).locator('.badge').count(), 0, 'read stays read');
  // The row shows the latest message, as chat lists do.
  assert.equal(await carolRow(phone.page).locator('.row-sub').innerText(), 'Lunch tomorrow?');
  await H.screenshot(phone.page, 'phone-recent-chats');
  assert.deepEqual(realErrors(laptop.errors), []);
  assert.deepEqual(realErrors(phone.errors), []);
});

scenario('a chat read on another device while this one fetches its list stays read', async () => {
  const laptop = opened('frank');
  const { token } = await H.apiLogin(shared.server.url, 'alice');
  await H.apiCall(shared.server.url, token, 'POST', '/api/v1/im/frank', { text: 'Are you free at three?' });
  const aliceRow = (/** @type {import('playwright-core').Page} */ page) => page.locator('.chats li[data-chat="im:alice"]');
  await aliceRow(laptop.page).locator('.badge[data-unread="1"]').waitFor();

  // The tablet's list of conversations is answered before the laptop reads
  // the chat, but reaches the page only after the "read" event does.
  const tablet = await open('frank-tablet');
  /** @type {(value?: unknown) => void} */
  let heardRead = () => {};
  const readHeard = new Promise((resolve) => { heardRead = resolve; });
  tablet.page.on('websocket', (socket) => socket.on('framereceived', (frame) => {
    if (String(frame.payload).includes('"read"')) heardRead();
  }));
  /** @type {(value?: unknown) => void} */
  let listFetched = () => {};
  const listReady = new Promise((resolve) => { listFetched = resolve; });
  await tablet.page.route('**/api/v1/conversations', async (route) => {
    const response = await route.fetch();
    listFetched();
    await readHeard;
    await route.fulfill({ response });
  }, { times: 1 });
  await H.signIn(tablet.page, shared.server.url, 'frank');
  await listReady;

  await aliceRow(laptop.page).locator('.row-main').click();
  await readHeard;
  await aliceRow(tablet.page).locator('.row-name', { hasText: 'Alice Archer' }).waitFor();
  assert.equal(await aliceRow(tablet.page).locator('.badge').count(), 0, 'the older list does not undo the read');
  assert.equal(await tablet.page.title(), 'Simul');
  assert.deepEqual(realErrors(tablet.errors), []);
  await tablet.context.close();
  pages.delete('frank-tablet');
});
