// Test harness: a throw-away Simul deployment (the binary built by cargo,
// never built here) and headless Chromium driven by playwright-core.

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
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
 *   signal: (sig: NodeJS.Signals) => void,
 *   stop: (options?: {keepData?: boolean, signal?: NodeJS.Signals}) => Promise<void>}} Server
 * @typedef {{url: string, ldapsUrl: string, ca: string, suffix: string, rootDn: string, rootPassword: string,
 *   modify: (ldif: string) => Promise<void>, stop: () => Promise<void>}} Slapd
 */

/** The server's environment: ours, with quiet logs. */
const SERVER_ENV = { ...process.env, SIMUL_LOG: 'warn' };

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();
/**
 * Children that clean up after themselves on SIGTERM (simul-test-slapd
 * stops its slapd then; SIGKILL would leave slapd running).
 * @type {WeakSet<import('node:child_process').ChildProcess>}
 */
const terminable = new WeakSet();
process.on('exit', () => {
  for (const child of children) child.kill(terminable.has(child) ? 'SIGTERM' : 'SIGKILL');
});

/**
 * Makes a data directory with these users and starts `simul serve` on a
 * free port. With no users the server creates `admin` itself. `dir` and
 * `port` start it again on the deployment of an earlier, stopped one.
 * `config` is a simul.toml to serve with (`--config`); no users are added
 * then (an LDAP directory has its own).
 * `env`: more `SIMUL_*` settings for the server.
 * @param {UserSpec[]} users
 * @param {{dir?: string, port?: number, config?: string, env?: Record<string, string>}} [options]
 * @returns {Promise<Server>}
 */
export async function startServer(users, options = {}) {
  if (!existsSync(BIN)) {
    throw new Error(`no Simul binary at ${BIN}: run \`cargo build -p simul\` first (or set SIMUL_BIN)`);
  }
  const dir = options.dir ?? await mkdtemp(path.join(tmpdir(), 'simul-e2e-'));
  const data = path.join(dir, 'data');
  for (const user of options.dir || options.config ? [] : users) {
    const pw = path.join(dir, `${user.name}.pw`);
    await writeFile(pw, `${user.password ?? passwordOf(user.name)}\n`, { mode: 0o600 });
    const args = ['user', 'add', user.name, '--display-name', user.displayName, '--password-file', pw, '--data', data];
    if (user.mail) args.push('--mail', user.mail);
    await run(BIN, args, { env: SERVER_ENV });
  }
  // No HTTPS: its default port (8443) would clash between deployments.
  const args = ['serve', '--data', data, '--http', `127.0.0.1:${options.port ?? 0}`, '--https', 'off'];
  if (options.config) args.push('--config', options.config);
  const child = spawn(BIN, args, {
    env: { ...SERVER_ENV, ...options.env },
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
    signal(sig) {
      child.kill(sig);
    },
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

/**
 * Starts the fixture slapd of simul-testkit (`simul-test-slapd`, built next
 * to the simul binary): the people of `crates/testkit/src/lib.rs`, with the
 * passwords `<uid>-secret`, and with `crowd`, that many more people
 * (`person000000`…). It runs until `stop()` closes its stdin.
 * @param {{crowd?: number}} [options]
 * @returns {Promise<Slapd>}
 */
export async function startSlapd({ crowd = 0 } = {}) {
  const bin = path.join(path.dirname(BIN), 'simul-test-slapd');
  if (!existsSync(bin)) {
    throw new Error(`no simul-test-slapd at ${bin}: run \`cargo build -p simul -p simul-testkit\` first`);
  }
  const child = spawn(bin, crowd ? ['--crowd', String(crowd)] : [], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  terminable.add(child);
  // Closing stdin after it exited must not crash the tests (EPIPE).
  child.stdin.on('error', () => {});
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (/** @type {Buffer} */ chunk) => {
    stderr += chunk.toString();
  });
  /** @type {{url: string, ldaps_url: string, ca: string, suffix: string, root_dn: string, root_password: string}} */
  let info;
  try {
    info = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`simul-test-slapd did not start in 20 s:\n${stderr}`)), 20_000);
      child.stdout.on('data', (/** @type {Buffer} */ chunk) => {
        stdout += chunk.toString();
        const end = stdout.indexOf('\n');
        if (end < 0) return;
        clearTimeout(timer);
        try {
          resolve(JSON.parse(stdout.slice(0, end)));
        } catch (e) {
          reject(new Error(`simul-test-slapd printed ${stdout.slice(0, end)}: ${e}`));
        }
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${bin}: ${e.message}`));
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`simul-test-slapd exited with ${code ?? signal}:\n${stderr}`));
      });
    });
  } catch (e) {
    child.kill('SIGTERM');
    children.delete(child);
    throw e;
  }
  const { url, root_dn: rootDn, root_password: rootPassword } = info;
  return {
    url,
    ldapsUrl: info.ldaps_url,
    ca: info.ca,
    suffix: info.suffix,
    rootDn,
    rootPassword,
    async modify(ldif) {
      const pending = run('ldapmodify', ['-x', '-H', url, '-D', rootDn, '-w', rootPassword], {
        env: { ...process.env, LDAPNOINIT: '1' },
      });
      pending.child.stdin?.end(ldif);
      try {
        await pending;
      } catch (e) {
        const failure = /** @type {{stderr?: string, message: string}} */ (e);
        throw new Error(`ldapmodify failed: ${failure.stderr || failure.message}\nLDIF:\n${ldif}`);
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.stdin.end();
        // slapd itself gets 10 s to stop.
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      children.delete(child);
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
 * Sets the status of the user signed in on `page` (their client's page),
 * as the client does (with the CSRF token of `GET /api/v1/me`).
 * @param {import('playwright-core').Page} page
 * @param {string} status
 * @param {string} message
 */
export function setStatus(page, status, message) {
  return page.evaluate(async ([status, message]) => {
    const me = await (await fetch('/api/v1/me')).json();
    const response = await fetch('/api/v1/me/status', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify({ status, message }),
    });
    if (!response.ok) throw new Error(`PUT /api/v1/me/status: ${response.status} ${await response.text()}`);
  }, [status, message]);
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

/**
 * What one test file shares: a server with `users` and a browser, started
 * before its first test and stopped after its last (`shared`, filled in
 * then), and its test book (see `testBook`).
 * @param {Parameters<typeof startServer>[0]} users
 * @param {string} prefix
 */
export function suite(users, prefix) {
  /** @type {{server: Server, browser: import('playwright-core').Browser}} */
  const shared = /** @type {any} */ ({});
  before(async () => {
    shared.server = await startServer(users);
    shared.browser = await launchBrowser();
  });
  after(async () => {
    await shared.browser?.close();
    await shared.server?.stop();
  });
  return { shared, ...testBook(() => shared.browser, prefix) };
}

/**
 * The pages of one test file, and its tests: each test leaves screenshots
 * of every open page when it fails (named `failed-PREFIX-TEST-WHO`).
 * @param {() => import('playwright-core').Browser} browser the file's browser, once launched
 * @param {string} prefix
 */
export function testBook(browser, prefix) {
  /** @type {Map<string, Awaited<ReturnType<typeof openPage>>>} */
  const pages = new Map();
  return {
    pages,
    /**
     * @param {string} name
     * @param {() => Promise<void>} body
     */
    scenario(name, body) {
      test(name, async () => {
        try {
          await body();
        } catch (error) {
          const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
          for (const [who, p] of pages) {
            await screenshot(p.page, `failed-${prefix}${slug}-${who}`).catch(() => {});
          }
          throw error;
        }
      });
    },
    /**
     * A new page for `who`.
     * @param {string} who
     * @param {import('playwright-core').BrowserContextOptions} [options]
     */
    async open(who, options) {
      const p = await openPage(browser(), options);
      pages.set(who, p);
      return p;
    },
    /**
     * The page an earlier test opened for `who`.
     * @param {string} who
     */
    opened(who) {
      const p = pages.get(who);
      if (!p) throw new Error(`${who}'s page is not open (did an earlier scenario fail?)`);
      return p;
    },
  };
}

/**
 * Console errors other than the expected 401 of the first GET /api/v1/me.
 * @param {string[]} errors
 */
export function realErrors(errors) {
  return errors.filter((e) => !/status of 401/.test(e));
}

/**
 * Adds a contact through the "Add contact" dialog.
 * @param {import('playwright-core').Page} page
 * @param {string} query
 * @param {string} displayName
 * @param {string} group
 * @param {string} [shoot] a screenshot of the dialog under this name
 */
export async function addContact(page, query, displayName, group, shoot = '') {
  await page.locator('.sidebar-tools').getByRole('button', { name: 'Add contact' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a contact' });
  await dialog.getByLabel('Search the directory').fill(query);
  await dialog.locator('.result', { hasText: displayName }).click();
  if (shoot) await screenshot(page, shoot);
  const select = dialog.getByLabel('Group', { exact: true });
  if (await select.locator('option', { hasText: group }).count()) {
    await select.selectOption({ label: group });
  } else {
    await select.selectOption({ label: 'New group…' });
    await dialog.getByLabel('New group name').fill(group);
  }
  await dialog.getByRole('button', { name: 'Add contact' }).click();
  await dialog.waitFor({ state: 'detached' });
}

/**
 * A static file server on a free loopback port: "another application's"
 * origin. `files` maps paths to their media type and body.
 * @param {Record<string, {type: string, body: string | Buffer}>} files
 * @returns {Promise<{url: string, port: number, stop: () => Promise<void>}>}
 */
export async function startStaticServer(files) {
  const { createServer } = await import('node:http');
  const server = createServer((request, response) => {
    const file = files[new URL(request.url ?? '/', 'http://x').pathname];
    response.writeHead(file ? 200 : 404, { 'Content-Type': file?.type ?? 'text/plain', 'Cache-Control': 'no-store' });
    response.end(file ? file.body : 'not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * A deployment on the fixture slapd (with `crowd` more people) and another
 * application's origin: a static server of `files`, in
 * `server.allowed_origins`. What the awareness and scale tests share.
 * @param {Record<string, {type: string, body: string}>} files
 * `serverToml`: more lines under `[server]`.
 * @param {{crowd?: number, prefix: string, serverToml?: string}} options
 */
export async function startWithOtherOrigin(files, { crowd = 0, prefix, serverToml = '' }) {
  const intranet = await startStaticServer(files);
  const slapd = await startSlapd({ crowd });
  const configDir = await mkdtemp(path.join(tmpdir(), prefix));
  const origins = `allowed_origins = [${JSON.stringify(intranet.url)}]`;
  const config = await writeLdapConfig(configDir, slapd, `${origins}\n${serverToml}`);
  const server = await startServer([], { config });
  return { intranet, slapd, configDir, server };
}

/**
 * Stops what `startWithOtherOrigin` started (the server as it is now: a
 * test may have restarted it), and the browser.
 * @param {{browser?: import('playwright-core').Browser, intranet?: {stop: () => Promise<void>},
 *   server?: Server, slapd?: Slapd, configDir?: string}} parts
 */
export async function stopWithOtherOrigin({ browser, intranet, server, slapd, configDir }) {
  await browser?.close();
  await intranet?.stop();
  await server?.stop();
  await slapd?.stop();
  if (configDir) await rm(configDir, { recursive: true, force: true });
}

/**
 * Writes `simul.toml` (and its bind password file) in `dir` for a
 * deployment on the fixture slapd, with `serverToml` lines under
 * `[server]`; returns the configuration's path.
 * @param {string} dir
 * @param {Slapd} slapd
 * @param {string} [serverToml]
 */
export async function writeLdapConfig(dir, slapd, serverToml = '') {
  const bindPassword = path.join(dir, 'bind.pw');
  await writeFile(bindPassword, `${slapd.rootPassword}\n`, { mode: 0o600 });
  const config = path.join(dir, 'simul.toml');
  // JSON strings are valid TOML basic strings.
  await writeFile(config, `[server]
${serverToml}

[directory]
kind = "ldap"
realm = "ldap.renovations.com:389"

[directory.ldap]
hosts = [${JSON.stringify(slapd.url)}]
bind_dn = ${JSON.stringify(slapd.rootDn)}
bind_password_file = ${JSON.stringify(bindPassword)}
base_dn = ${JSON.stringify(slapd.suffix)}
disabled_filter = "(employeeType=disabled)"
timeout_seconds = 2
`);
  return config;
}
