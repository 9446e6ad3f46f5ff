// @ts-check
// A message after it is sent: its author edits or deletes it, anyone in
// the conversation reacts to it, and the other person of a 1:1
// conversation shows how far they read (read receipts, a setting of
// theirs). The changes come back as events to every session, this one
// included, so applying one twice does no harm.

import { api } from './api.js';
import { h, icon } from './dom.js';
import { displayName, emit, imKey, nwayKey, state } from './store.js';
import { confirmDialog, openMenu, toast } from './ui.js';

/**
 * @typedef {import('./store.js').Conversation} Conversation
 * @typedef {import('./store.js').Message} Message
 * @typedef {{emoji: string, users: string[]}} Reaction
 */

/** What the emoji say, for screen readers and tooltips. */
const EMOJI_NAMES = /** @type {Record<string, string>} */ ({
  '👍': 'Thumbs up', '❤️': 'Heart', '😂': 'Laughing', '😮': 'Surprised', '😢': 'Sad', '🙏': 'Thank you',
});

/** The user's settings as the server keeps them. */
export const settings = {
  readReceipts: true,
  /** The emoji messages can be reacted with (the server's list). @type {string[]} */
  reactions: [],
};

/** Reads the user's settings (at every connection: another device may have changed them). */
export async function loadSettings() {
  try {
    const answer = await api.settings();
    settings.readReceipts = answer.read_receipts;
    settings.reactions = answer.reactions;
  } catch {
    // Kept as they were; the next connection asks again.
  }
}

/** The user menu's item that turns read receipts on or off. */
export function readReceiptsItem() {
  const on = settings.readReceipts;
  return {
    label: on ? 'Turn off read receipts' : 'Turn on read receipts',
    icon: /** @type {import('./dom.js').IconName} */ (on ? 'eyeOff' : 'eye'),
    hint: on ? 'Others see when you read their messages' : 'Others do not see when you read',
    onSelect: async () => {
      try {
        const answer = await api.putSettings({ read_receipts: !on });
        settings.readReceipts = answer.read_receipts;
        toast({
          title: settings.readReceipts ? 'Read receipts are on' : 'Read receipts are off',
          body: settings.readReceipts
            ? 'People you chat with see when you have read their messages.'
            : 'People you chat with no longer see when you have read their messages.',
          icon: settings.readReceipts ? 'eye' : 'eyeOff',
        });
      } catch (e) {
        toast({ kind: 'error', title: 'The setting was not changed', body: String(/** @type {Error} */ (e).message) });
      }
    },
  };
}

/**
 * The conversation a change event is about, if this page shows it.
 * @param {any} event
 */
function conversationOf(event) {
  if (event.chat !== undefined) return state.conversations.get(nwayKey(Number(event.chat)));
  const peer = event.from === state.me?.id ? event.to : event.from;
  return state.conversations.get(imKey(String(peer)));
}

/**
 * Applies a `message_edited`, `message_deleted`, `reaction` or `seen`
 * event (or this page's own change, which its event repeats).
 * @param {any} event
 */
export function applyChange(event) {
  if (event.type === 'seen') {
    const conversation = state.conversations.get(imKey(String(event.by)));
    if (!conversation) return;
    conversation.seenUpTo = Math.max(conversation.seenUpTo, Number(event.up_to));
    emit('conversation', conversation.key);
    return;
  }
  const conversation = conversationOf(event);
  const message = conversation?.messages.find((m) => m.id === Number(event.message));
  if (!conversation || !message) return;
  if (event.type === 'message_edited') {
    message.text = String(event.text);
    message.edited = String(event.edited);
  } else if (event.type === 'message_deleted') {
    message.text = '';
    message.deleted = true;
    message.reactions = [];
  } else if (event.type === 'reaction') {
    message.reactions = withReaction(message.reactions ?? [], String(event.emoji), String(event.user), !!event.on);
  }
  message.rev = (message.rev ?? 0) + 1;
  emit('conversation', conversation.key);
  emit('conversations');
}

/**
 * `reactions` with `user`'s `emoji` added or taken back.
 * @param {Reaction[]} reactions
 * @param {string} emoji
 * @param {string} user
 * @param {boolean} on
 * @returns {Reaction[]}
 */
function withReaction(reactions, emoji, user, on) {
  const others = reactions.map((r) => ({ emoji: r.emoji, users: r.users.filter((u) => u !== user || r.emoji !== emoji) }));
  const entry = others.find((r) => r.emoji === emoji);
  if (on && entry) entry.users.push(user);
  else if (on) others.push({ emoji, users: [user] });
  return others.filter((r) => r.users.length > 0);
}

/**
 * Adds or takes back the user's reaction.
 * @param {Conversation} conversation
 * @param {Message} message
 * @param {string} emoji
 * @param {boolean} on
 */
async function react(conversation, message, emoji, on) {
  if (message.id === undefined) return;
  try {
    await api.react(message.id, emoji, on);
    const place = conversation.kind === 'nway'
      ? { chat: conversation.chatId }
      : { from: message.from, to: message.from === state.me?.id ? conversation.peer : state.me?.id };
    applyChange({ type: 'reaction', message: message.id, user: state.me?.id, emoji, on, ...place });
  } catch (e) {
    toast({ kind: 'error', title: 'The reaction was not sent', body: String(/** @type {Error} */ (e).message) });
  }
}

/**
 * The reactions under a message: one toggle per emoji, with the count
 * and who reacted.
 * @param {Conversation} conversation
 * @param {Message} message
 */
export function reactionsRow(conversation, message) {
  const reactions = message.reactions ?? [];
  if (!reactions.length || message.deleted) return null;
  const me = state.me?.id ?? '';
  return h('div', { class: 'reactions' }, reactions.map((r) => {
    const mine = r.users.includes(me);
    const names = r.users.map((u) => (u === me ? 'you' : displayName(u))).join(', ');
    return h('button', {
      type: 'button', class: 'reaction', 'aria-pressed': String(mine),
      'aria-label': `${EMOJI_NAMES[r.emoji] ?? r.emoji}: ${r.users.length}, from ${names}`,
      title: `${EMOJI_NAMES[r.emoji] ?? r.emoji} from ${names}`,
      onclick: () => react(conversation, message, r.emoji, !mine),
    }, h('span', { class: 'reaction-emoji', 'aria-hidden': 'true', text: r.emoji }), h('span', { class: 'reaction-count', 'aria-hidden': 'true', text: String(r.users.length) }));
  }));
}

/**
 * The buttons beside a sent message (shown on hover and keyboard focus):
 * react, and for one's own message edit and delete. `editing` puts an
 * editor in place of the text.
 * @param {Conversation} conversation
 * @param {Message} message
 * @param {(editor: HTMLElement | null) => void} editing
 */
export function messageTools(conversation, message, editing) {
  if (message.id === undefined || message.deleted || message.system || message.state !== 'sent') return null;
  if (conversation.ended) return null;
  const mine = message.from === state.me?.id;
  const reactButton = h('button', {
    type: 'button', class: 'icon-btn small', 'aria-label': 'React', title: 'React', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
    onclick: () => openMenu(reactButton, settings.reactions.map((emoji) => {
      const on = !(message.reactions ?? []).some((r) => r.emoji === emoji && r.users.includes(state.me?.id ?? ''));
      return { label: `${emoji} ${EMOJI_NAMES[emoji] ?? ''}${on ? '' : ' (remove)'}`, onSelect: () => react(conversation, message, emoji, on) };
    }), { label: 'Reactions' }),
  }, h('span', { class: 'tool-emoji', 'aria-hidden': 'true', text: '☺' }));
  return h('div', { class: 'msg-tools' },
    settings.reactions.length ? reactButton : null,
    // A file's message describes the file: it is deleted, never edited.
    mine && !message.file ? h('button', {
      type: 'button', class: 'icon-btn small', 'aria-label': 'Edit message', title: 'Edit',
      onclick: () => editing(editor(message, editing)),
    }, icon('pencil')) : null,
    mine ? h('button', {
      type: 'button', class: 'icon-btn small', 'aria-label': 'Delete message', title: 'Delete',
      onclick: () => remove(conversation, message),
    }, icon('trash')) : null);
}

/**
 * An editor for one's own message: Enter saves, Escape cancels.
 * @param {Message} message
 * @param {(editor: HTMLElement | null) => void} editing
 */
function editor(message, editing) {
  const input = h('textarea', { class: 'edit-input', dir: 'auto', rows: 2, 'aria-label': 'Edit message', value: message.text });
  const save = async () => {
    const text = input.value.replace(/\s+$/, '');
    if (!text.trim() || text === message.text) return editing(null);
    if (message.id === undefined) return editing(null);
    try {
      await api.editMessage(message.id, text);
      message.text = text;
      message.edited = new Date().toISOString();
      message.rev = (message.rev ?? 0) + 1;
      editing(null);
    } catch (e) {
      toast({ kind: 'error', title: 'The message was not changed', body: String(/** @type {Error} */ (e).message) });
    }
  };
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      editing(null);
    } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      save();
    }
  });
  queueMicrotask(() => {
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  });
  return h('form', { class: 'edit-form', onsubmit: (/** @type {Event} */ e) => { e.preventDefault(); save(); } },
    input,
    h('div', { class: 'edit-actions' },
      h('span', { class: 'edit-hint' }, h('kbd', { text: 'Esc' }), ' to cancel, ', h('kbd', { text: 'Enter' }), ' to save'),
      h('button', { type: 'button', class: 'btn small', text: 'Cancel', onclick: () => editing(null) }),
      h('button', { type: 'submit', class: 'btn small primary', text: 'Save' })));
}

/**
 * Deletes one's own message, after asking.
 * @param {Conversation} conversation
 * @param {Message} message
 */
async function remove(conversation, message) {
  const ok = await confirmDialog({
    title: 'Delete this message?',
    message: 'It is removed for everyone in the conversation. This cannot be undone.',
    confirm: 'Delete',
    danger: true,
  });
  if (!ok || message.id === undefined) return;
  try {
    await api.deleteMessage(message.id);
    message.text = '';
    message.deleted = true;
    message.reactions = [];
    message.rev = (message.rev ?? 0) + 1;
    emit('conversation', conversation.key);
    emit('conversations');
  } catch (e) {
    toast({ kind: 'error', title: 'The message was not deleted', body: String(/** @type {Error} */ (e).message) });
  }
}

/**
 * The read receipt of a 1:1 conversation: under the last of one's own
 * messages the other person has read.
 * @param {Conversation} conversation
 * @param {Map<Message, HTMLElement>} bubbles
 */
export function showReceipt(conversation, bubbles) {
  for (const old of document.querySelectorAll(`[data-conversation="${CSS.escape(conversation.key)}"] .receipt`)) old.remove();
  if (conversation.kind !== 'im' || !conversation.seenUpTo) return;
  const me = state.me?.id;
  const seen = conversation.messages.findLast((m) => m.from === me && m.id !== undefined && m.id <= conversation.seenUpTo);
  const meta = seen && bubbles.get(seen)?.querySelector('.meta');
  meta?.append(h('span', { class: 'receipt', title: `Seen by ${displayName(conversation.peer)}` }, icon('check'), 'Seen'));
}
