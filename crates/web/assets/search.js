// @ts-check
// Searching the user's messages (GET /api/v1/search): a field at the top
// of the sidebar, results as they type (sender, a snippet with the words
// marked, the conversation, the time), and a chosen result opening its
// conversation at that message, loaded back page by page until it is in,
// scrolled into view and highlighted.

import { loadEarlier, loadHistory, openConversation } from './actions.js';
import { api } from './api.js';
import { arrowNavigate, debounce, formatFull, formatTime, h, icon, replace } from './dom.js';
import { displayName, imConversation, on, state } from './store.js';
import { toast } from './ui.js';

/**
 * @typedef {import('./store.js').Conversation} Conversation
 * @typedef {{conversation: string, id: number, from: string, text: string, at: string}} SearchResult
 */

/** Results one call asks for. */
const PAGE = 30;
/** Characters of a long message a result shows around the first word found. */
const SNIPPET = 140;

/** The words the server looks for: runs of letters and digits. */
function words(/** @type {string} */ q) {
  return q.split(/[^\p{L}\p{N}\p{M}]+/u).filter(Boolean);
}

/**
 * The message search of the sidebar.
 * @returns {{element: HTMLElement, destroy: () => void}}
 */
export function createMessageSearch() {
  const input = h('input', {
    type: 'search', id: 'message-search', class: 'message-search-input', placeholder: 'Search messages',
    autocomplete: 'off', 'aria-describedby': 'message-search-status', 'aria-controls': 'message-search-results',
  });
  const label = h('label', { class: 'sr-only', htmlFor: 'message-search', text: 'Search messages' });
  const status = h('p', { class: 'search-status', id: 'message-search-status', role: 'status' });
  const list = h('ul', { class: 'search-results', id: 'message-search-results', 'aria-label': 'Messages found' });
  const more = h('button', { type: 'button', class: 'btn small search-more', hidden: true, text: 'More results' });
  const panel = h('div', { class: 'search-panel', hidden: true }, status, list, more);
  const form = h('form', { class: 'message-search', role: 'search', 'aria-label': 'Messages' },
    label, h('div', { class: 'search-field' }, icon('search'), input), panel);

  /** @type {SearchResult[]} */
  let results = [];
  /** The query the results are for; a newer one makes older answers stale. */
  let asked = '';

  async function run(/** @type {string} */ q, /** @type {number | undefined} */ before) {
    asked = q;
    if (words(q).length === 0) {
      results = [];
      panel.hidden = true;
      return;
    }
    panel.hidden = false;
    if (before === undefined) status.textContent = 'Searching…';
    try {
      /** @type {SearchResult[]} */
      const page = await api.searchMessages(q, before, PAGE);
      if (asked !== q) return;
      results = before === undefined ? page : [...results, ...page];
      more.hidden = page.length < PAGE;
      render(q);
    } catch (error) {
      if (asked !== q) return;
      status.textContent = error instanceof Error ? error.message : 'The search failed.';
    }
  }

  function render(/** @type {string} */ q) {
    const n = results.length;
    status.textContent = n === 0 ? `No messages match “${q.trim()}”.`
      : `${n}${more.hidden ? '' : '+'} message${n === 1 ? '' : 's'} found`;
    replace(list, results.map((r) => resultRow(r, words(q))));
  }

  const typed = debounce(() => run(input.value), 250);
  input.addEventListener('input', typed);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run(input.value);
  });
  more.addEventListener('click', () => run(asked, results.at(-1)?.id));
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && input.value) {
      event.preventDefault();
      input.value = '';
      run('');
      input.focus();
      return;
    }
    const items = /** @type {HTMLElement[]} */ ([...list.querySelectorAll('button.search-hit')]);
    if (event.target === input && event.key === 'ArrowDown' && items.length) {
      event.preventDefault();
      items[0].focus();
    } else if (event.target !== input && items.includes(/** @type {HTMLElement} */ (event.target))) {
      if (event.key === 'ArrowUp' && event.target === items[0]) {
        event.preventDefault();
        input.focus();
      } else {
        arrowNavigate(event, items);
      }
    }
  });
  // Names arrive after the results: show them once known.
  const off = on('people', () => {
    if (results.length) render(asked);
  });
  return { element: form, destroy: off };
}

/**
 * One result: who wrote it, where, when, and what (the words marked).
 * @param {SearchResult} r
 * @param {string[]} found
 */
function resultRow(r, found) {
  const at = new Date(r.at);
  const who = r.from === state.me?.id ? 'You' : displayName(r.from);
  return h('li', {},
    h('button', { type: 'button', class: 'search-hit', dataset: { id: String(r.id) }, onclick: () => openAt(r) },
      h('span', { class: 'search-hit-head' },
        h('span', { class: 'search-hit-from', text: who }),
        // A 1:1 message from the other person needs no "with them".
        r.conversation === `im:${r.from}` ? null : h('span', { class: 'search-hit-where', text: conversationName(r.conversation) }),
        h('time', { datetime: r.at, title: formatFull(at), text: formatTime(at) })),
      h('span', { class: 'search-hit-text', dir: 'auto' }, snippet(r.text, found))));
}

/** "with Bob" or "in Planning" for a conversation key. */
function conversationName(/** @type {string} */ key) {
  if (key.startsWith('im:')) return `with ${displayName(key.slice(3))}`;
  const chat = state.conversations.get(key);
  return `in ${chat?.topic || 'a group chat'}`;
}

/**
 * The part of `text` around the first word found, as text nodes with the
 * words in <mark> (never markup from the message).
 * @param {string} text
 * @param {string[]} found
 * @returns {(string | HTMLElement)[]}
 */
function snippet(text, found) {
  const pattern = found.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const matcher = pattern ? new RegExp(pattern, 'giu') : null;
  let shown = text;
  if (text.length > SNIPPET) {
    const first = matcher ? text.search(matcher) : -1;
    const start = Math.max(0, Math.min(first - 40, text.length - SNIPPET));
    shown = `${start > 0 ? '…' : ''}${text.slice(start, start + SNIPPET)}${start + SNIPPET < text.length ? '…' : ''}`;
  }
  if (!matcher) return [shown];
  /** @type {(string | HTMLElement)[]} */
  const parts = [];
  let last = 0;
  for (const match of shown.matchAll(matcher)) {
    const index = match.index ?? 0;
    parts.push(shown.slice(last, index), h('mark', { text: match[0] }));
    last = index + match[0].length;
  }
  parts.push(shown.slice(last));
  return parts;
}

/**
 * Opens a result's conversation at its message: its history is loaded
 * back until the message is in (so that what shows around it is the
 * conversation as it was, without a gap), then the message is scrolled
 * into view, highlighted and focused.
 * @param {SearchResult} result
 */
export async function openAt(result) {
  const key = result.conversation;
  const conversation = key.startsWith('im:') ? imConversation(key.slice(3)) : state.conversations.get(key);
  if (!conversation) {
    toast({ title: 'That chat is not open on this page any more.', kind: 'error' });
    return;
  }
  conversation.found = result.id;
  const loading = conversation.history === 'none' || conversation.history === 'failed'
    ? loadHistory(conversation) : null;
  openConversation(key);
  await loading;
  await until(conversation, () => conversation.history !== 'loading');
  // Until the history (not only missed messages, which can be older) reaches it.
  while (conversation.truncated && (conversation.historyFrom ?? Infinity) > result.id && state.active === key) {
    await until(conversation, () => !conversation.loadingEarlier);
    const oldest = conversation.historyFrom;
    await loadEarlier(conversation);
    if (conversation.historyFrom === oldest) break; // The page did not come: said already.
  }
  if (state.active !== key || conversation.found !== result.id) return;
  // After the pane has drawn what came (and scrolled to its end).
  requestAnimationFrame(() => {
    const bubble = /** @type {HTMLElement | null} */ (document.querySelector(
      `.chat[data-conversation="${CSS.escape(key)}"] .bubble[data-message="${result.id}"]`));
    if (!bubble) return;
    bubble.tabIndex = -1;
    bubble.scrollIntoView({ block: 'center' });
    bubble.focus({ preventScroll: true });
  });
}

/**
 * Resolves once `ready()` holds, checked now and at each change of the
 * conversation.
 * @param {Conversation} conversation
 * @param {() => boolean} ready
 * @returns {Promise<void>}
 */
function until(conversation, ready) {
  return new Promise((resolve) => {
    if (ready()) return resolve();
    const off = on('conversation', (key) => {
      if (key !== conversation.key || !ready()) return;
      off();
      resolve();
    });
  });
}
