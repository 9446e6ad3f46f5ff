// Test harness: a throw-away Simul deployment (the binary built by cargo,
// never built here) and headless Chromium driven by playwright-core.

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const run = promisify(execFile);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACTS = path.join(ROOT, 'target', 'e2e-artifacts');
const BIN = path.resolve(ROOT, process.env.SIMUL_BIN ?? 'target/debug/simul');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** How long a condition may take to come true (ms). */
export const WAIT = 10_000;

/**
 * @typedef {{name: string, displayName: string, mail?: string, password?: string}} UserSpec
 * @typedef {{url: string, port: number, dir: string, output: () => string,
 *   stop: (options?: {keepData?: boolean, signal?: NodeJS.Signals}) => Promise<void>}} Server
 */

/** The server's environment: ours, with quiet logs. */
const SERVER_ENV = { ...process.env, SIMUL_LOG: 'warn' };

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Makes a data directory with these users and starts `simul serve` on a
 * free port. With no users the server creates `admin` itself. `dir` and
 * `port` start it again on the deployment of an earlier, stopped one.
 * @param {UserSpec[]} users
 * @param {{dir?: string, port?: number}} [options]
 * @returns {Promise<Server>}
 */
export async function startServer(users, options = {}) {
  if (!existsSync(BIN)) {
    throw new Error(`no Simul binary at ${BIN}: run \`cargo build -p simul\` first (or set SIMUL_BIN)`);
  }
  const dir = options.dir ?? await mkdtemp(path.join(tmpdir(), 'simul-e2e-'));
  const data = path.join(dir, 'data');
  for (const user of options.dir ? [] : users) {
    const pw = path.join(dir, `${user.name}.pw`);
    await writeFile(pw, `${user.password ?? passwordOf(user.name)}\n`, { mode: 0o600 });
    const args = ['user', 'add', user.name, '--display-name', user.displayName, '--password-file', pw, '--data', data];
    if (user.mail) args.push('--mail', user.mail);
    await run(BIN, args, { env: SERVER_ENV });
  }
  // No HTTPS: its default port (8443) would clash between deployments.
  const args = ['serve', '--data', data, '--http', `127.0.0.1:${options.port ?? 0}`, '--https', 'off'];
  const child = spawn(BIN, args, {
    env: SERVER_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simul serve did not start in 20 s:\n${output}`)), 20_000);
    const onData = (/** @type {Buffer} */ chunk) => {
      output += chunk.toString();
      const match = /Simul listening on (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`simul serve exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    dir,
    output: () => output,
    async stop({ keepData = false, signal = 'SIGTERM' } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      children.delete(child);
      if (!keepData) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** @param {string} name */
export function passwordOf(name) {
  return `${name}-secret-pw`;
}

/** Headless Chromium from the distribution (never a downloaded build). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

export const DESKTOP = { viewport: { width: 1280, height: 800 } };
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/**
 * A browser context and page that collect console errors and dialogs.
 * @param {import('playwright-core').Browser} browser
 * @param {import('playwright-core').BrowserContextOptions} [options]
 */
export async function openPage(browser, options = DESKTOP) {
  const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', colorScheme: 'light', ...options });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  /** @type {string[]} */
  const dialogs = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return { context, page, errors, dialogs };
}

/**
 * Signs in through the sign-in page.
 * @param {import('playwright-core').Page} page
 * @param {string} url
 * @param {string} user
 * @param {string} [password]
 */
export async function signIn(page, url, user, password = passwordOf(user)) {
  await page.goto(url);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await appReady(page);
}

/**
 * Waits for the signed-in app with a live event stream.
 * @param {import('playwright-core').Page} page
 */
export async function appReady(page) {
  await page.locator('.shell[data-connection="online"]').waitFor();
}

/**
 * Logs in over the API, as another application of the SSO domain would.
 * @param {string} url
 * @param {string} user
 * @returns {Promise<{token: string, csrf: string}>}
 */
export async function apiLogin(url, user) {
  const response = await fetch(`${url}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user, password: passwordOf(user) }),
  });
  if (!response.ok) throw new Error(`login of ${user} failed: ${response.status} ${await response.text()}`);
  const cookies = typeof response.headers.getSetCookie === 'function'
    ? response.headers.getSetCookie()
    : (response.headers.get('set-cookie') ?? '').split(/,(?=\s*\w+=)/);
  const cookie = cookies.map((c) => c.trim()).find((c) => c.startsWith('LtpaToken2='));
  if (!cookie) throw new Error('no LtpaToken2 cookie');
  const token = cookie.slice('LtpaToken2='.length).split(';')[0];
  const body = await response.json();
  return { token, csrf: body.csrf_token };
}

/**
 * A call with a bearer token (no CSRF needed).
 * @param {string} url
 * @param {string} token
 * @param {string} method
 * @param {string} route
 * @param {unknown} [body]
 */
export async function apiCall(url, token, method, route, body) {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Saves a screenshot under target/e2e-artifacts/.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), animations: 'disabled', caret: 'hide' });
}

/**
 * Polls until `check` returns a truthy value.
 * @template T
 * @param {() => Promise<T> | T} check
 * @param {string} what
 * @param {number} [timeout]
 * @returns {Promise<T>}
 */
export async function eventually(check, what, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Problems a person with a screen reader would hit: buttons and form fields
 * without a name, images without alt text, inline styles (the CSP forbids
 * them). Returns a list of descriptions.
 * @param {import('playwright-core').Page} page
 */
export function accessibilityProblems(page) {
  return page.evaluate(() => {
    /** @type {string[]} */
    const problems = [];
    const describe = (/** @type {Element} */ el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`;
    const named = (/** @type {Element} */ el) => {
      if ((el.getAttribute('aria-label') ?? '').trim()) return true;
      const by = el.getAttribute('aria-labelledby');
      if (by && by.split(' ').some((id) => document.getElementById(id)?.textContent?.trim())) return true;
      if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) {
        return [...(el.labels ?? [])].some((l) => l.textContent?.trim());
      }
      return !!el.textContent?.trim();
    };
    for (const el of document.querySelectorAll('button, [role="menuitem"], a[href], input:not([type="hidden"]), textarea, select')) {
      if (!named(el)) problems.push(`no accessible name: ${describe(el)}`);
    }
    for (const img of document.querySelectorAll('img')) {
      if (!img.hasAttribute('alt')) problems.push(`img without alt: ${describe(img)}`);
    }
    for (const el of document.querySelectorAll('[style]')) {
      if (el.getAttribute('style') && !['floating', 'composer-input'].some((c) => el.classList.contains(c))) {
        problems.push(`style attribute: ${describe(el)}`);
      }
    }
    return problems;
  });
}
