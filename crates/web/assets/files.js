// @ts-check
// Files in conversations: sending them (the attach button, dropping files
// onto the conversation, pasting a file or an image into the composer)
// and showing the message that carries one, as a card with its name,
// size and a download link, and a preview for images. Names are shown as
// text only; links go to the server's own file URLs only.

import { ApiError, api } from './api.js';
import { h, icon } from './dom.js';
import { toast } from './ui.js';

/**
 * @typedef {import('./api.js').FileInfo} FileInfo
 * @typedef {import('./store.js').Conversation} Conversation
 */

/** The types the server serves as images (anything else downloads). */
const PREVIEWED = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** Where the server serves files; a message's URL must be one of them. */
const FILES_PATH = /^\/api\/v1\/files\/[0-9a-f]+$/;

/** @type {Promise<number> | null} */
let maxBytes = null;

/** The largest file the server takes (asked once). */
function limit() {
  maxBytes ??= api.fileLimits().then((l) => l.max_bytes, () => {
    maxBytes = null;
    return Number.POSITIVE_INFINITY;
  });
  return maxBytes;
}

/**
 * A size as people read it: "512 bytes", "1.5 KB", "25 MB".
 * @param {number} bytes
 */
export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? Number(value.toFixed(1)) : Math.round(value)} ${units[unit]}`;
}

/**
 * The card of a file message: a preview for images (lazy, bounded by the
 * stylesheet, its alternative text the file's name), the name as a
 * download link, and the size.
 * @param {FileInfo} file
 */
export function fileCard(file) {
  const safe = typeof file.url === 'string' && FILES_PATH.test(file.url);
  const name = String(file.name || 'file');
  const size = formatSize(Number(file.size) || 0);
  const link = safe
    ? h('a', { class: 'file-name', href: file.url, download: name, dir: 'auto', text: name, 'aria-label': `${name}, ${size}, download` })
    : h('span', { class: 'file-name', dir: 'auto', text: name });
  const preview = safe && PREVIEWED.has(file.type)
    ? h('img', { class: 'file-preview', src: file.url, alt: name, loading: 'lazy', decoding: 'async' })
    : null;
  // An image that cannot be shown (the chat was left since) leaves the card.
  preview?.addEventListener('error', () => preview.remove(), { once: true });
  return h('div', { class: 'file-card', dataset: { file: String(file.id) } },
    preview,
    h('div', { class: 'file-row' },
      h('span', { class: 'file-icon' }, icon('file')),
      h('span', { class: 'file-text' }, link, h('span', { class: 'file-size', text: size }))));
}

/**
 * The controls that send files into a conversation: an attach button
 * with its (hidden) file picker, a status line while files are on their
 * way, pasting into `textarea`, and dropping onto an element (`dropOn`).
 * @param {Conversation} conversation
 * @param {HTMLTextAreaElement} textarea
 */
export function attachFiles(conversation, textarea) {
  const input = h('input', { type: 'file', class: 'file-input', multiple: true, tabIndex: -1, 'aria-label': 'Files to send' });
  const button = h('button', {
    type: 'button', class: 'attach', 'aria-label': 'Attach a file', title: 'Attach a file',
    onclick: () => input.click(),
  }, icon('paperclip'));
  const status = h('p', { class: 'file-status', role: 'status', hidden: true });
  let sending = 0;

  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    send(files);
  });
  textarea.addEventListener('paste', (event) => {
    const files = [...(event.clipboardData?.files ?? [])];
    if (!files.length) return;
    event.preventDefault();
    send(files);
  });

  /** @param {File[]} files */
  async function send(files) {
    if (!files.length) return;
    if (conversation.kind === 'nway' && conversation.ended) {
      toast({ kind: 'error', title: 'Not sent', body: 'You are no longer in this chat.' });
      return;
    }
    const max = await limit();
    for (const file of files) {
      if (file.size > max) {
        toast({ kind: 'error', title: `${file.name || 'The file'} is too large`, body: `Files can be at most ${formatSize(max)}; this one is ${formatSize(file.size)}.` });
        continue;
      }
      if (file.size === 0) {
        toast({ kind: 'error', title: `${file.name || 'The file'} is empty`, body: 'Only files with something in them can be sent.' });
        continue;
      }
      sending += 1;
      showStatus(`Sending ${file.name || 'file'}…`);
      try {
        const target = conversation.kind === 'im' ? { to: conversation.peer } : { chat: conversation.chatId };
        await api.sendFile(target, file);
      } catch (e) {
        toast({ kind: 'error', title: `${file.name || 'The file'} was not sent`, body: failure(e) });
      } finally {
        sending -= 1;
        showStatus(sending ? status.textContent ?? '' : '');
      }
    }
  }

  /** @param {string} text */
  function showStatus(text) {
    status.hidden = !text;
    status.textContent = text;
  }

  /**
   * Lets files be dropped onto `element` (the conversation).
   * @param {HTMLElement} element
   */
  function dropOn(element) {
    /** @param {DragEvent} event */
    const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files');
    element.addEventListener('dragover', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
      element.classList.add('dropping');
    });
    element.addEventListener('dragleave', (event) => {
      if (!element.contains(/** @type {Node | null} */ (event.relatedTarget))) element.classList.remove('dropping');
    });
    element.addEventListener('drop', (event) => {
      element.classList.remove('dropping');
      if (!carriesFiles(event)) return;
      event.preventDefault();
      send([...(event.dataTransfer?.files ?? [])]);
    });
  }

  return { button, input, status, dropOn };
}

/**
 * Why a file was not sent, in words.
 * @param {unknown} e
 */
function failure(e) {
  if (!(e instanceof ApiError)) return 'Something went wrong.';
  if (e.status === 413) return `It is too large. ${e.message}`;
  if (e.status === 403) return 'You may not send files here: you are no longer in this chat.';
  if (e.status === 404) return 'Nobody of that name can receive it.';
  if (e.status === 0) return 'No connection to the server (or the file is over the size limit).';
  return e.message;
}
