// @ts-check
// What the user does and what the server tells: the state changes behind
// the views, the calls to the API and the commands on the event stream.

import { ApiError, api } from './api.js';
import { notify, updateTitle } from './notify.js';
import { STATUS } from './status.js';
import {
  addMessage, allContacts, displayName, emit, ensurePerson, imConversation, isContact,
  messageKey, nwayConversation, nwayKey, pref, setPref, state,
} from './store.js';
import { applyChange, loadSettings } from './message-tools.js';
import { announce, toast } from './ui.js';

/**
 * @typedef {import('./store.js').Conversation} Conversation
 * @typedef {import('./store.js').Message} Message
 * @typedef {import('./api.js').StatusName} StatusName
 * @typedef {import('./api.js').ContactGroup} ContactGroup
 * @typedef {import('./events.js').ServerEvent} ServerEvent
 */

/** @type {import('./events.js').EventStream | null} */
let stream = null;

/** @param {import('./events.js').EventStream | null} s */
export function setStream(s) {
  stream = s;
}

/**
 * Moves the live session to the current sign-in (after a password change
 * the server ends the socket opened with the old one).
 */
export function renewStream() {
  stream?.renew();
}

/** Users this page watches (re-sent on every reconnect). */
const watched = new Set();

/** Ids per watch command (a command is at most 64 KiB: 200 DNs fit well). */
const WATCH_BATCH = 200;

/**
 * Follows users' presence.
 * @param {string[]} users
 */
export function watch(users) {
  const fresh = users.filter((u) => u && !watched.has(u));
  for (const u of fresh) watched.add(u);
  for (let i = 0; i < fresh.length; i += WATCH_BATCH) stream?.send({ type: 'watch', users: fresh.slice(i, i + WATCH_BATCH) });
}


/** @param {string[]} users */
function unwatch(users) {
  const gone = users.filter((u) => watched.has(u) && u !== state.me?.id);
  for (const u of gone) watched.delete(u);
  if (gone.length) stream?.send({ type: 'unwatch', users: gone });
}

/** Whether the user is looking at this conversation right now. */
function looking(/** @type {Conversation} */ conversation) {
  return state.active === conversation.key && document.visibilityState === 'visible';
}

/**
 * Opens a conversation in the main pane (null: none).
 * @param {string | null} key
 */
export function openConversation(key) {
  stopTyping();
  state.active = key;
  // A reload comes back to the same 1:1 chat (group chats do not survive one).
  try {
    if (key?.startsWith('im:')) sessionStorage.setItem(`simul:${state.me?.id}:active`, key);
    else sessionStorage.removeItem(`simul:${state.me?.id}:active`);
  } catch {
    // Storage may be off; only a convenience.
  }
  const conversation = key ? state.conversations.get(key) : undefined;
  if (conversation) {
    markRead(conversation);
    if (conversation.kind === 'im') {
      ensurePerson(conversation.peer);
      watch([conversation.peer]);
      if (conversation.history === 'none' || conversation.history === 'failed') loadHistory(conversation);
    }
  }
  emit('active', key);
}

/**
 * Opens the chat a link asked for (`/?chat=ID`, where `/stwebapi/chat`
 * sends other applications' "chat" links), else reopens the 1:1 chat that
 * was open before a reload.
 */
export function restoreConversation() {
  const asked = new URLSearchParams(location.search).get('chat');
  if (asked) {
    history.replaceState(null, '', location.pathname);
    if (asked !== state.me?.id) return openChatWith(asked);
  }
  let key = null;
  try {
    key = sessionStorage.getItem(`simul:${state.me?.id}:active`);
  } catch {
    return;
  }
  if (key?.startsWith('im:') && !state.active) openChatWith(key.slice(3));
}

/** @param {string} user */
export function openChatWith(user) {
  imConversation(user);
  openConversation(`im:${user}`);
}

/** @param {Conversation} conversation */
export function markRead(conversation) {
  tellRead(conversation);
  if (conversation.unread === 0) return;
  conversation.unread = 0;
  emit('conversations');
  updateTitle();
}

/** The newest message id a conversation shows (0: none yet). */
function newestId(/** @type {Conversation} */ conversation) {
  return conversation.messages.reduce((max, m) => Math.max(max, m.id ?? 0), 0);
}

/**
 * Tells the server (soon: a busy chat makes one request a second) that
 * the user read the conversation up to its newest message, so that their
 * other devices stop counting it.
 * @param {Conversation} conversation
 */
function tellRead(conversation) {
  if (newestId(conversation) <= conversation.readMark || readTimers.has(conversation.key)) return;
  readTimers.set(conversation.key, setTimeout(() => {
    readTimers.delete(conversation.key);
    const upTo = newestId(conversation);
    if (upTo <= conversation.readMark) return;
    conversation.readMark = upTo;
    api.markRead(conversation.key, upTo).catch(() => { conversation.readMark = 0; });
  }, 1000));
}

/** @type {Map<string, ReturnType<typeof setTimeout>>} conversation key → pending read mark */
const readTimers = new Map();

/** @type {Map<string, number>} conversation key → read mark heard before the conversation was listed here */
const readBeforeListed = new Map();

/**
 * Brings the unread counts in line with the server's list of this user's
 * conversations (what they read on any device), and lists the 1:1
 * conversations this page does not show yet, with their latest message.
 */
export async function syncConversations() {
  /** @type {import('./api.js').ConversationListing[]} */
  let listed;
  try {
    listed = await api.conversations();
  } catch {
    return; // The next "ready" asks again.
  }
  /** Conversations with more unread than this page knew: news of the time away. @type {Conversation[]} */
  const news = [];
  for (const entry of listed) {
    const conversation = entry.with !== undefined
      ? imConversation(entry.with)
      : entry.member === false ? pastChat(entry) : state.conversations.get(nwayKey(entry.chat ?? 0));
    if (!conversation) continue; // A chat syncChats has not brought in yet.
    conversation.readMark = Math.max(conversation.readMark, readBeforeListed.get(conversation.key) ?? 0);
    readBeforeListed.delete(conversation.key);
    if (entry.last) {
      addMessage(conversation, entry.last);
      conversation.lastActivity = Math.max(conversation.lastActivity, Date.parse(entry.last.at) || 0);
      if (entry.with !== undefined && !isContact(entry.with)) ensurePerson(entry.with);
    }
    if (entry.seen && entry.seen > conversation.seenUpTo) {
      conversation.seenUpTo = entry.seen;
      emit('conversation', conversation.key); // an open chat shows the receipt
    }
    if (looking(conversation)) markRead(conversation);
    // A list older than a read mark this page has since heard of (read on
    // another device while the list was on its way) yields to the mark.
    else if ((entry.last?.id ?? 0) <= conversation.readMark) conversation.unread = 0;
    // A list older than a message this page has since counted keeps it.
    else if (newestId(conversation) > (entry.last?.id ?? 0)) conversation.unread = Math.max(conversation.unread, entry.unread);
    else {
      if (entry.unread > conversation.unread) news.push(conversation);
      conversation.unread = entry.unread;
    }
  }
  emit('conversations');
  updateTitle();
  // One notification for what came while away (where allowed: the page
  // hidden, notifications on, not Do not disturb), not one per message.
  if (news.length) {
    whenNamed(news.filter((c) => c.kind === 'im').map((c) => c.peer)).then(() => {
      const names = news.map((c) => (c.kind === 'im' ? displayName(c.peer) : c.topic || 'a group chat'));
      notify({
        title: 'Messages while you were away',
        body: `From ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`,
        tag: 'missed',
        onClick: () => openConversation(news[0].key),
      });
    });
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible' || !state.active) return;
  const conversation = state.conversations.get(state.active);
  if (conversation) markRead(conversation);
});

/** @param {Conversation} conversation */
export async function loadHistory(conversation) {
  conversation.history = 'loading';
  emit('conversation', conversation.key);
  try {
    const messages = conversation.kind === 'im'
      ? await api.history(conversation.peer)
      : await api.chatHistory(conversation.chatId);
    for (const m of messages) addMessage(conversation, m);
    conversation.truncated = messages.length >= HISTORY_LIMIT;
    conversation.historyFrom = messages[0]?.id;
    conversation.history = 'loaded';
  } catch {
    conversation.history = 'failed';
  }
  emit('conversation', conversation.key);
  emit('conversations');
}

let localIds = 0;

/** Messages one history call returns at most (the server's limit). */
const HISTORY_LIMIT = 200;

/**
 * Loads the page of history before the oldest message shown (scrolling
 * back); nothing when everything is there or a page is on its way.
 * @param {Conversation} conversation
 */
export async function loadEarlier(conversation) {
  if (!conversation.truncated || conversation.loadingEarlier) return;
  // Missed messages can be older than the history loaded: page on from the history.
  const oldest = conversation.historyFrom ?? conversation.messages.reduce(
    (min, m) => (m.id !== undefined && m.id < min ? m.id : min), Number.POSITIVE_INFINITY);
  if (!Number.isFinite(oldest)) return;
  conversation.loadingEarlier = true;
  emit('conversation', conversation.key);
  try {
    const messages = conversation.kind === 'im'
      ? await api.history(conversation.peer, oldest)
      : await api.chatHistory(conversation.chatId, oldest);
    for (const m of messages) addMessage(conversation, m);
    conversation.truncated = messages.length >= HISTORY_LIMIT;
    conversation.historyFrom = messages[0]?.id ?? conversation.historyFrom;
  } catch (error) {
    reportError('Earlier messages could not be loaded', error);
  } finally {
    conversation.loadingEarlier = false;
    emit('conversation', conversation.key);
  }
}

/**
 * Sends a message in a conversation; it shows at once as "sending".
 * @param {Conversation} conversation
 * @param {string} text
 */
export async function sendMessage(conversation, text) {
  const me = state.me?.id ?? '';
  /** @type {Message} */
  const message = { from: me, text, at: '', state: 'sending', local: ++localIds };
  conversation.messages.push(message);
  conversation.lastActivity = Date.now();
  emit('conversation', conversation.key);
  emit('conversations');
  if (conversation.kind === 'im') stopTyping();
  try {
    const answer = conversation.kind === 'im'
      ? await api.sendIm(conversation.peer, text)
      : await api.chatMessage(conversation.chatId, text);
    if (message.state === 'sending') {
      message.id = answer.id;
      message.at = answer.at;
      message.state = 'sent';
    }
    conversation.seen.add(messageKey({ id: answer.id, from: me, text, at: answer.at }));
  } catch (e) {
    message.state = 'failed';
    message.error = failureText(e);
    if (e instanceof ApiError && conversation.kind === 'nway' && (e.status === 403 || e.status === 404)) {
      endChat(conversation, 'You are no longer in this chat.');
    }
  }
  emit('conversation', conversation.key);
}

/** @param {unknown} e */
function failureText(e) {
  if (!(e instanceof ApiError)) return 'Not sent';
  if (e.status === 413) return 'Not sent: too long';
  if (e.status === 0) return 'Not sent: no connection';
  return `Not sent: ${e.message}`;
}

/**
 * Sends a failed message again.
 * @param {Conversation} conversation
 * @param {Message} message
 */
export function retryMessage(conversation, message) {
  conversation.messages = conversation.messages.filter((m) => m !== message);
  sendMessage(conversation, message.text);
}

/** @type {{to: string, timer: ReturnType<typeof setTimeout>} | null} */
let typingSent = null;

/**
 * Tells the peer that the user is typing (repeated calls keep it alive;
 * it stops after a pause).
 * @param {string} to
 */
export function typing(to) {
  if (typingSent && typingSent.to !== to) stopTyping();
  if (!typingSent) {
    if (!stream?.send({ type: 'typing', to, typing: true })) return;
    typingSent = { to, timer: setTimeout(stopTyping, 4000) };
  } else {
    clearTimeout(typingSent.timer);
    typingSent.timer = setTimeout(stopTyping, 4000);
  }
}

export function stopTyping() {
  if (!typingSent) return;
  clearTimeout(typingSent.timer);
  stream?.send({ type: 'typing', to: typingSent.to, typing: false });
  typingSent = null;
}

/* ---------- Contact list ---------- */

/**
 * Saves a new contact list; the view shows it at once and goes back if the
 * server refuses. Without `aliases` the server keeps those it has.
 * @param {ContactGroup[]} groups
 * @param {Record<string, string>} [aliases]
 * @returns {Promise<void>}
 */
export async function saveContacts(groups, aliases) {
  const before = { groups: state.groups, aliases: state.aliases };
  state.groups = groups;
  if (aliases) state.aliases = aliases;
  emit('contacts');
  try {
    const saved = await api.putContacts(aliases ? { groups, aliases } : { groups });
    state.groups = saved.groups;
    state.aliases = saved.aliases ?? {};
  } catch (e) {
    state.groups = before.groups;
    state.aliases = before.aliases;
    emit('contacts');
    throw e;
  }
  const contacts = allContacts();
  watch(contacts);
  for (const id of contacts) ensurePerson(id);
  emit('contacts');
}

/** @param {ContactGroup[]} groups */
function copy(groups) {
  return groups.map((g) => ({ name: g.name, contacts: [...g.contacts] }));
}

/**
 * @param {string} id
 * @param {string} groupName
 */
export async function addContact(id, groupName) {
  const groups = copy(state.groups);
  putInGroup(groups, id, groupName);
  await saveContacts(groups);
}

/**
 * Adds a contact to a group of `groups`, creating the group if needed.
 * @param {ContactGroup[]} groups
 * @param {string} id
 * @param {string} groupName
 */
function putInGroup(groups, id, groupName) {
  let group = groups.find((g) => g.name === groupName);
  if (!group) {
    group = { name: groupName, contacts: [] };
    groups.push(group);
  }
  if (!group.contacts.includes(id)) group.contacts.push(id);
}

/**
 * Gives a contact a name of this user's choosing; an empty one goes back
 * to the directory's name.
 * @param {string} id
 * @param {string} alias
 */
export async function renameContact(id, alias) {
  const aliases = { ...state.aliases };
  if (alias) aliases[id] = alias;
  else delete aliases[id];
  await saveContacts(copy(state.groups), aliases);
}

/**
 * @param {string} id
 * @param {string} groupName
 */
export async function removeContact(id, groupName) {
  const groups = copy(state.groups);
  const group = groups.find((g) => g.name === groupName);
  if (group) group.contacts = group.contacts.filter((c) => c !== id);
  await saveContacts(groups);
  if (!isContact(id) && state.active !== `im:${id}`) unwatch([id]);
}

/**
 * @param {string} id
 * @param {string} from
 * @param {string} to
 */
export async function moveContact(id, from, to) {
  const groups = copy(state.groups);
  const source = groups.find((g) => g.name === from);
  if (source) source.contacts = source.contacts.filter((c) => c !== id);
  putInGroup(groups, id, to);
  await saveContacts(groups);
}

/**
 * @param {string} oldName
 * @param {string} newName
 */
export async function renameGroup(oldName, newName) {
  const groups = copy(state.groups);
  const group = groups.find((g) => g.name === oldName);
  const existing = groups.find((g) => g.name === newName);
  if (!group) return;
  if (existing && existing !== group) {
    // Same name as another group: merge them.
    for (const c of group.contacts) if (!existing.contacts.includes(c)) existing.contacts.push(c);
    groups.splice(groups.indexOf(group), 1);
  } else {
    group.name = newName;
  }
  await saveContacts(groups);
}

/** @param {string} name */
export async function removeGroup(name) {
  const removed = state.groups.find((g) => g.name === name)?.contacts ?? [];
  await saveContacts(copy(state.groups).filter((g) => g.name !== name));
  unwatch(removed.filter((id) => !isContact(id) && state.active !== `im:${id}`));
}

/* ---------- Own status ---------- */

/** What this user chose on this page, re-applied after a reconnect. */
/** @type {{status: StatusName, message: string} | null} */
let chosen = null;
let idle = false;

/**
 * @param {StatusName} status
 * @param {string} message
 */
export async function setMyStatus(status, message) {
  chosen = { status, message };
  setPref('status', chosen);
  const presence = await api.setStatus(status, message, idle);
  state.presence.set(state.me?.id ?? '', presence);
  emit('presence', state.me?.id);
  emit('me');
}

/** The user's own presence as others see it. */
export function myPresence() {
  return state.presence.get(state.me?.id ?? '') ?? { status: /** @type {StatusName} */ ('available'), message: '', idle: false };
}

/** Marks the user idle after a quiet spell, and back on input. */
export function startIdleWatch() {
  const IDLE_AFTER = 10 * 60_000;
  let last = Date.now();
  const activity = () => {
    last = Date.now();
    if (idle) setIdle(false);
  };
  for (const type of ['pointerdown', 'keydown', 'pointermove', 'focus']) {
    window.addEventListener(type, activity, { passive: true, capture: true });
  }
  const timer = setInterval(() => {
    if (!idle && Date.now() - last > IDLE_AFTER && state.connection === 'online') setIdle(true);
  }, 30_000);
  return () => {
    clearInterval(timer);
    for (const type of ['pointerdown', 'keydown', 'pointermove', 'focus']) {
      window.removeEventListener(type, activity, { capture: true });
    }
  };
}

/** @param {boolean} value */
function setIdle(value) {
  idle = value;
  const current = myPresence();
  if (state.connection !== 'online' || current.status === 'offline') return;
  api.setStatus(current.status, current.message, idle).catch(() => {});
}

/* ---------- N-way chats ---------- */

/**
 * Starts a group chat and opens it.
 * @param {string[]} users
 * @param {string} topic
 */
export async function startGroupChat(users, topic) {
  const { id } = await api.createChat(users, topic);
  touch(id);
  const conversation = nwayConversation(id);
  conversation.history = 'loaded';
  conversation.topic = topic.trim();
  conversation.members = [...new Set([state.me?.id ?? '', ...conversation.members])];
  conversation.invited = users.filter((u) => !conversation.members.includes(u));
  conversation.lastActivity = Date.now();
  conversation.messages.push(systemLine(`You invited ${listNames(users)}.`));
  watch(users);
  emit('conversations');
  openConversation(conversation.key);
}

/**
 * @param {Conversation} conversation
 * @param {string[]} users
 */
export async function inviteToChat(conversation, users) {
  await api.inviteToChat(conversation.chatId, users);
  conversation.invited = [...new Set([...conversation.invited, ...users])].filter((u) => !conversation.members.includes(u));
  conversation.messages.push(systemLine(`You invited ${listNames(users)}.`));
  watch(users);
  emit('conversation', conversation.key);
}

/** @param {number} id */
export async function acceptInvite(id) {
  const invite = state.invites.get(id);
  const { members } = await api.joinChat(id).catch((e) => {
    if (e instanceof ApiError && (e.status === 403 || e.status === 404)) {
      state.invites.delete(id);
      emit('invites');
      throw new Error('The invitation is no longer valid: the chat ended or you were removed.');
    }
    throw e;
  });
  touch(id);
  state.invites.delete(id);
  emit('invites');
  const conversation = nwayConversation(id);
  conversation.topic = invite?.topic ?? conversation.topic;
  conversation.ended = false;
  setMembers(conversation, members, true);
  conversation.lastActivity = Date.now();
  emit('conversations');
  openConversation(conversation.key);
  // What was said before this user joined.
  loadHistory(conversation);
}

/** @param {number} id */
export async function declineInvite(id) {
  touch(id);
  state.invites.delete(id);
  emit('invites');
  await api.declineChat(id).catch(() => {});
}

/** @param {Conversation} conversation */
export async function leaveChat(conversation) {
  touch(conversation.chatId);
  // An ended chat is left too: the server keeps it for the user until then.
  await api.leaveChat(conversation.chatId).catch((e) => {
    if (!(e instanceof ApiError) || (e.status !== 403 && e.status !== 404)) throw e;
  });
  state.conversations.delete(conversation.key);
  if (state.active === conversation.key) openConversation(null);
  emit('conversations');
  updateTitle();
}

/**
 * A group chat the user took part in and is no longer in (it ended, or
 * went on without them; a restart ends every chat): read-only, kept until
 * they close it.
 * @param {import('./api.js').ConversationListing} entry
 * @returns {Conversation}
 */
function pastChat(entry) {
  const known = state.conversations.get(nwayKey(entry.chat ?? 0));
  const conversation = known ?? nwayConversation(entry.chat ?? 0);
  if (!known) conversation.topic = entry.topic ?? '';
  endChat(conversation, 'You are no longer in this chat.');
  return conversation;
}

/**
 * @param {Conversation} conversation
 * @param {string} why
 */
function endChat(conversation, why) {
  if (conversation.ended) return;
  conversation.ended = true;
  conversation.messages.push(systemLine(why));
  emit('conversation', conversation.key);
  emit('conversations');
}

/** @param {string} text @returns {Message} */
function systemLine(text) {
  return { from: '', text, at: new Date().toISOString(), system: true, state: 'sent' };
}

/** @param {string[]} users */
export function listNames(users) {
  const names = users.map((u) => displayName(u));
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * @param {Conversation} conversation
 * @param {string[]} members
 * @param {boolean} [quiet] no "joined" lines (first list)
 */
function setMembers(conversation, members, quiet = false) {
  const me = state.me?.id ?? '';
  const before = new Set(conversation.members);
  const after = new Set(members);
  if (!quiet && before.size > 0) {
    for (const m of members) if (!before.has(m) && m !== me) conversation.messages.push(systemLine(`${displayName(m)} joined.`));
    for (const m of before) if (!after.has(m) && m !== me) conversation.messages.push(systemLine(`${displayName(m)} left.`));
  }
  conversation.members = members;
  conversation.invited = conversation.invited.filter((u) => !after.has(u));
  for (const m of members) ensurePerson(m);
  watch(members);
  if (before.has(me) && !after.has(me)) endChat(conversation, 'You left this chat.');
}

/* ---------- Server events ---------- */

/** @type {Map<string, ReturnType<typeof setTimeout>>} */
const typingTimers = new Map();

/** @type {(id: number) => void} */
let onInvite = () => {};
/** @param {(id: number) => void} handler */
export function setInviteHandler(handler) {
  onInvite = handler;
}

/** The stream is live: (re)send the watches and the chosen status. */
export async function onReady() {
  const me = state.me?.id ?? '';
  const everyone = new Set([me, ...allContacts(), ...watched]);
  for (const c of state.conversations.values()) {
    if (c.kind === 'im') everyone.add(c.peer);
    else for (const m of c.members) everyone.add(m);
  }
  watched.clear();
  watch([...everyone]);
  const wanted = chosen ?? pref('status', null);
  if (wanted && (wanted.status !== 'available' || wanted.message) && STATUS[/** @type {StatusName} */ (wanted.status)]) {
    chosen = wanted;
    api.setStatus(wanted.status, wanted.message, idle).catch(() => {});
  }
  // Invitations sent while this page was not connected, and what became
  // of its group chats meanwhile (the server removes a user from them when
  // their last connection closes); then what is unread, and where.
  syncChats().then(syncConversations);
  loadSettings();
}

/* ---------- Reconciling with the server's list of chats ---------- */

/** Bumped by every change this page learns of a chat (events, own actions). */
let chatChanges = 0;
/** @type {Map<number, number>} chat id → value of chatChanges at its last change */
const chatChanged = new Map();
/** The latest list request; older answers are dropped. */
let syncs = 0;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let syncTimer;

/**
 * Notes that a chat changed here, after a list request may have started:
 * that list's answer is not newer than what this page knows of the chat.
 * @param {number} id
 */
function touch(id) {
  chatChanged.set(id, ++chatChanges);
}

/** A list request soon (several events in a row make one request). */
function syncChatsSoon() {
  clearTimeout(syncTimer);
  syncTimer = setTimeout(syncChats, 200);
}

/**
 * Asks the server which group chats this user is in or invited to, and
 * brings the page in line: invitations it does not show yet appear (with
 * their toast), invitations gone from the list go, the chats it is in get
 * their topic and members (and what was said meanwhile), and chats shown
 * as joined that the list lacks become read-only with a notice. A chat
 * that changed here while the request was under way keeps what the page
 * knows (the events that changed it are at least as new as the list).
 */
export async function syncChats() {
  clearTimeout(syncTimer);
  const run = ++syncs;
  const since = chatChanges;
  const invitesBefore = new Set(state.invites.keys());
  const joinedBefore = new Set([...state.conversations.values()]
    .filter((c) => c.kind === 'nway' && !c.ended).map((c) => c.chatId));
  /** @type {import('./api.js').ChatListing[]} */
  let chats;
  try {
    chats = await api.chats();
  } catch {
    return; // Unreachable or signed out: the next "ready" asks again.
  }
  if (run !== syncs) return;
  const unchanged = (/** @type {number} */ id) => (chatChanged.get(id) ?? 0) <= since;
  const me = state.me?.id ?? '';
  const listed = new Set(chats.map((c) => c.id));
  let invitesChanged = false;
  for (const chat of chats) {
    if (!unchanged(chat.id)) continue;
    const shown = state.conversations.get(nwayKey(chat.id));
    if (chat.invited) {
      if (shown && !shown.ended) endChat(shown, 'You are no longer in this chat.');
      if (!state.invites.has(chat.id)) {
        state.invites.set(chat.id, { from: '', topic: chat.topic, members: chat.members });
        presentInvite(chat.id);
      }
      continue;
    }
    if (!chat.members.includes(me)) continue;
    if (state.invites.delete(chat.id)) invitesChanged = true;
    const conversation = nwayConversation(chat.id);
    conversation.topic = chat.topic;
    conversation.ended = false;
    setMembers(conversation, chat.members, !shown || shown.members.length === 0);
    // New here (joined from another page), or back: what was said meanwhile.
    if (conversation.history !== 'loading') loadHistory(conversation);
    emit('conversation', conversation.key);
  }
  for (const id of invitesBefore) {
    // Declined elsewhere, or the chat ended.
    if (!listed.has(id) && unchanged(id) && state.invites.delete(id)) invitesChanged = true;
  }
  for (const id of joinedBefore) {
    const conversation = state.conversations.get(nwayKey(id));
    if (!listed.has(id) && unchanged(id) && conversation && !conversation.ended) {
      endChat(conversation, 'You are no longer in this chat: the connection dropped, or the chat ended. Someone still in it can invite you again.');
    }
  }
  if (invitesChanged) emit('invites');
  emit('conversations');
}

/**
 * Shows a pending invitation (toast, sidebar, desktop notification) once
 * the names in it are known (a moment at most).
 * @param {number} id
 */
function presentInvite(id) {
  const invite = state.invites.get(id);
  if (!invite) return;
  whenNamed(invite.from ? [invite.from] : (invite.members ?? [])).then(() => {
    if (state.invites.get(id) !== invite) return;
    emit('invites');
    onInvite(id);
    notify({
      title: inviteTitle(invite),
      body: invite.topic || 'Open Simul to accept or decline.',
      tag: `invite:${id}`,
      onClick: () => {},
    });
  });
}

/**
 * Resolves once these people's cards are here (their names, not their
 * ids, can be shown), or after a moment at most.
 * @param {string[]} people
 */
function whenNamed(people) {
  return Promise.race([Promise.all(people.map((p) => ensurePerson(p))), new Promise((r) => setTimeout(r, 1500))]);
}

/**
 * "Alice invited you to a group chat", or for an invitation from the
 * server's list (the inviter unknown) "You are invited to a group chat".
 * @param {{from: string}} invite
 */
export function inviteTitle(invite) {
  return invite.from ? `${displayName(invite.from)} invited you to a group chat` : 'You are invited to a group chat';
}

/**
 * Who an invitation is from, or who is in the chat when that is unknown.
 * @param {{from: string, members?: string[]}} invite
 */
export function inviteSender(invite) {
  if (invite.from) return `From ${displayName(invite.from)}`;
  return invite.members?.length ? `With ${listNames(invite.members)}` : '';
}

/** @param {ServerEvent} event */
export function handleEvent(event) {
  const me = state.me?.id ?? '';
  switch (event.type) {
    case 'status': {
      state.presence.set(event.user, { status: event.status, message: event.message ?? '', idle: !!event.idle });
      emit('presence', event.user);
      if (event.user === me) emit('me');
      break;
    }
    case 'im': {
      const peer = event.from === me ? event.to : event.from;
      const conversation = imConversation(peer);
      const result = addMessage(conversation, { id: event.id, from: event.from, text: event.text, at: event.at, file: event.file });
      if (result === 'duplicate') break;
      // A message kept while the user was away is counted by the
      // conversations list, which the page asks for at every connection.
      if (event.from !== me && !event.missed) {
        setTyping(conversation, false);
        incoming(conversation, event.from, event.text);
      }
      if (!isContact(peer)) {
        ensurePerson(peer);
        watch([peer]);
      }
      emit('conversation', conversation.key);
      emit('conversations');
      break;
    }
    case 'read': {
      // Read on another device: what it read is no longer unread here.
      const conversation = state.conversations.get(String(event.conversation));
      if (!conversation) {
        // Not listed here yet (the page is still fetching its list, which
        // may be older than this mark): the list's counts must yield to it.
        const key = String(event.conversation);
        readBeforeListed.set(key, Math.max(readBeforeListed.get(key) ?? 0, Number(event.up_to)));
        break;
      }
      conversation.readMark = Math.max(conversation.readMark, Number(event.up_to));
      const unread = conversation.messages.filter((m) => m.from !== me && (m.id ?? 0) > conversation.readMark).length;
      if (unread < conversation.unread) {
        conversation.unread = unread;
        emit('conversations');
        updateTitle();
      }
      break;
    }
    case 'typing': {
      const conversation = imConversation(event.from);
      setTyping(conversation, !!event.typing);
      break;
    }
    case 'nway_invite': {
      const id = Number(event.id);
      touch(id);
      if (state.conversations.get(nwayKey(id))?.ended === false) break;
      state.invites.set(id, { from: event.from, topic: event.topic ?? '' });
      presentInvite(id);
      break;
    }
    case 'nway_message': {
      const id = Number(event.id);
      const known = state.conversations.has(nwayKey(id));
      touch(id);
      const conversation = nwayConversation(id);
      // Not known here (joined elsewhere, a missed event): its topic and members.
      if (!known) syncChatsSoon();
      const result = addMessage(conversation, { id: event.message, from: event.from, text: event.text, at: event.at, file: event.file });
      if (result === 'duplicate') break;
      if (event.from !== me) incoming(conversation, event.from, event.text);
      emit('conversation', conversation.key);
      emit('conversations');
      break;
    }
    case 'nway_members': {
      const id = Number(event.id);
      const known = state.conversations.has(nwayKey(id));
      touch(id);
      const conversation = nwayConversation(id);
      if (!known) {
        // Joined from another of this user's sessions (or a chat started
        // elsewhere): the topic from the invitation, else from the server.
        const invite = state.invites.get(id);
        conversation.topic = invite?.topic ?? '';
        if (!invite) syncChatsSoon();
        state.invites.delete(id);
        emit('invites');
        conversation.lastActivity = Date.now();
        if ((event.members ?? []).includes(me)) loadHistory(conversation);
      }
      setMembers(conversation, event.members ?? [], !known);
      emit('conversation', conversation.key);
      emit('conversations');
      break;
    }
    case 'message_edited':
    case 'message_deleted':
    case 'reaction':
    case 'seen':
      applyChange(event);
      break;
    case 'error': {
      console.warn('Simul server:', event.error);
      break;
    }
    default:
      break;
  }
}

/**
 * @param {Conversation} conversation
 * @param {boolean} value
 */
function setTyping(conversation, value) {
  clearTimeout(typingTimers.get(conversation.key));
  if (value) {
    // The "stopped" event can be lost with a dropped connection.
    typingTimers.set(conversation.key, setTimeout(() => setTyping(conversation, false), 8000));
  }
  if (conversation.typing === value) return;
  conversation.typing = value;
  emit('conversation', conversation.key);
  emit('typing', conversation.key);
}

/**
 * Counts, announces and notifies a message from someone else (by name:
 * a first message from someone not on the list comes before their card).
 * @param {Conversation} conversation
 * @param {string} from
 * @param {string} text
 */
function incoming(conversation, from, text) {
  if (looking(conversation)) {
    tellRead(conversation);
  } else {
    conversation.unread += 1;
    updateTitle();
  }
  whenNamed([from]).then(() => {
    const sender = displayName(from);
    const where = conversation.kind === 'nway' ? ` in ${conversation.topic || 'group chat'}` : '';
    if (state.active === conversation.key) announce(`${sender}: ${text}`);
    else announce(`New message from ${sender}${where}.`);
    notify({
      title: conversation.kind === 'nway' ? `${sender} · ${conversation.topic || 'Group chat'}` : sender,
      body: text,
      tag: conversation.key,
      onClick: () => openConversation(conversation.key),
    });
  });
}

/** Forgets this user's page state (sign-out, before another user signs in). */
export function resetActions() {
  chosen = null;
  idle = false;
  watched.clear();
  if (typingSent) clearTimeout(typingSent.timer);
  typingSent = null;
  for (const timer of typingTimers.values()) clearTimeout(timer);
  typingTimers.clear();
  for (const timer of readTimers.values()) clearTimeout(timer);
  readTimers.clear();
  syncs += 1; // an answer still on its way is for the previous user
  clearTimeout(syncTimer);
  chatChanged.clear();
}

/** Logs out here (the cookie is cleared by the server). */
export async function logout() {
  stopTyping();
  await api.logout().catch(() => {});
}

/**
 * Shows an API failure to the user.
 * @param {string} what
 * @param {unknown} e
 */
export function reportError(what, e) {
  toast({ kind: 'error', title: what, body: e instanceof Error ? e.message : String(e) });
}
