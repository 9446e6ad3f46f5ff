// @ts-check
// The client's state and a small change bus. Views subscribe to topics and
// update themselves; nothing here touches the DOM.

import { api } from './api.js';
import { OFFLINE } from './status.js';

/**
 * @typedef {import('./api.js').User} User
 * @typedef {import('./api.js').Presence} Presence
 * @typedef {import('./api.js').Card} Card
 * @typedef {import('./api.js').ContactGroup} ContactGroup
 *
 * @typedef {object} Message
 * @property {number} [id]        the server's id (later messages have higher ones)
 * @property {string} from
 * @property {string} text
 * @property {string} at          RFC 3339, or '' while sending
 * @property {'sent' | 'sending' | 'failed'} [state]
 * @property {number} [local]     id of a message this client sent, until confirmed
 * @property {boolean} [system]   a line such as "Carol joined"
 * @property {string} [error]     why it was not sent
 * @property {import('./api.js').FileInfo} [file]  the file it carries
 * @property {string} [edited]    when its author last edited it (RFC 3339)
 * @property {boolean} [deleted]  deleted by its author (the text is empty)
 * @property {{emoji: string, users: string[]}[]} [reactions]
 * @property {number} [rev]       bumped by every change after it was sent (redraws it)
 *
 * @typedef {object} Conversation
 * @property {string} key          'im:<user>' or 'nway:<id>'
 * @property {'im' | 'nway'} kind
 * @property {string} peer         the other user (1:1)
 * @property {number} chatId       the n-way chat id
 * @property {string} topic
 * @property {string[]} members    n-way members
 * @property {string[]} invited    people this client invited who have not joined
 * @property {Message[]} messages
 * @property {Set<string>} seen    keys of messages already shown
 * @property {number} unread
 * @property {boolean} typing      the peer is typing (1:1)
 * @property {'none' | 'loading' | 'loaded' | 'failed'} history
 * @property {boolean} truncated   the history has more than was loaded
 * @property {boolean} loadingEarlier  an earlier page is on its way
 * @property {number} readMark     the last message id the server knows this user read
 * @property {number} seenUpTo     the last message id the other person read (1:1, read receipts)
 * @property {boolean} ended       left, or removed from the chat
 * @property {string} draft
 * @property {number} lastActivity
 * @property {number} [found]      a message a search result opened, highlighted
 * @property {number} [historyFrom] the oldest id history pages brought (missed messages may be older)
 */

export const state = {
  /** @type {User | null} */
  me: null,
  /** @type {Map<string, Presence>} */
  presence: new Map(),
  /** @type {Map<string, Card & {missing?: boolean}>} */
  people: new Map(),
  /** @type {ContactGroup[]} */
  groups: [],
  /** Names this user gave their contacts, by user id. @type {Record<string, string>} */
  aliases: {},
  contactsLoaded: false,
  /** @type {Map<string, Conversation>} */
  conversations: new Map(),
  /** @type {string | null} */
  active: null,
  /** @type {import('./events.js').ConnectionState} */
  connection: /** @type {import('./events.js').ConnectionState} */ ('connecting'),
  /**
   * Pending n-way invitations: id → who and what. `from` is '' for one
   * found in the server's list (sent while this page was not connected),
   * which names the members instead.
   */
  /** @type {Map<number, {from: string, topic: string, members?: string[]}>} */
  invites: new Map(),
};

const bus = new EventTarget();

/**
 * Topics: 'presence' (user id), 'people' (user id), 'contacts',
 * 'conversation' (key; its messages or typing changed), 'conversations'
 * (list, unread counts), 'active', 'connection', 'me'.
 * @param {string} topic
 * @param {unknown} [detail]
 */
export function emit(topic, detail) {
  bus.dispatchEvent(new CustomEvent(topic, { detail }));
}

/**
 * @param {string} topic
 * @param {(detail: any) => void} handler
 * @returns {() => void} unsubscribe
 */
export function on(topic, handler) {
  /** @param {Event} e */
  const listener = (e) => handler(/** @type {CustomEvent} */ (e).detail);
  bus.addEventListener(topic, listener);
  return () => bus.removeEventListener(topic, listener);
}

/** Forgets everything (logout). */
export function reset() {
  state.me = null;
  state.presence.clear();
  state.people.clear();
  state.groups = [];
  state.contactsLoaded = false;
  state.conversations.clear();
  state.active = null;
  state.invites.clear();
}

/** @param {string} id */
export function presenceOf(id) {
  return state.presence.get(id) ?? OFFLINE;
}

/** @param {string} id */
export function isOnline(id) {
  return presenceOf(id).status !== 'offline';
}

/** @type {Map<string, Promise<void>>} */
const cardRequests = new Map();

/**
 * The name to show for a user: the alias this user gave them, else the
 * directory's display name once known.
 * @param {string} id
 */
export function displayName(id) {
  const alias = Object.hasOwn(state.aliases, id) ? state.aliases[id] : '';
  if (alias) return alias;
  const person = state.people.get(id);
  if (person) return person.display_name || id;
  ensurePerson(id);
  return id;
}

/**
 * Loads a user's business card once (display name, mail, title, ...).
 * Requests made in the same task go to the server as one batch call.
 * @param {string} id
 * @param {boolean} [force] load it again even if known
 */
export function ensurePerson(id, force = false) {
  const inFlight = cardRequests.get(id);
  if (inFlight) return inFlight;
  if (!force && state.people.has(id)) return Promise.resolve();
  const request = new Promise((resolve) => { pendingCards.set(id, resolve); });
  cardRequests.set(id, request);
  if (pendingCards.size === 1) queueMicrotask(requestPendingCards);
  return request;
}

/** Ids waiting for the next batch of cards, with what settles their promise. */
let pendingCards = new Map();
/** Ids per batch call: keeps the URL short (the server takes up to 500). */
const CARDS_PER_CALL = 200;

/** Sends the pending card requests, a batch call per CARDS_PER_CALL ids. */
function requestPendingCards() {
  const batch = pendingCards;
  pendingCards = new Map();
  const ids = [...batch.keys()];
  for (let start = 0; start < ids.length; start += CARDS_PER_CALL) {
    const chunk = ids.slice(start, start + CARDS_PER_CALL);
    api.cards(chunk).then(
      (cards) => {
        for (const id of chunk) {
          const card = cards[id];
          if (card) learnCard(id, card);
          // Unknown to the directory (or disabled): show the id.
          else state.people.set(id, { id, display_name: id, missing: true });
        }
      },
      // Network trouble: leave them unknown, a later call asks again.
      () => {},
    ).finally(() => {
      for (const id of chunk) {
        cardRequests.delete(id);
        batch.get(id)?.();
        emit('people', id);
      }
    });
  }
}

/**
 * Keeps a card, and the status it carries if none is known yet.
 * @param {string} id
 * @param {Card} card
 */
function learnCard(id, card) {
  state.people.set(id, card);
  if (!state.presence.has(id) && card.status) {
    state.presence.set(id, { status: card.status, message: card.message ?? '', idle: !!card.idle });
    emit('presence', id);
  }
}

/**
 * Adds what the directory search told us about people.
 * @param {{id: string, display_name: string, mail?: string | null}[]} entries
 */
export function rememberPeople(entries) {
  for (const entry of entries) {
    if (!state.people.has(entry.id)) {
      state.people.set(entry.id, { ...entry });
      emit('people', entry.id);
    }
  }
}

/** Everyone on the contact list, once each, in list order. */
export function allContacts() {
  return [...new Set(state.groups.flatMap((g) => g.contacts))];
}

/** @param {string} id */
export function isContact(id) {
  return state.groups.some((g) => g.contacts.includes(id));
}

/** @param {string} user */
export function imKey(user) {
  return `im:${user}`;
}

/** @param {number} id */
export function nwayKey(id) {
  return `nway:${id}`;
}

/**
 * The 1:1 conversation with a user, created on first use.
 * @param {string} user
 * @returns {Conversation}
 */
export function imConversation(user) {
  return conversationFor(imKey(user), 'im', (c) => { c.peer = user; });
}

/**
 * The n-way conversation with an id, created on first use.
 * @param {number} id
 * @returns {Conversation}
 */
export function nwayConversation(id) {
  return conversationFor(nwayKey(id), 'nway', (c) => { c.chatId = id; });
}

/**
 * The conversation under a key, created (and set up by `init`) on first use.
 * @param {string} key
 * @param {'im' | 'nway'} kind
 * @param {(c: Conversation) => void} init
 * @returns {Conversation}
 */
function conversationFor(key, kind, init) {
  let conversation = state.conversations.get(key);
  if (!conversation) {
    conversation = newConversation(key, kind);
    init(conversation);
    state.conversations.set(key, conversation);
  }
  return conversation;
}

/**
 * @param {string} key
 * @param {'im' | 'nway'} kind
 * @returns {Conversation}
 */
function newConversation(key, kind) {
  return {
    key, kind, peer: '', chatId: 0, topic: '', members: [], invited: [], messages: [],
    seen: new Set(), unread: 0, readMark: 0, seenUpTo: 0, typing: false, history: 'none', truncated: false, loadingEarlier: false,
    ended: false, draft: '',
    lastActivity: 0,
  };
}

/**
 * The identity of a delivered message, to drop the copies (echoes to this
 * client's own sessions, history overlapping live events).
 * @param {Message} m
 */
export function messageKey(m) {
  // The server's id names a message whatever became of its text since.
  if (m.id !== undefined) return `#${m.id}`;
  return `${m.from}\u0000${Date.parse(m.at)}\u0000${m.text}`;
}

/**
 * Adds a delivered message unless it is already there; a message this
 * client is still sending with the same text is confirmed instead.
 * @param {Conversation} conversation
 * @param {Message} message
 * @returns {'added' | 'confirmed' | 'duplicate'}
 */
export function addMessage(conversation, message) {
  const key = messageKey(message);
  if (conversation.seen.has(key)) {
    const known = message.id === undefined ? undefined : conversation.messages.find((m) => m.id === message.id);
    if (known) catchUp(known, message);
    return 'duplicate';
  }
  conversation.seen.add(key);
  if (message.from === state.me?.id) {
    const pending = conversation.messages.find((m) => m.state === 'sending' && m.text === message.text);
    if (pending) {
      pending.id = message.id;
      pending.at = message.at;
      pending.state = 'sent';
      return 'confirmed';
    }
  }
  insertInOrder(conversation.messages, { ...message, state: 'sent' });
  conversation.lastActivity = Math.max(conversation.lastActivity, Date.parse(message.at) || Date.now());
  return 'added';
}

/**
 * Brings a message shown here up to a copy the server sent later or with
 * more in it (the conversations list's copy carries no reactions; an
 * edit or deletion may have come while this page was away), never taking
 * back what a later event said.
 * @param {Message} known
 * @param {Message} copy
 */
function catchUp(known, copy) {
  const edited = copy.edited && (!known.edited || Date.parse(copy.edited) > Date.parse(known.edited));
  const more = edited || (copy.deleted && !known.deleted)
    || (copy.reactions?.length && !known.reactions?.length) || (copy.file && !known.file);
  if (!more) return;
  if (edited && !known.deleted) {
    known.text = copy.text;
    known.edited = copy.edited;
  }
  if (copy.deleted) {
    known.deleted = true;
    known.text = '';
  }
  known.reactions = known.reactions?.length ? known.reactions : copy.reactions;
  known.file = known.file ?? copy.file;
  known.rev = (known.rev ?? 0) + 1;
}

/**
 * Inserts in the order the server accepted them; messages still being
 * sent stay last.
 * @param {Message[]} list
 * @param {Message} message
 */
function insertInOrder(list, message) {
  let index = list.length;
  while (index > 0) {
    const before = list[index - 1];
    const settled = before.state !== 'sending' && before.state !== 'failed';
    if (settled && comesBefore(before, message)) break;
    index -= 1;
  }
  list.splice(index, 0, message);
}

/**
 * Whether `a` was accepted before `b`: by the server's ids when both have
 * one (two messages of the same millisecond keep their order), else by time.
 * @param {Message} a
 * @param {Message} b
 */
function comesBefore(a, b) {
  if (a.id !== undefined && b.id !== undefined) return a.id <= b.id;
  return Date.parse(a.at) <= Date.parse(b.at);
}

/** Unread messages over all conversations. */
export function totalUnread() {
  let total = 0;
  for (const c of state.conversations.values()) total += c.unread;
  return total;
}

/**
 * Preferences kept in this browser, per user.
 * @param {string} name
 * @param {any} fallback
 */
export function pref(name, fallback) {
  try {
    const raw = localStorage.getItem(`simul:${state.me?.id ?? ''}:${name}`);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

/**
 * @param {string} name
 * @param {any} value
 */
export function setPref(name, value) {
  try {
    localStorage.setItem(`simul:${state.me?.id ?? ''}:${name}`, JSON.stringify(value));
  } catch {
    // Private mode or quota: preferences are a convenience.
  }
}
