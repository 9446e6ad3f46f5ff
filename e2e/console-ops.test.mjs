// Announcements and logs in the console, in a real browser: an
// administrator sends an announcement (with markup in it) and a signed-in
// web client shows it as a banner, as text; the administrator changes a
// module's log level and sees the line saying so in the latest lines.
// Screenshots go to target/e2e-artifacts/console-ops-*.png.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as H from './harness.mjs';

const USERS = [
  { name: 'boss', displayName: 'Bea Boss', mail: 'boss@example.com' },
  { name: 'alice', displayName: 'Alice Archer', mail: 'alice@example.com' },
];

const { shared, scenario, open } = H.suite(USERS, 'console-ops-');

/** Markup, a script and an ampersand: the banner must show them as typed. */
const TEXT = 'Maintenance at 18:00 <script>window.pwned = 1</script> <img src=x onerror="window.pwned = 2"> & back by 18:30';

/** `simul ARGS` on the suite's deployment (it works while the server runs). */
function simul(...args) {
  const bin = path.resolve(H.ROOT, process.env.SIMUL_BIN ?? 'target/debug/simul');
  return execFileSync(bin, [...args, '--data', path.join(shared.server.dir, 'data')], { encoding: 'utf8' });
}

/** The console page `route` for boss, signed in. */
async function consolePage(who, route, colorScheme = 'light') {
  const opened = await open(who, { ...H.DESKTOP, colorScheme });
  await H.signIn(opened.page, shared.server.url, 'boss');
  await opened.page.goto(`${shared.server.url}${route}`);
  return opened;
}

scenario('an announcement from the console is a banner in a signed-in client, as text', async () => {
  assert.match(simul('user', 'admin', 'boss'), /boss is an administrator/);
  const alice = await open('alice');
  await H.signIn(alice.page, shared.server.url, 'alice');
  const dialogs = [];
  alice.page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss(); });

  const { page, errors } = await consolePage('boss', '/console/announcements');
  await page.getByRole('heading', { name: 'Announcements' }).waitFor();
  await page.getByLabel('Text (at most 2000 characters, shown as plain text)').fill(TEXT);
  await H.screenshot(page, 'console-ops-announcements-form');
  await page.getByRole('button', { name: 'Send announcement' }).click();
  await page.getByRole('status').filter({ hasText: 'Sent. Everyone it names' }).waitFor();
  await page.getByRole('cell', { name: 'everyone online' }).waitFor();
  await H.screenshot(page, 'console-ops-announcements-sent');
  assert.deepEqual(H.realErrors(errors), []);

  const banner = alice.page.getByTestId('announcement');
  await banner.waitFor();
  assert.match(await banner.innerText(), /Announcement from boss/);
  assert.equal(await banner.locator('.announcement-text').innerText(), TEXT);
  assert.equal(await banner.locator('script, img').count(), 0, 'no markup was made of it');
  assert.equal(await alice.page.evaluate(() => /** @type {any} */ (window).pwned), undefined);
  assert.deepEqual(dialogs, []);
  await H.screenshot(alice.page, 'console-ops-banner-light');

  // From the command line too, while the server runs: a second banner.
  assert.match(simul('announce', '--user', 'alice', 'Your new laptop is ready'), /kept/);
  await alice.page.getByTestId('announcement').filter({ hasText: 'Your new laptop is ready' }).waitFor();
  assert.equal(await alice.page.getByTestId('announcement').count(), 2);
  assert.deepEqual(await H.accessibilityProblems(alice.page), []);

  // Dismissed, it is gone.
  await alice.page.getByRole('button', { name: 'Dismiss announcement' }).first().click();
  assert.equal(await alice.page.getByTestId('announcement').count(), 1);
});

scenario('the banner in the dark theme', async () => {
  const dark = await open('alice-dark', { ...H.DESKTOP, colorScheme: 'dark' });
  await H.signIn(dark.page, shared.server.url, 'alice');
  await H.appReady(dark.page);
  simul('announce', 'The dark theme shows announcements too');
  await dark.page.getByTestId('announcement').waitFor();
  await H.screenshot(dark.page, 'console-ops-banner-dark');
});

scenario('an administrator changes a module\'s log level now', async () => {
  const { page, errors } = await consolePage('boss-logs', '/console/logs');
  await page.getByRole('heading', { name: 'Logs', exact: true }).waitFor();
  // What the harness started it with (SIMUL_LOG).
  const before = await page.getByTestId('log-filter').innerText();
  await page.getByLabel('Module', { exact: true }).selectOption('simul_web');
  await page.getByLabel('Level', { exact: true }).selectOption('debug');
  await page.getByRole('button', { name: 'Apply now (until restart)' }).first().click();
  await page.getByRole('status').filter({ hasText: 'Applied now.' }).waitFor();
  assert.equal(await page.getByTestId('log-filter').innerText(), `${before},simul_web=debug`);

  await page.getByLabel('Lines containing (any case)').fill('log filter changed');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByTestId('log-lines').filter({ hasText: `filter=${before},simul_web=debug` }).waitFor();
  await H.screenshot(page, 'console-ops-logs');

  // Saving needs a configuration file, which this server was not given.
  await page.getByRole('button', { name: 'Apply now and save' }).first().click();
  await page.getByRole('alert').filter({ hasText: 'Applied now, but not saved: the server was started without --config FILE' }).waitFor();
  await H.screenshot(page, 'console-ops-logs-not-saved');
  assert.deepEqual(H.realErrors(errors).filter((e) => !/status of 422/.test(e)), []);
  assert.deepEqual(await H.accessibilityProblems(page), []);
});
