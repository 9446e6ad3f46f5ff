// @ts-check
// The HTTP API under /api/v1: JSON in and out, errors as {"error": "..."}.
// The session is the LtpaToken2 cookie (HttpOnly, so the page never sees
// it); cookie-authenticated writes carry the X-CSRF-Token header.

/**
 * @typedef {{id: string, name: string, display_name: string}} User
 * @typedef {{user: User, csrf_token: string, must_change_password?: boolean}} Session
 * @typedef {'available' | 'away' | 'dnd' | 'in_meeting' | 'offline'} StatusName
 * @typedef {{status: StatusName, message: string, idle: boolean}} Presence
 * @typedef {{id: string, display_name: string, mail?: string | null, title?: string | null,
 *   phone?: string | null, location?: string | null, photo_url?: string | null, status?: StatusName, message?: string, idle?: boolean}} Card
 * @typedef {{id: string, display_name: string, mail?: string | null}} DirectoryEntry
 * @typedef {{name: string, contacts: string[]}} ContactGroup
 * @typedef {{groups: ContactGroup[], aliases?: Record<string, string>}} ContactList
 * @typedef {{id: string, name: string, size: number, type: string, url: string}} FileInfo
 *   a file a message carries (`url`: where the conversation's members download it)
 * @typedef {{id: number, from: string, to: string, text: string, at: string, file?: FileInfo}} Im
 * @typedef {{conversation: string, with?: string, chat?: number, topic?: string,
 *   last?: {id: number, from: string, text: string, at: string, file?: FileInfo, deleted?: boolean}, unread: number, seen?: number,
 *   member?: boolean}} ConversationListing
 *   a conversation of the caller, with what is unread on all their devices (`member: false`: a group chat
 *   they are no longer in, theirs to read until they leave it)
 * @typedef {{id: number, topic: string, members: string[], invited: boolean}} ChatListing
 *   an n-way chat the caller is in, or invited to (`invited`: not answered yet)
 */

/** An error answer, or no answer at all (`status` 0). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

let csrfToken = '';
/** @type {() => void} */
let onUnauthorized = () => {};

/** @param {string} token */
export function setCsrfToken(token) {
  csrfToken = token;
}

/**
 * Called when a call answers 401: the session ended (logout elsewhere,
 * expired token).
 * @param {() => void} handler
 */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{quiet401?: boolean}} [options]
 * @returns {Promise<any>}
 */
async function call(method, path, body, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  // A form (a file) goes as multipart/form-data, which fetch writes.
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined || form ? /** @type {FormData | undefined} */ (body) : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.');
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const message = data && typeof data.error === 'string' ? data.error : `${response.status} ${response.statusText}`;
    if (response.status === 401 && !options.quiet401) onUnauthorized();
    throw new ApiError(response.status, message);
  }
  return data;
}

const enc = encodeURIComponent;

/**
 * The query of a history page: the one before message `before`, or none
 * (the newest).
 * @param {number} [before]
 */
function page(before) {
  return before === undefined ? '' : `?before=${before}`;
}

export const api = {
  /** @returns {Promise<Session>} */
  me: () => call('GET', '/api/v1/me', undefined, { quiet401: true }),
  /** @param {string} user @param {string} password @returns {Promise<Session>} */
  login: (user, password) => call('POST', '/api/v1/login', { user, password }, { quiet401: true }),
  logout: () => call('POST', '/api/v1/logout', undefined, { quiet401: true }),
  /**
   * Every earlier session ends with the password: the answer brings the
   * new one (cookie and CSRF token), which takes over here.
   * @param {string} current @param {string} next @returns {Promise<Session>}
   */
  changePassword: async (current, next) => {
    /** @type {Session} */
    const session = await call('POST', '/api/v1/me/password', { current, new: next });
    setCsrfToken(session.csrf_token);
    return session;
  },
  /** @param {StatusName} status @param {string} message @param {boolean} idle @returns {Promise<Presence>} */
  setStatus: (status, message, idle = false) => call('PUT', '/api/v1/me/status', { status, message, idle }),
  /** @param {string[]} users @returns {Promise<Record<string, Presence>>} */
  awareness: (users) => call('GET', `/api/v1/awareness?${users.map((u) => `user=${enc(u)}`).join('&')}`),
  /** @param {string[]} ids @returns {Promise<Record<string, Card>>} */
  cards: (ids) => call('GET', `/api/v1/users?${ids.map((id) => `id=${enc(id)}`).join('&')}`),
  /** @param {string} q @returns {Promise<DirectoryEntry[]>} */
  search: (q) => call('GET', `/api/v1/directory/search?q=${enc(q)}`),
  /** @returns {Promise<ContactList>} */
  contacts: () => call('GET', '/api/v1/contacts'),
  /** @param {ContactList} list @returns {Promise<ContactList>} */
  putContacts: (list) => call('PUT', '/api/v1/contacts', list),
  /** @param {string} to @param {string} text @returns {Promise<{id: number, at: string, delivered: boolean}>} */
  sendIm: (to, text) => call('POST', `/api/v1/im/${enc(to)}`, { text }),
  /**
   * The newest messages with a user, or those before message `before`.
   * @param {string} withUser @param {number} [before] @returns {Promise<Im[]>}
   */
  history: (withUser, before) => call('GET', `/api/v1/im/${enc(withUser)}/history${page(before)}`),
  /** @returns {Promise<ConversationListing[]>} */
  conversations: () => call('GET', '/api/v1/conversations'),
  /** @param {string} conversation @param {number} upTo */
  markRead: (conversation, upTo) => call('POST', '/api/v1/conversations/read', { conversation, up_to: upTo }),
  /** @param {number} id @param {string} text */
  editMessage: (id, text) => call('PATCH', `/api/v1/messages/${id}`, { text }),
  /** @param {number} id */
  deleteMessage: (id) => call('DELETE', `/api/v1/messages/${id}`),
  /** @param {number} id @param {string} emoji @param {boolean} on */
  react: (id, emoji, on) => call('PUT', `/api/v1/messages/${id}/reactions`, { emoji, on }),
  /** @returns {Promise<{read_receipts: boolean, reactions: string[]}>} */
  settings: () => call('GET', '/api/v1/settings'),
  /** @param {{read_receipts: boolean}} change @returns {Promise<{read_receipts: boolean, reactions: string[]}>} */
  putSettings: (change) => call('PUT', '/api/v1/settings', change),
  /** @returns {Promise<ChatListing[]>} */
  chats: () => call('GET', '/api/v1/nway'),
  /** @param {string[]} invite @param {string} topic @returns {Promise<{id: number}>} */
  createChat: (invite, topic) => call('POST', '/api/v1/nway', { invite, topic }),
  /** @param {number} id @param {string[]} users */
  inviteToChat: (id, users) => call('POST', `/api/v1/nway/${id}/invite`, { users }),
  /** @param {number} id @returns {Promise<{id: number, members: string[]}>} */
  joinChat: (id) => call('POST', `/api/v1/nway/${id}/join`),
  /** @param {number} id */
  declineChat: (id) => call('POST', `/api/v1/nway/${id}/decline`),
  /** @param {number} id */
  leaveChat: (id) => call('POST', `/api/v1/nway/${id}/leave`),
  /**
   * The newest messages of a group chat, or those before message `before`.
   * @param {number} id @param {number} [before]
   * @returns {Promise<{id: number, from: string, text: string, at: string}[]>}
   */
  chatHistory: (id, before) => call('GET', `/api/v1/nway/${id}/history${page(before)}`),
  /**
   * The user's messages with every word of `q`, newest first (`before`: the next page).
   * @param {string} q @param {number | undefined} before @param {number} limit
   */
  searchMessages: (q, before, limit) => call('GET', `/api/v1/search?q=${enc(q)}&limit=${limit}${before === undefined ? '' : `&before=${before}`}`),
  /**
   * Sends a file to a user (`to`) or into a group chat (`chat`).
   * @param {{to?: string, chat?: number}} target @param {File} file
   * @returns {Promise<{id: number, url: string, file: FileInfo, at: string}>}
   */
  sendFile: (target, file) => {
    const form = new FormData();
    if (target.to !== undefined) form.append('to', target.to);
    else form.append('chat', String(target.chat));
    form.append('file', file, file.name || 'file');
    return call('POST', '/api/v1/files', form);
  },
  /** @returns {Promise<{max_bytes: number, allowed: boolean, policy?: string}>} */
  fileLimits: () => call('GET', '/api/v1/files/limits'),
  /** @param {number} id @param {string} text @returns {Promise<{id: number, at: string}>} */
  chatMessage: (id, text) => call('POST', `/api/v1/nway/${id}/messages`, { text }),
};
