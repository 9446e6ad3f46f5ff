// Accessibility of the browser client (WCAG 2.2 AA): axe-core on every
// view, light and dark, desktop and phone; the contrast figures measured;
// focus, headings, accessible names; and the client defects found while
// using it (notifications, the phone's toasts, the composer, chat links,
// the status). Real server, real headless Chromium.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as H from './harness.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const USERS = [
  { name: 'alice', displayName: 'Alice Archer', mail: 'alice@example.com' },
  { name: 'bob', displayName: 'Bob Baker', mail: 'bob@example.com' },
  { name: 'carol', displayName: 'Carol Clark', mail: 'carol@example.com' },
  { name: 'dave', displayName: 'Dave Dunn', mail: 'dave@example.com' },
  { name: 'erin', displayName: 'Erin Evans', mail: 'erin@example.com' },
  { name: 'frank', displayName: 'Frank Fischer', mail: 'frank@example.com' },
  // On no one's list: their first message comes before their card.
  { name: 'gina', displayName: 'Gina Gray', mail: 'gina@example.com' },
  // Away while messages come: told in one notification at sign-in.
  { name: 'hal', displayName: 'Hal Hughes', mail: 'hal@example.com' },
];

const TOPIC = 'Quarterly planning for the northern region sales teams';


const { shared, scenario, open, opened } = H.suite(USERS, 'a11y-');

/** The pages axe checks: the CSP would refuse the injected script. */
const CHECKED = { bypassCSP: true, reducedMotion: /** @type {const} */ ('reduce') };

/**
 * The serious and critical axe-core violations of the page as it is, one
 * line each (empty: none).
 * @param {import('playwright-core').Page} page
 */
async function axeViolations(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  /** @type {{id: string, impact: string, help: string, nodes: {target: string[], failureSummary: string}[]}[]} */
  const violations = await page.evaluate(async () => (await /** @type {any} */ (window).axe.run(document, { resultTypes: ['violations'] })).violations);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`));
}

/**
 * The h1 elements a reader of the page can reach (rendered ones).
 * @param {import('playwright-core').Page} page
 */
function visibleH1s(page) {
  return page.evaluate(() => [...document.querySelectorAll('h1')]
    .filter((h) => h.checkVisibility({ visibilityProperty: true }))
    .map((h) => h.textContent));
}

/**
 * Checks a view in light and dark: no serious or critical axe violation,
 * one h1; and keeps screenshots of both.
 * @param {import('playwright-core').Page} page
 * @param {string} view
 */
async function checkView(page, view) {
  for (const colorScheme of /** @type {const} */ (['light', 'dark'])) {
    await page.emulateMedia({ colorScheme });
    await H.screenshot(page, `a11y-${view}-${colorScheme}`);
    assert.deepEqual(await axeViolations(page), [], `axe on ${view} (${colorScheme})`);
    assert.equal((await visibleH1s(page)).length, 1, `one h1 on ${view} (${colorScheme}): ${await visibleH1s(page)}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/**
 * Measures, in the page, contrast ratios (WCAG 2.x) of what `selectors`
 * name: text colour against the background behind it, or for status dots
 * their colour (the ring of an offline one) against what surrounds the
 * avatar. Translucent layers are composited. Returns the lowest ratio per
 * name (absent: nothing matched).
 * @param {import('playwright-core').Page} page
 * @param {Record<string, string>} selectors name → CSS selector; a name
 *   starting with `dot:` is a status dot, `placeholder:` an input's placeholder
 * @returns {Promise<Record<string, number>>}
 */
function contrasts(page, selectors) {
  return page.evaluate((selectors) => {
    /** @param {string} css @returns {number[]} r, g, b, a */
    const parse = (css) => {
      const m = /rgba?\(([\d.]+),? ([\d.]+),? ([\d.]+)(?:,? \/? ?([\d.]+%?))?\)/.exec(css);
      if (!m) throw new Error(`unexpected colour ${css}`);
      const alpha = m[4] === undefined ? 1 : m[4].endsWith('%') ? parseFloat(m[4]) / 100 : parseFloat(m[4]);
      return [Number(m[1]), Number(m[2]), Number(m[3]), alpha];
    };
    /** @param {number[]} top @param {number[]} below */
    const over = (top, below) => [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3])).concat(1);
    /** The opaque colour behind an element. @param {Element | null} el */
    const behind = (el) => {
      /** @type {number[][]} */
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c[3] > 0) layers.push(c);
        if (c[3] >= 1) break;
      }
      let color = [255, 255, 255, 1];
      if (layers.at(-1)?.[3] !== 1) color = parse(getComputedStyle(document.documentElement).backgroundColor || 'rgb(255, 255, 255)');
      for (const layer of layers.reverse()) color = over(layer, color);
      return color;
    };
    /** @param {number[]} c */
    const luminance = (c) => {
      const [r, g, b] = c.slice(0, 3).map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    /** @param {number[]} a @param {number[]} b */
    const ratio = (a, b) => {
      const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
      return Math.round(((x + 0.05) / (y + 0.05)) * 100) / 100;
    };
    /** @type {Record<string, number>} */
    const result = {};
    for (const [name, selector] of Object.entries(selectors)) {
      for (const el of document.querySelectorAll(selector)) {
        if (!el.checkVisibility({ visibilityProperty: true })) continue;
        let value;
        if (name.startsWith('dot:')) {
          const style = getComputedStyle(el);
          const ring = /(rgba?\([^)]*\))[^,]*inset/.exec(style.boxShadow);
          const own = ring && el.getAttribute('data-status') === 'offline' ? parse(ring[1]) : parse(style.backgroundColor);
          const around = behind(el.closest('.avatar')?.parentElement ?? el.parentElement);
          value = ratio(over(own, around), around);
        } else {
          const bg = behind(el);
          const fg = parse(name.startsWith('placeholder:') ? getComputedStyle(el, '::placeholder').color : getComputedStyle(el).color);
          value = ratio(over(fg, bg), bg);
        }
        result[name] = Math.min(result[name] ?? Infinity, value);
      }
    }
    return result;
  }, selectors);
}

/** What the contrast test measures in the signed-in views. */
const MEASURED = {
  'timestamp (their message)': '.theirs .bubble .meta time',
  'timestamp (own message)': '.mine .bubble .meta time',
  'status message (list)': '.contact-list .status-message',
  'status text (list)': '.contact-list .row-sub',
  'group count': '.group-count',
  'day separator': '.day span',
  'composer hint': '.composer-hint',
  'chat subtitle': '.chat-sub',
  'reaction': '.reaction',
  '"edited"': '.bubble .meta .edited',
  'read receipt': '.receipt',
  'placeholder: contact search': '#contact-filter',
  'placeholder: composer': '.composer-input',
  'dot:available': '.avatar .dot[data-status="available"]',
  'dot:away': '.avatar .dot[data-status="away"]',
  'dot:dnd': '.avatar .dot[data-status="dnd"]',
  'dot:in_meeting': '.avatar .dot[data-status="in_meeting"]',
  'dot:offline': '.avatar .dot[data-status="offline"]',
};

/**
 * Every accessible name of the page (Chromium's accessibility tree).
 * @param {import('playwright-core').Page} page
 * @returns {Promise<string[]>}
 */
async function accessibleNames(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    // Names of things, not the pieces of text they are made of.
    return nodes.filter((n) => !n.ignored && n.name?.value && !['StaticText', 'InlineTextBox'].includes(String(n.role?.value)))
      .map((n) => String(n.name?.value));
  } finally {
    await cdp.detach();
  }
}

/** @param {import('playwright-core').Page} page */
const focused = (page) => page.evaluate(() => {
  const el = /** @type {HTMLElement | null} */ (document.activeElement);
  return el ? `${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join('.')}[${el.dataset.focusKey ?? ''}]` : '';
});

/** @param {import('playwright-core').Page} page @param {string} id */
const row = (page, id) => page.locator(`.contact-list li[data-contact="${id}"]`);

/** Bearer tokens of the API, per user. @type {Map<string, string>} */
const tokens = new Map();
/** @param {string} user @param {string} method @param {string} route @param {unknown} [body] */
async function as(user, method, route, body) {
  if (!tokens.has(user)) tokens.set(user, (await H.apiLogin(shared.server.url, user)).token);
  return H.apiCall(shared.server.url, tokens.get(user) ?? '', method, route, body);
}

scenario('focus starts in the first field on the sign-in page and after signing in', async () => {
  await as('alice', 'PUT', '/api/v1/contacts', { groups: [{ name: 'Team', contacts: ['bob', 'carol', 'dave'] }] });
  const { page } = await open('alice');
  await page.goto(shared.server.url);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.match(await focused(page), /^input#login-user/);
  await page.keyboard.type('alice');
  await page.keyboard.press('Tab');
  await page.keyboard.type(H.passwordOf('alice'));
  await page.keyboard.press('Enter');
  await H.appReady(page);
  // Not lost on the body with the sign-in button that is gone.
  assert.match(await focused(page), /^input#contact-filter/);
});

scenario('a business card gives focus back to what opened it, also after the list re-rendered', async () => {
  // Bob and Carol online, with other statuses; Dave stays offline.
  const bob = await open('bob');
  await H.signIn(bob.page, shared.server.url, 'bob');
  await H.setStatus(bob.page, 'dnd', 'In a call until 3');
  const carol = await open('carol');
  await H.signIn(carol.page, shared.server.url, 'carol');
  await H.setStatus(carol.page, 'away', 'Lunch');
  const { page } = opened('alice');
  await row(page, 'bob').locator('.status-text', { hasText: 'Do not disturb' }).waitFor();
  await row(page, 'carol').locator('.status-text', { hasText: 'Away' }).waitFor();

  // From a contact's menu: the card's arrival re-renders the list.
  const menu = row(page, 'bob').getByRole('button', { name: 'Options for Bob Baker' });
  await menu.focus();
  await page.keyboard.press('Enter');
  await page.getByRole('menuitem', { name: 'Business card' }).click();
  const card = page.getByRole('dialog', { name: 'Business card' });
  await card.locator('.card-name', { hasText: 'Bob Baker' }).waitFor();
  await card.locator('.card-row', { hasText: 'bob@example.com' }).waitFor();
  await page.keyboard.press('Escape');
  await card.waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'button#.icon-btn.small.row-menu[menu:Team:bob]');

  // From the chat header: the Close button.
  await row(page, 'bob').locator('.row-main').click();
  const opener = page.getByRole('button', { name: 'Business card of Bob Baker' });
  await opener.click();
  await card.getByRole('button', { name: 'Close' }).first().waitFor();
  await card.locator('.modal-foot').getByRole('button', { name: 'Close' }).click();
  await card.waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'button#.icon-btn[card:bob]');
});

scenario('text has 4.5:1 and status dots 3:1 against their background, light and dark', async () => {
  const { page } = opened('alice');
  const bob = opened('bob');
  // Messages both ways, so both kinds of timestamp show.
  const chat = page.locator('.chat[data-conversation="im:bob"]');
  await chat.getByLabel('Message Bob Baker').fill('Are the slides ready?');
  await chat.getByLabel('Message Bob Baker').press('Enter');
  await as('bob', 'POST', '/api/v1/im/alice', { text: 'Nearly, ten more minutes.' });
  await chat.locator('.theirs .bubble', { hasText: 'Nearly' }).waitFor();
  await chat.locator('.mine .bubble[data-state="sent"]').waitFor();
  // Bob reacts, edits his answer and reads: reaction, "edited" and the receipt show too.
  /** @type {{id: number, from: string}[]} */
  const history = await as('bob', 'GET', '/api/v1/im/alice/history');
  const asked = history.find((m) => m.from === 'alice')?.id;
  const answered = history.find((m) => m.from === 'bob')?.id;
  const { reactions } = await as('bob', 'GET', '/api/v1/settings');
  await as('bob', 'PUT', `/api/v1/messages/${asked}/reactions`, { emoji: reactions[0], on: true });
  await as('bob', 'PATCH', `/api/v1/messages/${answered}`, { text: 'Nearly, five more minutes.' });
  await as('bob', 'POST', '/api/v1/conversations/read', { conversation: 'im:alice', up_to: answered });
  await chat.locator('.mine .reaction').waitFor();
  await chat.locator('.theirs .bubble .edited').waitFor();
  await chat.locator('.receipt').waitFor();
  await H.setStatus(bob.page, 'in_meeting', '');
  await row(page, 'bob').locator('.status-text', { hasText: 'In a meeting' }).waitFor();
  // Every status on the list: Erin available, Bob in a meeting, Carol away, Dave offline; and one Do not disturb.
  const erin = await open('erin');
  await H.signIn(erin.page, shared.server.url, 'erin');
  await as('alice', 'PUT', '/api/v1/contacts', { groups: [{ name: 'Team', contacts: ['bob', 'carol', 'dave', 'erin', 'frank'] }] });
  await page.reload();
  await H.appReady(page);
  await row(page, 'erin').locator('.status-text', { hasText: 'Available' }).waitFor();
  const frank = await open('frank');
  await H.signIn(frank.page, shared.server.url, 'frank');
  await H.setStatus(frank.page, 'dnd', '');
  await row(page, 'frank').locator('.status-text', { hasText: 'Do not disturb' }).waitFor();
  await row(page, 'bob').locator('.row-main').click();
  await chat.locator('.theirs .bubble', { hasText: 'Nearly' }).waitFor();
  // After the reload too: the receipt, and the edit mark the history brings.
  await chat.locator('.receipt').waitFor();
  await chat.locator('.theirs .bubble .edited').waitFor();

  /** @type {Record<string, Record<string, number>>} */
  const figures = {};
  for (const colorScheme of /** @type {const} */ (['light', 'dark'])) {
    await page.emulateMedia({ colorScheme });
    figures[colorScheme] = await contrasts(page, MEASURED);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  console.log('contrast ratios (lowest per item):');
  console.table(figures);
  for (const [scheme, measured] of Object.entries(figures)) {
    for (const [name, minimum] of Object.entries(MEASURED).map(([n]) => [n, n.startsWith('dot:') ? 3 : 4.5])) {
      assert.ok(measured[name] !== undefined, `${name} is on the page (${scheme})`);
      assert.ok(measured[name] >= /** @type {number} */ (minimum), `${name} in ${scheme}: ${measured[name]}:1 (needs ${minimum}:1)`);
    }
  }
});

scenario('every input shows a visible focus ring', async () => {
  const { page } = opened('alice');
  /** @param {string} what @param {import('playwright-core').Locator} input @param {string} [ringOn] */
  const ring = async (what, input, ringOn) => {
    await input.focus();
    const outline = await input.evaluate((el, ringOn) => {
      const target = ringOn ? /** @type {Element} */ (el.closest(ringOn)) : el;
      const style = getComputedStyle(target);
      return { style: style.outlineStyle, width: parseFloat(style.outlineWidth), color: style.outlineColor };
    }, ringOn);
    assert.equal(outline.style, 'solid', `${what}: a solid outline (${JSON.stringify(outline)})`);
    assert.ok(outline.width >= 2, `${what}: at least 2px (${outline.width})`);
  };
  await ring('contact search', page.locator('#contact-filter'));
  await ring('composer', page.locator('.composer-input'), '.composer-box');
  await page.locator('.status-button').click();
  await ring('status message', page.getByLabel('Status message', { exact: true }));
  await page.keyboard.press('Escape');
  await page.locator('.sidebar-tools').getByRole('button', { name: 'Add contact' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a contact' });
  await ring('directory search', dialog.getByLabel('Search the directory'));
  await ring('group picker', dialog.getByLabel('Group', { exact: true }));
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

scenario('accessible names have no stray spaces before punctuation', async () => {
  const { page } = opened('alice');
  const names = await accessibleNames(page);
  // (Upper case as shown: the heading style's text-transform.)
  assert.ok(names.some((n) => /^Team, 4 of 5 online$/i.test(n)), `the group toggle's name (${names.filter((n) => /^team/i.test(n))})`);
  assert.deepEqual(names.filter((n) => /\s[,.;:!?]|\s{2,}|^\s|\s$/.test(n)), []);
});

scenario('a status and its message are set in one step, and come back at the next sign-in', async () => {
  const { page } = opened('alice');
  await page.locator('.status-button').click();
  const panel = page.getByRole('dialog', { name: 'Set your status' });
  // The message field comes first and has focus: type, then pick the status.
  await page.keyboard.type('Back at 3');
  await panel.getByRole('button', { name: /^Away/ }).click();
  await panel.waitFor({ state: 'detached' });
  await page.locator('.status-button', { hasText: 'Away' }).locator('.status-msg', { hasText: 'Back at 3' }).waitFor();
  await page.getByRole('button', { name: 'Account: Alice Archer' }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.match(await focused(page), /^input#login-user/, 'the sign-in page after signing out starts in its first field');
  await H.signIn(page, shared.server.url, 'alice');
  await page.locator('.status-button[data-status="away"]').locator('.status-msg', { hasText: 'Back at 3' }).waitFor();
  // Others see it too: the server has it, not only this page.
  await H.eventually(async () => {
    const { alice } = await as('bob', 'GET', '/api/v1/awareness?user=alice');
    return alice.status === 'away' && alice.message === 'Back at 3';
  }, 'Alice away with her message, for Bob');
  await H.setStatus(page, 'available', '');
  await page.locator('.status-button[data-status="available"]').waitFor();
});

/**
 * A page allowed to notify, whose tab is in the background while
 * `window.hidden` (headless tabs are always "visible"), and which records
 * the notifications it shows in `window.shown` before showing them.
 * @param {string} who
 * @param {boolean} hidden the tab's state at first
 */
async function notifiedPage(who, hidden) {
  const opened = await open(who, { ...H.DESKTOP, permissions: ['notifications'] });
  await opened.context.addInitScript((hidden) => {
    const w = /** @type {any} */ (window);
    w.shown = [];
    w.hidden = hidden;
    Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (w.hidden ? 'hidden' : 'visible') });
    const Real = window.Notification;
    w.Notification = class extends Real {
      /** @param {string} title @param {NotificationOptions} [options] */
      constructor(title, options) {
        w.shown.push({ title, body: options?.body });
        super(title, options);
      }
    };
  }, hidden);
  return opened;
}

scenario('notifications name the sender, and none come during Do not disturb', async () => {
  const { page } = await notifiedPage('alice-notified', false);
  await H.signIn(page, shared.server.url, 'alice');
  await page.evaluate(() => { /** @type {any} */ (window).hidden = true; });
  const shown = () => page.evaluate(() => /** @type {{title: string, body: string}[]} */ (/** @type {any} */ (window).shown));

  await as('gina', 'POST', '/api/v1/im/alice', { text: 'Hello from Gina' });
  await H.eventually(async () => (await shown()).length === 1, 'a notification');
  assert.deepEqual(await shown(), [{ title: 'Gina Gray', body: 'Hello from Gina' }]);

  await H.setStatus(page, 'dnd', 'Focus time');
  await page.locator('.status-button[data-status="dnd"]').waitFor();
  await as('gina', 'POST', '/api/v1/im/alice', { text: 'Are you there?' });
  await page.locator('.row[data-chat="im:gina"] .badge[data-unread="2"]').waitFor();
  await H.setStatus(page, 'available', '');
  await page.locator('.status-button[data-status="available"]').waitFor();
  await as('gina', 'POST', '/api/v1/im/alice', { text: 'Never mind' });
  await H.eventually(async () => (await shown()).length === 2, 'the notification after Do not disturb');
  assert.deepEqual((await shown()).map((n) => n.body), ['Hello from Gina', 'Never mind'], 'nothing during Do not disturb');
});

scenario('messages that came while away are one notification at sign-in, naming the senders', async () => {
  await as('gina', 'POST', '/api/v1/im/hal', { text: 'Call me back' });
  await as('bob', 'POST', '/api/v1/im/hal', { text: 'Lunch?' });
  await as('gina', 'POST', '/api/v1/im/hal', { text: 'Urgent' });
  // A tab that signs in in the background (a reload while looking away).
  const { page } = await notifiedPage('hal', true);
  await H.signIn(page, shared.server.url, 'hal');
  const shown = () => page.evaluate(() => /** @type {{title: string, body: string}[]} */ (/** @type {any} */ (window).shown));
  await H.eventually(async () => (await shown()).length > 0, 'a notification');
  const [notification] = await shown();
  assert.equal(notification.title, 'Messages while you were away');
  assert.match(notification.body, /^From (Gina Gray, Bob Baker|Bob Baker, Gina Gray)$/);
  assert.equal((await shown()).length, 1, 'one notification, not one per message');
});

scenario('a chat opened from /stwebapi/chat names the person, not their id', async () => {
  const { page } = opened('carol');
  await page.goto(`${shared.server.url}/stwebapi/chat?userId=gina`);
  await H.appReady(page);
  const chat = page.locator('.chat[data-conversation="im:gina"]');
  await chat.getByRole('heading', { name: 'Gina Gray' }).waitFor();
  await chat.locator('.composer-note', { hasText: 'Gina Gray is offline.' }).waitFor();
  await page.getByRole('main', { name: 'Conversation with Gina Gray' }).waitFor();
  await page.locator('.row[data-chat="im:gina"] .row-name', { hasText: 'Gina Gray' }).waitFor();
  assert.doesNotMatch(await chat.innerText(), /\bgina\b/);
  assert.ok(!(await accessibleNames(page)).some((n) => /\bgina\b/.test(n)), 'no name says "gina"');
});

scenario('on a phone the invitation toast can be dismissed and leaves the contact list uncovered; the composer keeps one line', async () => {
  const { page } = await open('bob-phone', H.PHONE);
  await H.signIn(page, shared.server.url, 'bob');
  // On a touch screen focus starts at the top, without popping up a keyboard.
  assert.match(await focused(page), /^h1#\.brand-name/);
  const { id } = await as('alice', 'POST', '/api/v1/nway', { invite: ['bob'], topic: TOPIC });
  const toast = page.locator('.toast.invite', { hasText: 'Alice Archer invited you' });
  await toast.waitFor();
  const sidebar = await page.locator('.sidebar').boundingBox();
  const box = await toast.boundingBox();
  assert.ok(sidebar && box);
  assert.ok(box.y >= sidebar.y + sidebar.height - 0.5, `the toast (top ${box.y}) is below the list (bottom ${sidebar.y + sidebar.height})`);
  await H.screenshot(page, 'a11y-phone-invite-toast');
  await toast.getByRole('button', { name: 'Dismiss' }).tap();
  await toast.waitFor({ state: 'detached' });
  const invitation = page.locator(`.invite-row[data-invite="${id}"]`);
  await invitation.getByRole('button', { name: /^Accept/ }).tap();

  const chat = page.locator('.chat.group-chat');
  const composer = chat.locator('.composer-input');
  await composer.waitFor();
  assert.match(await composer.getAttribute('placeholder') ?? '', /Quarterly planning/);
  const height = () => composer.evaluate((el) => el.getBoundingClientRect().height);
  const empty = await height();
  await composer.fill('x');
  const oneLine = await height();
  assert.ok(Math.abs(empty - oneLine) < 1, `one line, empty (${empty}px) or not (${oneLine}px): the placeholder does not make it taller`);
  await composer.fill('');
  assert.equal(await height(), empty);
  await H.screenshot(page, 'a11y-phone-nway-composer');
});

/** The group chat the axe scenarios look at. */
let groupChat = 0;

/**
 * Goes through every view with axe-core, light and dark: sign-in, the
 * list, a 1:1 chat, a group chat, the business card, the add-contact
 * dialog, the status panel, the group chat dialog and the account menu.
 * @param {import('playwright-core').Page} page
 * @param {'desktop' | 'phone'} size
 */
async function checkEveryView(page, size) {
  await page.goto(shared.server.url);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await checkView(page, `${size}-sign-in`);
  await H.signIn(page, shared.server.url, 'alice');
  await row(page, 'carol').locator('.status-text', { hasText: 'Away' }).waitFor();
  await checkView(page, `${size}-main`);

  await row(page, 'bob').locator('.row-main').click();
  const chat = page.locator('.chat[data-conversation="im:bob"]');
  await chat.locator('.theirs .bubble', { hasText: 'Nearly' }).waitFor();
  await chat.locator('.mine .reaction').waitFor();
  await checkView(page, `${size}-chat`);
  // The message tools (inside the bubbles on a touch screen): icons need 3:1.
  for (const colorScheme of /** @type {const} */ (['light', 'dark'])) {
    await page.emulateMedia({ colorScheme });
    const { tools } = await contrasts(page, { tools: '.bubble .msg-tools .icon-btn' });
    assert.ok(tools >= 3, `message tools' icons in ${colorScheme} on ${size}: ${tools}:1`);
  }
  await page.emulateMedia({ colorScheme: 'light' });

  await chat.getByRole('button', { name: 'Business card of Bob Baker' }).click();
  const card = page.getByRole('dialog', { name: 'Business card' });
  await card.locator('.card-row', { hasText: 'bob@example.com' }).waitFor();
  await checkView(page, `${size}-card`);
  await page.keyboard.press('Escape');
  await card.waitFor({ state: 'detached' });

  if (size === 'phone') await chat.getByRole('button', { name: 'Back to contacts' }).click();
  await page.locator(`.row[data-chat="nway:${groupChat}"] .row-main`).click();
  const group = page.locator('.chat.group-chat');
  await group.locator('.theirs .bubble', { hasText: 'The agenda is in the invite.' }).waitFor();
  await checkView(page, `${size}-nway`);
  if (size === 'phone') {
    await group.getByRole('button', { name: /Participants/ }).click();
    await group.locator('.participants .person-name', { hasText: 'Carol Clark' }).waitFor({ state: 'visible' });
    await checkView(page, `${size}-nway-participants`);
    await group.getByRole('button', { name: 'Close participants' }).click();
    await group.getByRole('button', { name: 'Back to contacts' }).click();
  }

  await page.locator('.sidebar-tools').getByRole('button', { name: 'Add contact' }).click();
  const add = page.getByRole('dialog', { name: 'Add a contact' });
  await add.getByLabel('Search the directory').fill('gina');
  await add.locator('.result', { hasText: 'Gina Gray' }).click();
  await checkView(page, `${size}-add-contact`);
  await page.keyboard.press('Escape');
  await add.waitFor({ state: 'detached' });

  await page.locator('.status-button').click();
  await page.getByRole('dialog', { name: 'Set your status' }).waitFor();
  await checkView(page, `${size}-status`);
  await page.keyboard.press('Escape');

  await page.locator('.sidebar-tools').getByRole('button', { name: 'New group chat' }).click();
  const start = page.getByRole('dialog', { name: 'New group chat' });
  await start.locator('.pick', { hasText: 'Bob Baker' }).locator('input').check();
  await checkView(page, `${size}-new-group-chat`);
  await page.keyboard.press('Escape');
  await start.waitFor({ state: 'detached' });

  await page.getByRole('button', { name: 'Account: Alice Archer' }).click();
  await page.getByRole('menu', { name: 'Account' }).waitFor();
  await checkView(page, `${size}-user-menu`);
  await page.keyboard.press('Escape');
}

scenario('axe-core finds no serious or critical problem on any view, light and dark, on a desktop', async () => {
  ({ id: groupChat } = await as('alice', 'POST', '/api/v1/nway', { invite: ['bob', 'carol'], topic: 'Design review' }));
  await as('bob', 'POST', `/api/v1/nway/${groupChat}/join`);
  await as('carol', 'POST', `/api/v1/nway/${groupChat}/join`);
  await as('alice', 'POST', `/api/v1/nway/${groupChat}/messages`, { text: 'Shall we meet at ten?' });
  await as('carol', 'POST', `/api/v1/nway/${groupChat}/messages`, { text: 'The agenda is in the invite.' });
  // Carol's page went to a chat link meanwhile (a new session, available again).
  await H.setStatus(opened('carol').page, 'away', 'Lunch');
  const { page } = await open('alice-axe', { ...H.DESKTOP, ...CHECKED });
  await checkEveryView(page, 'desktop');
});

scenario('axe-core finds no serious or critical problem on any view, light and dark, on a phone', async () => {
  const { page } = await open('alice-axe-phone', { ...H.PHONE, ...CHECKED });
  await checkEveryView(page, 'phone');
});
