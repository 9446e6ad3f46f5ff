// The console's single sign-on and directory pages in a real browser, on
// the fixture slapd: an administrator (by membership of the builders
// group) imports WebSphere's exported LTPA keys (and is told what is
// wrong with a wrong password), tests a token, and tests the LDAP
// connection. Screenshots go to target/e2e-artifacts/console-sso-*.png.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import * as H from './harness.mjs';

const BUILDERS_DN = 'cn=builders,ou=groups,dc=renovations,dc=com';
/** WebSphere's export (eclipse/amlen's test file; password `password`). */
const WEBSPHERE_KEYS = path.join(H.ROOT, 'crates/ltpa/tests/vectors/websphere-2013.keys');
/** Its shared key's fingerprint, as `simul ltpa show` prints it. */
let websphereFingerprint = '';

/** @type {H.Slapd} */
let slapd;
/** @type {H.Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
let configDir = '';
before(async () => {
  slapd = await H.startSlapd();
  configDir = await mkdtemp(path.join(tmpdir(), 'simul-e2e-console-sso-'));
  const config = await H.writeLdapConfig(configDir, slapd, `\n[console]\nadmin_groups = [${JSON.stringify(BUILDERS_DN)}]\n`);
  server = await H.startServer([], { config });
  browser = await H.launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await slapd?.stop();
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

const { scenario, open } = H.testBook(() => browser, 'console-sso-');

scenario('an admin imports WebSphere keys, tests a token and tests LDAP', async () => {
  for (const colorScheme of /** @type {const} */ (['light', 'dark'])) {
    const { page, errors } = await open(`alice-${colorScheme}`, { ...H.DESKTOP, colorScheme });
    await H.signIn(page, server.url, 'alice', 'alice-secret');
    await page.goto(`${server.url}/console/sso`);
    await page.getByRole('heading', { name: 'Single sign-on', level: 1 }).waitFor();
    if (colorScheme === 'dark') {
      // Imported in the light pass: the page shows WebSphere's keys.
      assert.equal(await page.getByTestId('current-shared-key').innerText(), websphereFingerprint);
      await H.screenshot(page, 'console-sso-page-dark');
      assert.deepEqual(H.realErrors(errors), []);
      continue;
    }
    await H.screenshot(page, 'console-sso-page-light');

    // A wrong key-file password: a sentence, and the keys stay.
    const before = await page.getByTestId('current-shared-key').innerText();
    await page.getByLabel('Key file (ltpa.keys)').setInputFiles(WEBSPHERE_KEYS);
    await page.getByLabel("The file's password").fill('not it');
    await page.getByLabel('Your own password, to confirm').last().fill('alice-secret');
    await page.getByRole('button', { name: 'Import keys' }).click();
    await page.getByTestId('sso-error').filter({ hasText: 'wrong password' }).waitFor();
    assert.equal(await page.getByTestId('current-shared-key').innerText(), before);
    await H.screenshot(page, 'console-sso-wrong-password');

    // The right one: WebSphere's keys are this server's now.
    await page.getByLabel('Key file (ltpa.keys)').setInputFiles(WEBSPHERE_KEYS);
    await page.getByLabel("The file's password").fill('password');
    await page.getByLabel('Your own password, to confirm').last().fill('alice-secret');
    await page.getByRole('button', { name: 'Import keys' }).click();
    await page.getByRole('status').filter({ hasText: 'Imported.' }).waitFor();
    websphereFingerprint = await page.getByTestId('current-shared-key').innerText();
    assert.notEqual(websphereFingerprint, before);
    await page.getByRole('cell', { name: before }).waitFor();
    await H.screenshot(page, 'console-sso-imported');

    // The token tester: a Cookie header without an LTPA cookie.
    await page.getByLabel('Token or Cookie header').fill('Cookie: JSESSIONID=0000abc; other=1');
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await page.getByTestId('verdict').filter({ hasText: '1 problem(s) found.' }).waitFor();
    await page.getByText('no LTPA cookie arrived').waitFor();
    await page.getByTestId('findings').scrollIntoViewIfNeeded();
    await H.screenshot(page, 'console-sso-doctor');

    // A domain without its leading dot, checked beside its field.
    await page.getByLabel('Domain names').fill('renovations.com');
    await page.getByRole('button', { name: 'Check these settings' }).click();
    await page.getByTestId('problem-domains').filter({ hasText: 'has no leading dot' }).waitFor();
    await page.getByTestId('problem-domains').scrollIntoViewIfNeeded();
    await H.screenshot(page, 'console-sso-settings-check');

    // The directory: the settings without the bind password, and a test.
    await page.getByRole('link', { name: 'Directory' }).click();
    await page.getByRole('heading', { name: 'User registry' }).waitFor();
    assert.equal(await page.getByText(slapd.rootPassword).count(), 0, 'no bind password shown');
    await page.getByLabel('Person (login name, mail or DN), optional').fill('bob');
    await page.getByLabel('Their password, optional').fill('bob-secret');
    await page.getByLabel('Group DN, optional').fill(BUILDERS_DN);
    await page.getByRole('button', { name: 'Test connection' }).click();
    const checks = page.getByTestId('checks');
    await checks.waitFor();
    assert.equal(await checks.getByText('failed', { exact: true }).count(), 0, await checks.innerText());
    await checks.getByText('the password is right (bind as the user)').waitFor();
    await checks.scrollIntoViewIfNeeded();
    await H.screenshot(page, 'console-sso-directory-test');
    // The refused import answers 422, on purpose.
    assert.deepEqual(H.realErrors(errors).filter((e) => !/status of 422/.test(e)), []);
    assert.deepEqual(await H.accessibilityProblems(page), []);
  }
});
