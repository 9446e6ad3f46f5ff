// Screenshots of a lived-in deployment (eight people, two groups, statuses,
// unread messages, a conversation with a link): `node e2e/demo.mjs [light|dark]`
// after `cargo build -p simul`; writes target/e2e-artifacts/demo-*.png.
// Not a test (the test runner does not pick it up).

import * as H from './harness.mjs';
const people = [
  ['alice','Alice Archer'],['bob','Bob Baker'],['carol','Carol Clark'],['dave','Dave Dunn'],['erin','Erin Eckert'],
  ['frank','Frank Fischer'],['grace','Grace Goldberg-Hernández'],['heidi','Heidi Hoffmann'],
].map(([name, displayName]) => ({ name, displayName, mail: `${name}@example.com` }));
const server = await H.startServer(people);
const browser = await H.launchBrowser();
const scheme = process.argv[2] ?? 'light';
try {
  const { token } = await H.apiLogin(server.url, 'alice');
  await H.apiCall(server.url, token, 'PUT', '/api/v1/contacts', { groups: [
    { name: 'Product team', contacts: ['bob', 'carol', 'dave', 'grace'] },
    { name: 'Management', contacts: ['erin', 'frank', 'heidi'] },
  ] });
  const sessions = {};
  const statuses = { bob: ['dnd', 'Quarterly review until 3 pm'], carol: ['available', ''], dave: ['away', 'Back in 10'], erin: ['in_meeting', 'Board meeting'], grace: ['available', 'Working from Lisbon this week'] };
  for (const [name, [status, message]] of Object.entries(statuses)) {
    const p = await H.openPage(browser);
    await H.signIn(p.page, server.url, name);
    await p.page.evaluate(async ([status, message]) => {
      const me = await (await fetch('/api/v1/me')).json();
      await fetch('/api/v1/me/status', { method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token }, body: JSON.stringify({ status, message }) });
    }, [status, message]);
    sessions[name] = p;
  }
  const a = await H.openPage(browser, { ...H.DESKTOP, colorScheme: scheme });
  await H.signIn(a.page, server.url, 'alice');
  const say = async (who, text) => sessions[who].page.evaluate(async ([text]) => {
    const me = await (await fetch('/api/v1/me')).json();
    await fetch('/api/v1/im/alice', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token }, body: JSON.stringify({ text }) });
  }, [text]);
  const reply = async (to, text) => a.page.evaluate(async ([to, text]) => {
    const me = await (await fetch('/api/v1/me')).json();
    await fetch(`/api/v1/im/${to}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token }, body: JSON.stringify({ text }) });
  }, [to, text]);
  await say('carol', 'Morning! Did you see the new onboarding flow?');
  await reply('carol', 'Yes, looks great. A few notes on the second step though.');
  await reply('carol', 'The copy on the "Invite your team" screen is a bit long, and the skip link is hard to find.');
  await say('carol', 'Good catch. I put the mock-ups here: https://design.example.com/onboarding/v3');
  await say('carol', 'Can we go over them at 2?\nI have 30 minutes before the customer call.');
  await reply('carol', 'Works for me!');
  await say('grace', 'Quick question about the Lisbon offsite budget');
  await say('grace', 'Do we have numbers yet?');
  await say('dave', 'Pushed the fix for the login redirect.');
  await a.page.locator('li[data-contact="carol"] .row-main').click();
  await a.page.locator('.bubble', { hasText: 'Works for me' }).waitFor();
  await H.screenshot(a.page, `demo-${scheme}`);
  const ph = await H.openPage(browser, { ...H.PHONE, colorScheme: scheme });
  await H.signIn(ph.page, server.url, 'alice');
  await ph.page.locator('li[data-contact="grace"]').waitFor();
  await ph.page.locator('li[data-contact="grace"] .status-message', { hasText: 'Lisbon' }).waitFor();
  await H.screenshot(ph.page, `demo-phone-${scheme}`);
  await ph.page.locator('li[data-contact="carol"] .row-main').tap();
  await ph.page.locator('.bubble', { hasText: 'Works for me' }).waitFor();
  await H.screenshot(ph.page, `demo-phone-chat-${scheme}`);
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
  await server.stop();
}
