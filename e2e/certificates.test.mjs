// The console's Certificates page in a real browser: an administrator
// opens it from the navigation, retrieves the certificate of a local TLS
// port (a node:tls server with a certificate its own CA signed, made by
// the openssl command), adds the signer after confirming with their
// password, and sees it in the trust store. Screenshots go to
// target/e2e-artifacts/certificates-*.png.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before } from 'node:test';
import * as H from './harness.mjs';

const USERS = [{ name: 'boss', displayName: 'Bea Boss', mail: 'boss@example.com' }];

const { shared, scenario, open } = H.suite(USERS, 'certificates-');

/** `simul ARGS` on the suite's deployment (it works while the server runs). */
function simul(...args) {
  const bin = path.resolve(H.ROOT, process.env.SIMUL_BIN ?? 'target/debug/simul');
  return execFileSync(bin, [...args, '--data', path.join(shared.server.dir, 'data')], { encoding: 'utf8' });
}

let certDir = '';
/** @type {tls.Server} */
let port;
let caFingerprint = '';

before(async () => {
  certDir = await mkdtemp(path.join(tmpdir(), 'simul-e2e-certs-'));
  const openssl = (/** @type {string[]} */ ...args) => execFileSync('openssl', args, { cwd: certDir, encoding: 'utf8' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', '-days', '30', '-subj', '/CN=Intranet Root CA/O=Renovations', ...ec,
    '-keyout', 'ca.key', '-out', 'ca.pem', '-addext', 'basicConstraints=critical,CA:TRUE');
  openssl('req', '-subj', '/CN=ldap.renovations.test', ...ec, '-keyout', 'ldap.key', '-out', 'ldap.csr');
  await writeFile(path.join(certDir, 'san.ext'), 'subjectAltName=DNS:ldap.renovations.test,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'ldap.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-days', '300',
    '-extfile', 'san.ext', '-out', 'ldap.pem');
  caFingerprint = openssl('x509', '-noout', '-fingerprint', '-sha256', '-in', 'ca.pem').trim().split('=')[1];
  const read = (/** @type {string} */ name) => readFile(path.join(certDir, name));
  port = tls.createServer({
    key: await read('ldap.key'),
    cert: Buffer.concat([await read('ldap.pem'), await read('ca.pem')]),
  }, (socket) => socket.end());
  await new Promise((resolve) => port.listen(0, '127.0.0.1', () => resolve(undefined)));
});

after(async () => {
  port?.close();
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

scenario('an admin retrieves a TLS port\'s certificate and trusts its signer', async () => {
  assert.match(simul('user', 'admin', 'boss'), /boss is an administrator/);
  const { page, errors } = await open('boss', H.DESKTOP);
  await H.signIn(page, shared.server.url, 'boss');
  await page.goto(`${shared.server.url}/console`);
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Certificates' }).click();
  await page.getByRole('heading', { name: 'Certificates', level: 1 }).waitFor();
  await page.getByTestId('no-signers').waitFor();
  await H.screenshot(page, 'certificates-page');

  const address = /** @type {import('node:net').AddressInfo} */ (port.address());
  await page.getByLabel('Host', { exact: true }).fill('127.0.0.1');
  await page.getByLabel('Port', { exact: true }).fill(String(address.port));
  await page.getByRole('button', { name: 'Retrieve' }).click();
  const chain = page.getByTestId('retrieved-chain');
  await chain.waitFor();
  await page.getByTestId('retrieved').getByText('is not trusted yet').waitFor();
  await chain.getByText('CN=ldap.renovations.test').waitFor();
  await chain.getByText(caFingerprint).waitFor();
  await chain.scrollIntoViewIfNeeded();
  await H.screenshot(page, 'certificates-retrieved');

  const retrieved = page.getByTestId('retrieved');
  await retrieved.getByLabel('Your own password, to confirm').fill(H.passwordOf('boss'));
  await retrieved.getByRole('button', { name: 'Add signer' }).click();
  await page.getByTestId('cert-notice').filter({ hasText: 'Signer added.' }).waitFor();
  const signers = page.getByTestId('signers');
  await signers.getByText('CN=Intranet Root CA').waitFor();
  await signers.getByText(caFingerprint).waitFor();
  await signers.scrollIntoViewIfNeeded();
  await H.screenshot(page, 'certificates-trusted');
  assert.match(simul('trust', 'list'), new RegExp(caFingerprint));

  // Retrieved again, the port is trusted now.
  await page.getByLabel('Host', { exact: true }).fill('127.0.0.1');
  await page.getByLabel('Port', { exact: true }).fill(String(address.port));
  await page.getByRole('button', { name: 'Retrieve' }).click();
  await page.getByTestId('retrieved').getByText('is trusted already').waitFor();
  assert.deepEqual(H.realErrors(errors), []);
  assert.deepEqual(await H.accessibilityProblems(page), []);
});
