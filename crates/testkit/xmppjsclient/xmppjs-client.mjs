// A scripted XMPP client on xmpp.js (@xmpp/client from npm, locked in
// e2e/package-lock.json), for Simul's tests: commands on stdin, one event
// a line on stdout (see crates/testkit/src/xmppjsclient.rs).
//
// Usage: node --input-type=module -e SOURCE JID PASSWORD HOST PORT starttls|direct any|PLAIN
// (run in e2e/, whose node_modules hold @xmpp/client; NODE_EXTRA_CA_CERTS
// names the server's certificate: xmpp.js checks it).

import { createInterface } from 'node:readline';
import { client, xml } from '@xmpp/client';

const [jid, password, host, port, mode, wanted] = process.argv.slice(1);
const [username, domain] = jid.split('@');

const say = (...parts) => console.log(parts.join(' ').replace(/\n/g, '\\n'));
const bare = (address) => (address ?? '').split('/')[0];
const resource = (address) => (address ?? '').split('/').slice(1).join('/');

const xmpp = client({
  service: `${mode === 'direct' ? 'xmpps' : 'xmpp'}://${host}:${port}`,
  domain,
  // Picks the mechanism (the first the server offers that xmpp.js knows,
  // unless told PLAIN) and reports it.
  credentials: async (authenticate, mechanisms) => {
    const mechanism = wanted === 'PLAIN' ? 'PLAIN' : mechanisms[0];
    try {
      await authenticate({ username, password }, mechanism);
    } catch (error) {
      say('FAILED_AUTH', mechanism, error.condition ?? error.message);
      throw error;
    }
    say('AUTH', mechanism);
  },
});
xmpp.reconnect.stop();

xmpp.on('error', (error) => say('ERROR', error.condition ?? error.message));
xmpp.on('offline', () => say('OFFLINE'));
xmpp.on('online', (address) => say('SESSION_START', address.toString()));

xmpp.iqCallee.set('jabber:iq:roster', 'query', (context) => {
  for (const item of context.element.getChildren('item')) say('ROSTER_PUSH', describeItem(item));
  return true;
});

xmpp.on('stanza', (stanza) => {
  const from = stanza.attrs.from;
  if (stanza.is('presence')) {
    const user = stanza.getChild('x', 'http://jabber.org/protocol/muc#user');
    if (user) {
      const item = user.getChild('item');
      const codes = user.getChildren('status').map((s) => s.attrs.code).sort().join(',');
      say('OCCUPANT', bare(from), resource(from), `type=${stanza.attrs.type ?? 'available'}`,
        `jid=${bare(item?.attrs.jid)}`, `codes=${codes}`);
      return;
    }
    say('PRESENCE', bare(from), `type=${stanza.attrs.type ?? 'available'}`,
      `show=${stanza.getChildText('show') ?? ''}`, `status=${stanza.getChildText('status') ?? ''}`);
  } else if (stanza.is('message')) {
    const invite = stanza.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('invite');
    if (invite) {
      say('INVITED', bare(from), `from=${bare(invite.attrs.from)}`);
    } else if (stanza.attrs.type === 'error') {
      const condition = stanza.getChild('error')?.children.find((c) => typeof c !== 'string');
      say('MESSAGE_ERROR', bare(from), condition?.name ?? '');
    } else if (stanza.attrs.type === 'groupchat') {
      const subject = stanza.getChildText('subject');
      const body = stanza.getChildText('body');
      if (subject !== null && body === null) say('SUBJECT', bare(from), subject);
      if (body !== null) {
        const delayed = stanza.getChild('delay', 'urn:xmpp:delay') ? ' (delayed)' : '';
        say('GROUPCHAT', bare(from), resource(from), body + delayed);
      }
    } else if (stanza.getChildText('body') !== null) {
      say('MESSAGE', bare(from), stanza.getChildText('body'));
    }
  }
});

/** A roster item as `jid name= groups= subscription=`. */
function describeItem(item) {
  const groups = item.getChildren('group').map((g) => g.text()).sort().join(',');
  return `${item.attrs.jid} name=${item.attrs.name ?? ''} groups=${groups} subscription=${item.attrs.subscription ?? 'none'}`;
}

const commands = {
  presence: ([show, ...status]) => {
    const children = [];
    if (show && show !== '-') children.push(xml('show', {}, show));
    if (status.length) children.push(xml('status', {}, status.join(' ')));
    return xmpp.send(xml('presence', {}, ...children));
  },
  message: ([to, ...text]) =>
    xmpp.send(xml('message', { to, type: 'chat' }, xml('body', {}, text.join(' ')))),
  roster: async () => {
    const query = await xmpp.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
    for (const item of query.getChildren('item')) say('ROSTER', describeItem(item));
    say('ROSTER_END');
  },
  join: ([room, nick]) =>
    xmpp.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' }))),
  groupchat: ([room, ...text]) =>
    xmpp.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, text.join(' ')))),
  leave: ([room, nick]) => xmpp.send(xml('presence', { to: `${room}/${nick}`, type: 'unavailable' })),
  quit: () => xmpp.stop(),
};

createInterface({ input: process.stdin }).on('line', async (line) => {
  if (!line) return;
  const [command, ...rest] = line.split(' ');
  try {
    if (!commands[command]) throw new Error(`unknown command ${command}`);
    await commands[command](rest);
  } catch (error) {
    say('IQ_ERROR', command, error.condition ?? error.message);
  }
}).on('close', () => xmpp.stop());

xmpp.start().catch(() => {
  // Reported by the credentials callback or the error event.
});
