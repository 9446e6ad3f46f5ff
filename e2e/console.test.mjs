// The administration console in a real browser: an administrator signs in
// through the web sign-in and is sent to the console, finds a user and
// disables them while that user's chat client is open in another browser
// context, which is signed out. Screenshots (light and dark) go to
// target/e2e-artifacts/console-*.png.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as H from './harness.mjs';

const USERS = [
  { name: 'boss', displayName: 'Bea Boss', mail: 'boss@example.com' },
  { name: 'alice', displayName: 'Alice Archer', mail: 'alice@example.com' },
  { name: 'bob', displayName: 'Bob Baker', mail: 'bob@example.com' },
];

const { shared, scenario, open } = H.suite(USERS, 'console-');

/** `simul ARGS` on the suite's deployment (it works while the server runs). */
function simul(...args) {
  const bin = path.resolve(H.ROOT, process.env.SIMUL_BIN ?? 'target/debug/simul');
  return execFileSync(bin, [...args, '--data', path.join(shared.server.dir, 'data')], { encoding: 'utf8' });
}

scenario('a non-administrator is told so, not shown the console', async () => {
  const { page } = await open('bob');
  await H.signIn(page, shared.server.url, 'bob');
  const answer = await page.goto(`${shared.server.url}/console`);
  assert.equal(answer?.status(), 403);
  await page.getByRole('heading', { name: 'You are not an administrator' }).waitFor();
  await H.screenshot(page, 'console-not-admin');
});

scenario('an admin disables a user whose client is open, and the client signs out', async () => {
  assert.match(simul('user', 'admin', 'boss'), /boss is an administrator/);
  const alice = await open('alice');
  await H.signIn(alice.page, shared.server.url, 'alice');

  for (const colorScheme of /** @type {const} */ (['light', 'dark'])) {
    const { page, errors } = await open(`boss-${colorScheme}`, { ...H.DESKTOP, colorScheme });
    // Signed out, the console sends to the web sign-in, which comes back.
    const refused = await page.goto(`${shared.server.url}/console`);
    assert.equal(refused?.status(), 401);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('User name').fill('boss');
    await page.getByLabel('Password', { exact: true }).fill(H.passwordOf('boss'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/console');
    await page.getByText('Signed in as boss').waitFor();
    assert.equal(await page.getByTestId('online').innerText(), '1', 'alice is online');
    // The deployment's LTPA keys never left it: the overview warns.
    await page.getByText('LTPA keys never exported').waitFor();
    await H.screenshot(page, `console-overview-${colorScheme}`);

    await page.getByRole('link', { name: 'Users and sessions' }).click();
    await page.getByLabel('Find people by name, login name or e-mail').fill('alice');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Alice Archer' }).click();
    await page.getByRole('heading', { name: 'Alice Archer' }).waitFor();
    await page.getByRole('cell', { name: 'web' }).waitFor();
    await H.screenshot(page, `console-user-${colorScheme}`);
    assert.deepEqual(H.realErrors(errors), []);
    if (colorScheme === 'light') continue;

    await page.getByRole('button', { name: 'Disable and sign out' }).click();
    await page.getByRole('status').filter({ hasText: 'Disabled. Every session of theirs has ended' }).waitFor();
    assert.equal(await page.getByTestId('account-state').innerText(), 'disabled');
    await H.screenshot(page, `console-user-disabled-${colorScheme}`);

    // Alice's open client is signed out at once.
    await alice.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await H.screenshot(alice.page, 'console-alice-signed-out');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('cell', { name: 'disable', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'grant-admin', exact: true }).waitFor();
    await H.screenshot(page, `console-audit-${colorScheme}`);
    // Filtered to one kind of act, and downloaded as CSV with that filter.
    await page.getByLabel('What', { exact: true }).fill('disable');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('cell', { name: 'disable', exact: true }).waitFor();
    assert.equal(await page.getByRole('cell', { name: 'grant-admin', exact: true }).count(), 0);
    await H.screenshot(page, `console-audit-filtered-${colorScheme}`);
    assert.deepEqual(await H.accessibilityProblems(page), []);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    assert.match(download.suggestedFilename(), /^simul-audit-\d{8}-\d{6}\.csv$/);
    const csv = (await readFile(/** @type {string} */ (await download.path()), 'utf8')).split('\r\n');
    assert.equal(csv[0], 'at,actor,action,target,origin');
    assert.match(csv[1], /,boss,disable,alice,console /);
    assert.equal(csv[2], '');

    await page.getByRole('link', { name: 'Users and sessions' }).click();
    await page.getByLabel('Find people by name, login name or e-mail').fill('alice');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Alice Archer' }).click();
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('status').filter({ hasText: 'Enabled.' }).waitFor();
    assert.deepEqual(await H.accessibilityProblems(page), []);

    // Signing out ends the console's session: back to the sign-in.
    await page.getByTestId('sign-out').click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const after = await page.goto(`${shared.server.url}/console`);
    assert.equal(after?.status(), 401);
    await H.screenshot(page, 'console-signed-out');
  }
});
