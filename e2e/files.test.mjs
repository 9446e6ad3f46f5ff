// Files in conversations, end to end: a real server and headless
// Chromium. A file sent with the picker and an image pasted or dropped
// into the conversation reach the other user, who downloads them (bytes
// and headers checked) and sees the image's preview; a third signed-in
// user is refused the same URLs. Run with `node --test e2e/files.test.mjs`
// after `cargo build -p simul`.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as H from './harness.mjs';

const USERS = [
  { name: 'alice', displayName: 'Alice Archer', mail: 'alice@example.com' },
  { name: 'bob', displayName: 'Bob Baker', mail: 'bob@example.com' },
  { name: 'carol', displayName: 'Carol Clark', mail: 'carol@example.com' },
];

// A 2×2 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
  'base64',
);
// A name that would be markup if the client wrote it as HTML.
const HTML_NAME = 'notes <img src=x onerror=alert(1)> "q3".html';
const HTML_BYTES = Buffer.from('<!doctype html><script>alert(document.cookie)</script>');


const { shared, scenario, open, opened } = H.suite(USERS, 'files-');

/**
 * Signs `user` in and opens the conversation with `peer`.
 * @param {string} user @param {string} peer
 */
async function chatWith(user, peer) {
  const who = await open(user);
  await H.signIn(who.page, shared.server.url, user);
  await who.page.goto(`${shared.server.url}/stwebapi/chat?userId=${peer}`);
  await H.appReady(who.page);
  const chat = who.page.locator(`section.chat[data-conversation="im:${peer}"]`);
  await chat.waitFor();
  return { ...who, chat };
}

/**
 * Fetches `url` in the page (with its cookies): status, headers, bytes.
 * @param {import('playwright-core').Page} page @param {string} url
 */
function fetchIn(page, url) {
  return page.evaluate(async (url) => {
    const response = await fetch(url);
    const bytes = [...new Uint8Array(await response.arrayBuffer())];
    return { status: response.status, headers: Object.fromEntries(response.headers), bytes };
  }, url);
}

scenario('a file picked by one user is downloaded by the other and refused to a third', async () => {
  const alice = await chatWith('alice', 'bob');
  const bob = await chatWith('bob', 'alice');
  const carol = await open('carol');
  await H.signIn(carol.page, shared.server.url, 'carol');

  // The attach button works from the keyboard and opens the picker.
  const attach = alice.chat.getByRole('button', { name: 'Attach a file' });
  await alice.page.bringToFront();
  // Focus and Enter in one step: the chat that just opened gives the
  // composer focus by itself, which a separate focus() could lose to.
  const [chooser] = await Promise.all([alice.page.waitForEvent('filechooser'), attach.press('Enter')]);
  await chooser.setFiles({ name: HTML_NAME, mimeType: 'text/html', buffer: HTML_BYTES });

  // Bob sees a card: the name as text (no element made of it), the size.
  const card = bob.chat.locator('.file-card', { hasText: 'notes' });
  await card.waitFor();
  assert.equal(await card.locator('.file-name').innerText(), HTML_NAME);
  assert.equal(await card.locator('.file-size').innerText(), `${HTML_BYTES.length} bytes`);
  assert.equal(await bob.page.locator('.file-card img').count(), 0, 'no image made of the name, no preview of HTML');
  await alice.chat.locator('.file-card', { hasText: 'notes' }).waitFor();

  // A real download through the link: the bytes as sent.
  const link = card.getByRole('link', { name: /notes .*download/ });
  const [download] = await Promise.all([bob.page.waitForEvent('download'), link.click()]);
  assert.deepEqual(await readFile(await download.path()), HTML_BYTES);
  assert.equal(download.suggestedFilename().endsWith('.html'), true);

  // HTML is served as a download that no browser renders or sniffs.
  const url = /** @type {string} */ (await link.getAttribute('href'));
  assert.match(url, /^\/api\/v1\/files\/[0-9a-f]{32}$/);
  const got = await fetchIn(bob.page, url);
  assert.equal(got.status, 200);
  assert.deepEqual(Buffer.from(got.bytes), HTML_BYTES);
  assert.equal(got.headers['content-type'], 'application/octet-stream');
  assert.equal(got.headers['x-content-type-options'], 'nosniff');
  assert.equal(got.headers['content-security-policy'], "sandbox; default-src 'none'");
  assert.match(got.headers['content-disposition'], /^attachment; filename="notes <img src=x onerror=alert\(1\)> _q3_.html"; filename\*=UTF-8''notes%20%3Cimg/);

  // Carol, signed in but not in the conversation, gets what a wrong id gets.
  const refused = await fetchIn(carol.page, url);
  const unknown = await fetchIn(carol.page, '/api/v1/files/00000000000000000000000000000000');
  assert.equal(refused.status, 404);
  assert.deepEqual(refused.bytes, unknown.bytes);

  assert.deepEqual(H.realErrors(alice.errors), []);
  assert.deepEqual(H.realErrors(bob.errors), []);
});

scenario('a pasted image and a dropped file arrive with a preview; an image is refused to others', async () => {
  const { page: alicePage } = opened('alice');
  const { page: bobPage, errors: bobErrors } = opened('bob');
  const { page: carolPage } = opened('carol');
  const bobChat = bobPage.locator('section.chat[data-conversation="im:alice"]');

  // Paste an image into Alice's composer, as a screenshot tool would.
  await alicePage.evaluate((bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'screenshot.png', { type: 'image/png' }));
    const composer = /** @type {HTMLElement} */ (document.querySelector('section.chat .composer-input'));
    composer.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, [...PNG]);
  const preview = bobChat.locator('img.file-preview[alt="screenshot.png"]');
  await preview.waitFor();
  await H.eventually(() => preview.evaluate((img) => /** @type {HTMLImageElement} */ (img).complete
    && /** @type {HTMLImageElement} */ (img).naturalWidth === 2), 'the preview loaded');
  assert.equal(await preview.getAttribute('loading'), 'lazy');
  const box = await preview.boundingBox();
  assert.ok(box && box.width <= 240 && box.height <= 240, `bounded: ${JSON.stringify(box)}`);
  const src = /** @type {string} */ (await preview.getAttribute('src'));
  const image = await fetchIn(bobPage, src);
  assert.equal(image.headers['content-type'], 'image/png');
  assert.match(image.headers['content-disposition'], /^attachment; filename="screenshot.png"/);
  assert.deepEqual(Buffer.from(image.bytes), PNG);
  assert.equal((await fetchIn(carolPage, src)).status, 404);
  await H.screenshot(bobPage, 'files-preview');

  // Drop a file onto Alice's conversation.
  await alicePage.evaluate(() => {
    const data = new DataTransfer();
    data.items.add(new File(['dropped bytes'], 'résumé.txt', { type: 'text/plain' }));
    const chat = /** @type {HTMLElement} */ (document.querySelector('section.chat'));
    chat.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
    chat.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  });
  const dropped = bobChat.locator('.file-card', { hasText: 'résumé.txt' });
  await dropped.waitFor();
  const href = /** @type {string} */ (await dropped.locator('a.file-name').getAttribute('href'));
  const got = await fetchIn(bobPage, href);
  assert.equal(Buffer.from(got.bytes).toString(), 'dropped bytes');
  assert.match(got.headers['content-disposition'], /filename="r_sum_.txt"; filename\*=UTF-8''r%C3%A9sum%C3%A9.txt$/);

  // After a reload, history brings the cards back.
  await bobPage.reload();
  await H.appReady(bobPage);
  await bobPage.locator('img.file-preview[alt="screenshot.png"]').waitFor();
  await bobPage.locator('.file-card', { hasText: 'résumé.txt' }).waitFor();
  assert.deepEqual(H.realErrors(bobErrors), []);
});

scenario('a file over the size limit is refused with a clear message before it is sent', async () => {
  const { page } = opened('alice');
  const big = Buffer.alloc(25 * 1024 * 1024 + 1, 7);
  await page.locator('section.chat .file-input').setInputFiles({ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: big });
  const alert = page.getByRole('alert').filter({ hasText: 'huge.bin is too large' });
  await alert.waitFor();
  assert.match(await alert.innerText(), /at most 25 MB/);
  assert.equal(await page.locator('.file-card', { hasText: 'huge.bin' }).count(), 0);
});
