// Policies in a real browser: an administrator sets, in the console, a
// policy that forbids n-way chats; a user's open web client then refuses to
// start one and shows the reason, naming the policy. A custom policy
// assigned to that user by command lets them again. Screenshots go to
// target/e2e-artifacts/policies-*.png.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as H from './harness.mjs';

const USERS = [
  { name: 'boss', displayName: 'Bea Boss', mail: 'boss@example.com' },
  { name: 'alice', displayName: 'Alice Archer', mail: 'alice@example.com' },
  { name: 'bob', displayName: 'Bob Baker', mail: 'bob@example.com' },
];

const { shared, scenario, open } = H.suite(USERS, 'policies-');

/** `simul ARGS` on the suite's deployment (it works while the server runs). */
function simul(...args) {
  const bin = path.resolve(H.ROOT, process.env.SIMUL_BIN ?? 'target/debug/simul');
  return execFileSync(bin, [...args, '--data', path.join(shared.server.dir, 'data')], { encoding: 'utf8' });
}

/** Alice's new-group-chat dialog, with Bob chosen. */
async function newGroupChat(page, topic) {
  await page.locator('.sidebar-tools').getByRole('button', { name: 'New group chat' }).click();
  const dialog = page.getByRole('dialog', { name: 'New group chat' });
  await dialog.getByLabel('Topic', { exact: true }).fill(topic);
  await dialog.getByLabel('People', { exact: true }).fill('bob');
  await dialog.locator('.pick', { hasText: 'Bob Baker' }).locator('input:not([disabled])').first().check();
  await dialog.getByText('1 person selected').waitFor();
  return dialog;
}

scenario('a policy set in the console stops n-way chats, and the client says why', async () => {
  assert.match(simul('user', 'admin', 'boss'), /boss is an administrator/);
  const alice = await open('alice');
  await H.signIn(alice.page, shared.server.url, 'alice');

  const { page, errors } = await open('boss', H.DESKTOP);
  await H.signIn(page, shared.server.url, 'boss');
  await page.goto(`${shared.server.url}/console`);
  await page.getByRole('link', { name: 'Policies' }).click();
  await page.getByRole('heading', { name: 'Policies' }).waitFor();
  await H.screenshot(page, 'policies-list');
  await page.getByRole('link', { name: 'default', exact: true }).click();
  await page.getByRole('heading', { name: 'default' }).waitFor();
  await page.getByLabel('nway_chat').selectOption('no');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await H.screenshot(page, 'policies-default');
  assert.deepEqual(H.realErrors(errors), []);
  assert.deepEqual(await H.accessibilityProblems(page), []);

  // Alice's client, already open: the server refuses and she is told why.
  const dialog = await newGroupChat(alice.page, 'Launch plan');
  await dialog.getByRole('button', { name: 'Start group chat' }).click();
  const reason = dialog.getByRole('alert');
  await reason.filter({ hasText: 'the policy `default` does not allow n-way chats (nway_chat)' }).waitFor();
  await H.screenshot(alice.page, 'policies-refused');
  assert.equal(await alice.page.locator('.chat.group-chat').count(), 0, 'no chat was opened');
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // A heavier custom policy for alice, by command while the server runs.
  assert.match(simul('policy', 'set', 'planners', 'nway_chat=yes'), /Created policy planners/);
  assert.match(simul('policy', 'assign', 'planners', '--user', 'alice', '--weight', '10'), /weight 10/);
  const again = await newGroupChat(alice.page, 'Launch plan');
  await again.getByRole('button', { name: 'Start group chat' }).click();
  await alice.page.locator('.chat.group-chat .chat-title', { hasText: 'Launch plan' }).waitFor();

  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Policies' }).click();
  await page.getByRole('cell', { name: 'user alice (weight 10)' }).waitFor();
  await H.screenshot(page, 'policies-assigned');
});
