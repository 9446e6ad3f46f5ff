// @ts-check
// The main pane: the open conversation (1:1 or group) with its messages,
// typing indicator, composer and, for group chats, the participants; or
// an empty state when none is open.

import {
  leaveChat, loadEarlier, loadHistory, openConversation, reportError, retryMessage, sendMessage, stopTyping,
  typing,
} from './actions.js';
import {
  addContactDialog, addKnownContactDialog, businessCard, groupChatDialog,
} from './dialogs.js';
import { attachFiles, fileCard } from './files.js';
import { formatDay, formatFull, formatTime, h, icon, linkify, replace, sameDay } from './dom.js';
import { statusLabel } from './status.js';
import { displayName, isContact, isOnline, on, presenceOf, state } from './store.js';
import { messageTools, reactionsRow, showReceipt } from './message-tools.js';
import { confirmDialog } from './ui.js';
import { avatar, groupAvatar, presenceLine } from './widgets.js';

/**
 * @typedef {import('./store.js').Conversation} Conversation
 * @typedef {import('./store.js').Message} Message
 */

const GROUP_GAP = 5 * 60_000;
const MAX_CHARS = 10_000;

/** Whether focusing the composer would pop up an on-screen keyboard. */
const touchFirst = () => window.matchMedia('(pointer: coarse)').matches;

/** @returns {{element: HTMLElement, destroy: () => void}} */
export function createChatPane() {
  const element = h('main', { class: 'main', id: 'main', tabIndex: -1 });
  /** @type {ReturnType<typeof conversationView> | null} */
  let view = null;

  function show() {
    view?.destroy();
    view = null;
    const conversation = state.active ? state.conversations.get(state.active) : undefined;
    if (!conversation) {
      element.replaceChildren(emptyMain());
      element.setAttribute('aria-label', 'No conversation open');
      return;
    }
    view = conversationView(conversation);
    element.replaceChildren(view.element);
    element.setAttribute('aria-label', view.label);
    view.focusComposer();
  }

  const offActive = on('active', show);
  show();
  return {
    element,
    destroy: () => {
      offActive();
      view?.destroy();
    },
  };
}

function emptyMain() {
  return h('div', { class: 'empty-main' },
    h('div', { class: 'empty-art' }, icon('messages')),
    h('h2', { text: 'No conversation open' }),
    h('p', { text: 'Choose a contact to start chatting, or bring several people together in a group chat.' }),
    h('div', { class: 'empty-actions' },
      h('button', { type: 'button', class: 'btn primary', onclick: () => groupChatDialog() }, icon('users'), 'New group chat'),
      h('button', { type: 'button', class: 'btn', onclick: () => addContactDialog() }, icon('userPlus'), 'Add contact')),
    h('p', { class: 'empty-tip' }, 'Tip: press ', h('kbd', { text: 'Ctrl' }), ' ', h('kbd', { text: 'K' }), ' to search your contacts.'));
}

/**
 * One conversation.
 * @param {Conversation} conversation
 */
function conversationView(conversation) {
  const me = state.me?.id ?? '';
  const isGroup = conversation.kind === 'nway';
  const title = () => (isGroup ? conversation.topic || 'Group chat' : displayName(conversation.peer));
  const labelNow = () => (isGroup ? `Group chat: ${title()}` : `Conversation with ${title()}`);
  const label = labelNow();

  /* Header */
  const headTitle = h('h2', { class: 'chat-title', text: title() });
  const headSub = h('p', { class: 'chat-sub' });
  const participantsButton = isGroup ? h('button', {
    type: 'button', class: 'btn ghost participants-toggle', 'aria-expanded': 'false', 'aria-controls': 'participants',
    onclick: () => toggleParticipants(),
  }, icon('users'), h('span', { class: 'sr-only', text: 'Participants:' }), h('span', { class: 'count' })) : null;
  const headAvatar = h('span', { class: 'chat-avatar' });
  const actions = h('div', { class: 'chat-actions' });
  const header = h('header', { class: 'chat-head' },
    h('button', {
      type: 'button', class: 'icon-btn back', 'aria-label': 'Back to contacts', title: 'Back',
      onclick: () => openConversation(null),
    }, icon('back')),
    headAvatar,
    h('div', { class: 'chat-heading' }, headTitle, headSub),
    actions);

  function renderHeader() {
    headTitle.textContent = title();
    // A chat opened before the person's card arrived named them by id
    // (a link from another application, a first message).
    root.setAttribute('aria-label', labelNow());
    root.parentElement?.setAttribute('aria-label', labelNow());
    textarea.placeholder = `Message ${title()}`;
    composerLabel.textContent = `Message ${title()}`;
    if (isGroup) {
      headAvatar.replaceChildren(groupAvatar('md'));
      const n = conversation.members.length;
      replace(headSub, conversation.ended ? 'You are no longer in this chat' : `${n} participant${n === 1 ? '' : 's'}`,
        conversation.invited.length ? ` · ${conversation.invited.length} invited` : '');
      if (participantsButton) {
        participantsButton.querySelector('.count')?.replaceChildren(String(n));
      }
      replace(actions, 
        conversation.ended ? null : h('button', {
          type: 'button', class: 'btn ghost', title: 'Invite people',
          onclick: () => groupChatDialog({ conversation }),
        }, icon('userPlus'), h('span', { class: 'btn-label', text: 'Invite' })),
        participantsButton,
        h('button', {
          type: 'button', class: 'btn ghost danger-text', title: conversation.ended ? 'Close chat' : 'Leave chat',
          onclick: leave,
        }, icon(conversation.ended ? 'x' : 'logout'), h('span', { class: 'btn-label', text: conversation.ended ? 'Close' : 'Leave' })));
    } else {
      const peer = conversation.peer;
      headAvatar.replaceChildren(avatar(peer, { size: 'md' }));
      replace(headSub, presenceLine(peer));
      replace(actions, 
        isContact(peer) ? null : h('button', {
          type: 'button', class: 'btn ghost', title: 'Add to contacts', onclick: () => addKnownContactDialog(peer),
        }, icon('userPlus'), h('span', { class: 'btn-label', text: 'Add contact' })),
        h('button', {
          type: 'button', class: 'btn ghost', title: 'Start a group chat',
          onclick: () => groupChatDialog({ preselect: [peer] }),
        }, icon('users'), h('span', { class: 'btn-label', text: 'Group chat' })),
        h('button', {
          type: 'button', class: 'icon-btn', 'aria-label': `Business card of ${displayName(peer)}`, title: 'Business card',
          dataset: { focusKey: `card:${peer}` },
          onclick: () => businessCard(peer),
        }, icon('card')));
    }
  }

  async function leave() {
    if (!conversation.ended) {
      const ok = await confirmDialog({
        title: 'Leave this group chat?',
        message: `You will stop getting messages from ${conversation.topic ? `“${conversation.topic}”` : 'this chat'}. Someone in it can invite you again.`,
        confirm: 'Leave chat',
        danger: true,
      });
      if (!ok) return;
    }
    leaveChat(conversation).catch((e) => reportError('Could not leave the chat', e));
  }

  /* Messages */
  const list = h('ol', { class: 'messages' });
  const jump = h('button', {
    type: 'button', class: 'jump', hidden: true, onclick: () => scrollToEnd(true),
  }, icon('arrowDown'), 'New messages');
  // The log around the list: a list with role log would have no list items.
  // Focusable: the keyboard scrolls it too.
  const timeline = h('div', { class: 'timeline', role: 'log', 'aria-label': 'Messages', 'aria-live': 'off', tabIndex: 0 }, list, jump);
  timeline.addEventListener('scroll', () => {
    if (nearEnd()) jump.hidden = true;
  }, { passive: true });

  /** @type {Message[]} */
  let rendered = [];
  /** @type {Map<Message, HTMLElement>} */
  const bubbles = new Map();
  /** @type {{from: string, time: number, stack: HTMLElement} | null} */
  let lastGroup = null;
  /** @type {Date | null} */
  let lastDay = null;

  // Scrolling up to the top of what is loaded fetches the page before.
  const earlierSeen = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadEarlier(conversation);
  }, { root: timeline });

  function nearEnd() {
    return timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 80;
  }

  /** @param {boolean} [smooth] */
  function scrollToEnd(smooth = false) {
    timeline.scrollTo({ top: timeline.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    jump.hidden = true;
  }

  function renderAll() {
    list.replaceChildren();
    bubbles.clear();
    rendered = [];
    lastGroup = null;
    lastDay = null;
    list.appendChild(intro());
    for (const m of conversation.messages) appendMessage(m);
    rendered = [...conversation.messages];
    // A chat opened again (or after a reload) shows its receipt at once.
    showReceipt(conversation, bubbles);
  }

  /**
   * The top of a history that goes further back: a button for the page
   * before, pressed by itself when it scrolls into view, and busy while
   * that page is on its way (the same row, so nothing below moves).
   */
  function earlier() {
    const busy = conversation.loadingEarlier;
    const button = h('button', {
      type: 'button', class: 'btn small', disabled: busy, 'aria-busy': busy ? 'true' : false,
      onclick: () => loadEarlier(conversation),
    }, busy ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    busy ? 'Loading earlier messages…' : 'Show earlier messages');
    earlierSeen.disconnect();
    if (!busy) earlierSeen.observe(button);
    return h('li', { class: 'intro earlier' }, button);
  }

  function intro() {
    if (conversation.truncated && conversation.history === 'loaded') return earlier();
    if (isGroup) {
      return h('li', { class: 'intro' },
        groupAvatar('lg'),
        h('p', { class: 'intro-title', text: title() }),
        h('p', { class: 'intro-text', text: conversation.history === 'failed'
          ? 'Earlier messages could not be loaded.'
          : 'Everyone in this chat sees its messages, also people who join later.' }));
    }
    if (conversation.history === 'loading') {
      return h('li', { class: 'intro loading', 'aria-busy': 'true' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading messages…');
    }
    if (conversation.history === 'failed') {
      return h('li', { class: 'intro' },
        h('p', { class: 'intro-text', text: 'Earlier messages could not be loaded.' }),
        h('button', { type: 'button', class: 'btn small', text: 'Try again', onclick: () => loadHistory(conversation) }));
    }
    return h('li', { class: 'intro' },
      avatar(conversation.peer, { size: 'lg', dot: false }),
      h('p', { class: 'intro-title', text: displayName(conversation.peer) }),
      h('p', { class: 'intro-text', text: conversation.messages.length
        ? `This is the beginning of your history with ${displayName(conversation.peer)}.`
        : `No messages yet. Say hello to ${displayName(conversation.peer)}!` }));
  }

  /** @param {Message} m */
  function appendMessage(m) {
    const at = m.at ? new Date(m.at) : new Date();
    if (!lastDay || !sameDay(lastDay, at)) {
      list.appendChild(h('li', { class: 'day' }, h('span', { text: formatDay(at) })));
      lastDay = at;
      lastGroup = null;
    }
    if (m.system) {
      list.appendChild(h('li', { class: 'system-line', text: m.text }));
      lastGroup = null;
      return;
    }
    const mine = m.from === me;
    const time = at.getTime();
    const continues = lastGroup && lastGroup.from === m.from && time - lastGroup.time < GROUP_GAP;
    if (!continues) {
      const stack = h('div', { class: 'stack' },
        !mine && isGroup ? h('p', { class: 'sender', text: displayName(m.from) }) : null,
        !mine && !isGroup ? h('span', { class: 'sr-only', text: `${displayName(m.from)}:` }) : null,
        mine ? h('span', { class: 'sr-only', text: 'You:' }) : null);
      list.appendChild(h('li', { class: `msg-group ${mine ? 'mine' : 'theirs'}`, dataset: { from: m.from } },
        mine ? null : avatar(m.from, { size: 'sm', dot: false }),
        stack));
      lastGroup = { from: m.from, time, stack };
    } else if (lastGroup) {
      lastGroup.time = time;
    }
    const bubble = h('div', { class: 'bubble' });
    fillBubble(bubble, m);
    lastGroup?.stack.appendChild(bubble);
    bubbles.set(m, bubble);
  }

  /**
   * @param {HTMLElement} bubble
   * @param {Message} m
   */
  function fillBubble(bubble, m) {
    bubble.className = `bubble ${m.state ?? 'sent'}${m.id !== undefined && m.id === conversation.found ? ' found' : ''}`;
    bubble.dataset.state = m.state ?? 'sent';
    const meta = h('span', { class: 'meta' });
    if (m.state === 'sending') {
      meta.append('Sending…');
    } else if (m.state === 'failed') {
      meta.append(icon('alert'), m.error ?? 'Not sent', ' · ',
        h('button', { type: 'button', class: 'link-btn', text: 'Retry', onclick: () => retryMessage(conversation, m) }));
    } else {
      const at = new Date(m.at);
      meta.appendChild(h('time', { datetime: m.at, title: formatFull(at), text: formatTime(at) }));
    }
    if (m.edited && !m.deleted) meta.append(' · ', h('span', { class: 'edited', title: formatFull(new Date(m.edited)), text: 'edited' }));
    bubble.dataset.rev = String(m.rev ?? 0);
    if (m.id !== undefined) bubble.dataset.message = String(m.id);
    // dir="auto": a message in Arabic or Hebrew reads right to left
    // whatever the page's direction.
    const text = m.deleted
      ? h('p', { class: 'text deleted', text: 'This message was deleted' })
      : m.file ? fileCard(m.file) : h('p', { class: 'text', dir: 'auto' }, linkify(m.text));
    /** @param {HTMLElement | null} editor */
    const editing = (editor) => {
      if (editor) text.replaceWith(editor);
      else {
        fillBubble(bubble, m);
        showReceipt(conversation, bubbles);
        /** @type {HTMLElement | null} */ (bubble.querySelector('.msg-tools button'))?.focus();
      }
    };
    bubble.replaceChildren(text, meta, reactionsRow(conversation, m) ?? '', messageTools(conversation, m, editing) ?? '');
  }

  /** Brings the list up to date with the conversation's messages. */
  function update() {
    const messages = conversation.messages;
    const atEnd = nearEnd();
    const prefixSame = rendered.length <= messages.length && rendered.every((m, i) => messages[i] === m);
    if (!prefixSame || (rendered.length === 0 && conversation.history !== 'none')) {
      // Keep what the reader sees where it was: messages put in above it
      // (an earlier page) must not push it away.
      const fromBottom = timeline.scrollHeight - timeline.scrollTop;
      renderAll();
      if (atEnd) scrollToEnd();
      else timeline.scrollTop = timeline.scrollHeight - fromBottom;
    } else {
      for (const [m, bubble] of bubbles) {
        const changed = bubble.dataset.rev !== String(m.rev ?? 0) && !bubble.querySelector('.edit-form');
        if (bubble.dataset.state !== (m.state ?? 'sent') || changed) fillBubble(bubble, m);
      }
      const fresh = messages.slice(rendered.length);
      for (const m of fresh) appendMessage(m);
      rendered = [...messages];
      if (fresh.length) {
        const mineOnly = fresh.every((m) => m.from === me);
        if (atEnd || mineOnly) scrollToEnd(!mineOnly);
        else jump.hidden = false;
      }
    }
    showReceipt(conversation, bubbles);
    // The intro line follows the history's loading state, without moving
    // what is read below it.
    const first = list.firstElementChild;
    if (first?.classList.contains('intro')) {
      const fromBottom = timeline.scrollHeight - timeline.scrollTop;
      first.replaceWith(intro());
      if (!atEnd) timeline.scrollTop = timeline.scrollHeight - fromBottom;
    }
  }

  /* Typing indicator */
  const typingLine = h('div', { class: 'typing-line', 'aria-live': 'polite' });
  function renderTyping() {
    replace(typingLine, conversation.typing
      ? h('span', { class: 'typing' }, h('span', { class: 'typing-dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')),
        `${displayName(conversation.peer)} is typing…`)
      : '');
  }

  /* Composer */
  const inputId = `composer-${conversation.key.replace(/[^a-z0-9]/gi, '-')}`;
  const textarea = h('textarea', {
    id: inputId, rows: 1, class: 'composer-input', dir: 'auto', placeholder: `Message ${title()}`,
    'aria-describedby': `${inputId}-hint`, enterkeyhint: 'send', value: conversation.draft,
  });
  const composerLabel = h('label', { class: 'sr-only', htmlFor: inputId, text: `Message ${title()}` });
  const send = h('button', { type: 'submit', class: 'send', 'aria-label': 'Send message', title: 'Send (Enter)' }, icon('send'));
  const counter = h('span', { class: 'counter', 'aria-live': 'polite' });
  const offlineNote = h('p', { class: 'composer-note', hidden: true });
  const attach = attachFiles(conversation, textarea);
  const composer = h('form', { class: 'composer', 'aria-label': 'Write a message' },
    offlineNote,
    composerLabel,
    attach.status,
    h('div', { class: 'composer-box' }, attach.button, attach.input, textarea, send),
    h('p', { class: 'composer-hint', id: `${inputId}-hint` },
      h('span', {}, h('kbd', { text: 'Enter' }), ' to send, ', h('kbd', { text: 'Shift' }), '+', h('kbd', { text: 'Enter' }), ' for a new line'),
      counter));
  const endedBar = h('div', { class: 'ended-bar', role: 'status' });

  function autosize() {
    textarea.style.height = 'auto';
    // Empty, it stays one line high: a long placeholder must not grow it.
    textarea.style.height = textarea.value ? `${Math.min(textarea.scrollHeight, 180)}px` : '';
  }

  function updateComposer() {
    const text = textarea.value;
    const length = [...text].length;
    send.disabled = !text.trim() || length > MAX_CHARS;
    counter.textContent = length > MAX_CHARS - 500 ? `${length.toLocaleString()} / ${MAX_CHARS.toLocaleString()}` : '';
    counter.classList.toggle('over', length > MAX_CHARS);
  }

  function renderComposerState() {
    const ended = isGroup && conversation.ended;
    composer.hidden = ended;
    endedBar.hidden = !ended;
    if (ended) {
      replace(endedBar, h('span', { text: 'You are no longer in this group chat. Its messages stay here, read-only, until you close it.' }),
        h('button', { type: 'button', class: 'btn small', text: 'Close chat', onclick: leave }));
    }
    if (!isGroup) {
      const offline = !isOnline(conversation.peer);
      offlineNote.hidden = !offline;
      offlineNote.textContent = offline
        ? `${displayName(conversation.peer)} is offline. Your messages reach them when they next sign in.`
        : '';
    }
  }

  function submit() {
    const text = textarea.value;
    if (!text.trim() || [...text].length > MAX_CHARS) return;
    textarea.value = '';
    conversation.draft = '';
    autosize();
    updateComposer();
    sendMessage(conversation, text.replace(/\s+$/, ''));
  }

  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
    textarea.focus();
  });
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      submit();
    }
  });
  textarea.addEventListener('input', () => {
    conversation.draft = textarea.value;
    autosize();
    updateComposer();
    if (!isGroup) {
      if (textarea.value.trim()) typing(conversation.peer);
      else stopTyping();
    }
  });
  textarea.addEventListener('blur', () => {
    if (!isGroup) stopTyping();
  });

  /* Participants (group chats) */
  const participants = isGroup ? h('aside', { class: 'participants', id: 'participants', 'aria-labelledby': 'participants-title' }) : null;
  function renderParticipants() {
    if (!participants) return;
    // Nobody is in a chat the user is no longer in (it ended, or went on
    // without them): no list to show.
    participants.hidden = conversation.ended;
    if (conversation.ended) return;
    const members = [...conversation.members].sort((a, b) => (a === me ? -1 : b === me ? 1 : displayName(a).localeCompare(displayName(b))));
    replace(participants, 
      h('div', { class: 'participants-head' },
        h('h2', { id: 'participants-title' }, 'Participants ', h('span', { class: 'count-pill', text: String(members.length) })),
        h('button', { type: 'button', class: 'icon-btn small participants-close', 'aria-label': 'Close participants', onclick: () => toggleParticipants(false) }, icon('x'))),
      h('ul', { class: 'people', 'aria-label': 'Participants' }, members.map((id) => personRow(id, id === me ? 'You' : ''))),
      conversation.invited.length ? h('h3', { class: 'people-heading', text: 'Invited' }) : null,
      conversation.invited.length ? h('ul', { class: 'people invited', 'aria-label': 'Invited' },
        conversation.invited.map((id) => personRow(id, 'Invitation sent'))) : null,
      conversation.ended ? null : h('button', {
        type: 'button', class: 'btn block', onclick: () => groupChatDialog({ conversation }),
      }, icon('userPlus'), 'Invite people'));
  }

  /**
   * @param {string} id
   * @param {string} note
   */
  function personRow(id, note) {
    const p = presenceOf(id);
    return h('li', { class: 'person', dataset: { person: id, status: p.status } },
      avatar(id, { size: 'sm' }),
      h('span', { class: 'person-text' },
        h('span', { class: 'person-name' }, displayName(id), note === 'You' ? h('span', { class: 'you', text: ' (you)' }) : null),
        h('span', { class: 'person-sub' },
          note && note !== 'You' ? note : statusLabel(p),
          p.message && note !== 'Invitation sent' ? h('span', { class: 'status-message', text: p.message }) : null)));
  }

  /** @param {boolean} [open] */
  function toggleParticipants(open) {
    if (!participants || !participantsButton) return;
    const show = open ?? !root.classList.contains('show-participants');
    root.classList.toggle('show-participants', show);
    participantsButton.setAttribute('aria-expanded', String(show));
    if (show && window.matchMedia('(max-width: 900px)').matches) {
      /** @type {HTMLElement | null} */ (participants.querySelector('button'))?.focus();
    } else if (!show) {
      participantsButton.focus();
    }
  }

  const root = h('section', { class: `chat ${isGroup ? 'group-chat' : ''}`, dataset: { conversation: conversation.key }, 'aria-label': label },
    header,
    h('div', { class: 'chat-body' },
      h('div', { class: 'chat-column' }, timeline, typingLine, composer, endedBar),
      isGroup ? h('div', { class: 'scrim', onclick: () => toggleParticipants(false) }) : null,
      participants));

  attach.dropOn(root);
  renderHeader();
  renderAll();
  renderTyping();
  renderParticipants();
  renderComposerState();
  updateComposer();
  queueMicrotask(() => {
    autosize();
    scrollToEnd();
  });

  const offs = [
    on('conversation', (key) => {
      if (key !== conversation.key) return;
      update();
      renderTyping();
      renderHeader();
      renderParticipants();
      renderComposerState();
    }),
    on('presence', () => {
      renderHeader();
      renderParticipants();
      renderComposerState();
    }),
    on('people', () => {
      renderHeader();
      renderParticipants();
      renderComposerState();
      update();
    }),
    on('contacts', renderHeader),
  ];

  return {
    element: root,
    label,
    focusComposer() {
      // Opened from a dialog: once it has closed (and given focus back).
      const dialog = document.querySelector('dialog[open]');
      if (dialog) return dialog.addEventListener('close', () => this.focusComposer(), { once: true });
      if (touchFirst()) /** @type {HTMLElement | null} */ (header.querySelector('.back'))?.focus({ preventScroll: true });
      else if (!composer.hidden) textarea.focus({ preventScroll: true });
    },
    destroy() {
      offs.forEach((off) => off());
      earlierSeen.disconnect();
      if (!isGroup) stopTyping();
    },
  };
}
