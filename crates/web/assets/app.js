// @ts-check
// The Simul chat client: sign-in (skipped with a single sign-on cookie),
// then the contact list, conversations and live presence over one
// WebSocket. No framework: ES modules, DOM built with textContent only.

import {
  acceptInvite, declineInvite, handleEvent, inviteTitle, listNames, logout, myPresence, onReady, openConversation, reportError,
  resetActions, restoreConversation, setInviteHandler, setMyStatus, setStream, startIdleWatch, watch,
} from './actions.js';
import { createAnnouncements } from './announcements.js';
import { ApiError, api, setCsrfToken, setUnauthorizedHandler } from './api.js';
import { createChatPane } from './chat.js';
import { businessCard } from './dialogs.js';
import { arrowNavigate, h, icon, replace } from './dom.js';
import { EventStream } from './events.js';
import { showLogin } from './login.js';
import {
  disableNotifications, enableNotifications, notificationPermission, notificationsOn, setBaseTitle,
} from './notify.js';
import { readReceiptsItem } from './message-tools.js';
import { changePasswordDialog, showPasswordChangePage } from './password.js';
import { createSidebar } from './sidebar.js';
import { SETTABLE, STATUS, setDot, statusDot, statusLabel } from './status.js';
import { emit, ensurePerson, on, reset, state } from './store.js';
import { closeIfOpen, floating, openMenu, toast } from './ui.js';
import { avatar } from './widgets.js';

/** @typedef {import('./api.js').Session} Session */

const root = /** @type {HTMLElement} */ (document.getElementById('app'));

/** Tears down the signed-in shell. */
let teardown = () => {};

async function boot() {
  setUnauthorizedHandler(() => signedOut('Your session ended. Please sign in again.'));
  /** @type {Session | null} */
  let session = null;
  try {
    session = await api.me();
  } catch (e) {
    if (e instanceof ApiError && e.status !== 401) {
      // The server is there but refuses this account (disabled, gone from
      // the directory) or is unwell, or it is not reachable: say so.
      if (e.status === 0) return signIn('The server cannot be reached right now.');
      if (e.status === 403) return signIn(`You were signed out: ${e.message}.`);
      return signIn(`${e.message.charAt(0).toUpperCase()}${e.message.slice(1)}.`);
    }
  }
  if (session) enter(session);
  else signIn();
}

/**
 * Into the app, through the password change when the server asks for one.
 * @param {Session} session
 */
async function enter(session) {
  if (session.must_change_password) {
    setCsrfToken(session.csrf_token);
    root.dataset.view = 'password';
    const outcome = await showPasswordChangePage(root, session);
    if (outcome === 'signout') {
      await api.logout().catch(() => {});
      return signIn('You are signed out.');
    }
    toast({ title: 'Password changed', body: 'Use the new password next time you sign in.', icon: 'check' });
    session = outcome;
  }
  // Sent here by the console's sign-in link: back to it (that one path only).
  if (new URLSearchParams(location.search).get('next') === '/console') {
    location.assign('/console');
    return;
  }
  start({ ...session, must_change_password: false });
}

/** @param {string} [notice] */
async function signIn(notice) {
  root.dataset.view = 'login';
  const session = await showLogin(root, { notice });
  enter(session);
}

/** @param {string} [notice] */
function signedOut(notice) {
  if (root.dataset.view !== 'app') return;
  teardown();
  signIn(notice);
}

/**
 * The signed-in app.
 * @param {Session} session
 */
function start(session) {
  reset();
  state.me = session.user;
  state.people.set(session.user.id, { id: session.user.id, display_name: session.user.display_name });
  setCsrfToken(session.csrf_token);
  root.dataset.view = 'app';
  setBaseTitle('Simul');

  const stream = new EventStream();
  setStream(stream);
  const sidebar = createSidebar();
  const chat = createChatPane();
  const banner = h('div', { class: 'conn-banner', role: 'status', hidden: true });
  const announcements = createAnnouncements();
  const bar = topbar();
  const shell = h('div', { class: 'shell' },
    bar.element,
    banner,
    announcements.element,
    h('div', { class: 'workspace' }, sidebar.element, chat.element));
  root.replaceChildren(h('a', { class: 'skip-link', href: '#main', text: 'Skip to conversation' }), shell);
  // Not left on the sign-in button that is gone: the first field (a chat
  // the page reopens takes it to its composer). A touch screen gets no
  // keyboard popping up: focus starts at the top instead.
  if (window.matchMedia('(pointer: coarse)').matches) bar.element.querySelector('h1')?.focus({ preventScroll: true });
  else /** @type {HTMLElement | null} */ (sidebar.element.querySelector('#contact-filter'))?.focus({ preventScroll: true });

  /* Phone layout: list or conversation, one at a time. */
  const offActive = on('active', (key) => {
    shell.classList.toggle('show-chat', !!key);
    if (!key && window.matchMedia('(max-width: 720px)').matches) {
      /** @type {HTMLElement | null} */ (sidebar.element.querySelector('[aria-current="true"], .row-main'))?.focus({ preventScroll: true });
    }
  });

  /* Connection state */
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let countdown;
  const renderBanner = () => {
    clearInterval(countdown);
    const s = stream.state;
    state.connection = s;
    shell.dataset.connection = s;
    banner.hidden = s === 'online' || (s === 'connecting' && stream.attempt === 0);
    if (banner.hidden) return;
    const draw = () => {
      const seconds = Math.max(0, Math.ceil((stream.nextTry - Date.now()) / 1000));
      replace(banner, icon('wifiOff'),
        h('span', { text: s === 'connecting' ? 'Reconnecting…' : `Connection lost. Retrying in ${seconds} s.` }),
        s === 'offline' ? h('button', { type: 'button', class: 'link-btn', text: 'Retry now', onclick: () => stream.retryNow() }) : null);
    };
    draw();
    if (s === 'offline') countdown = setInterval(draw, 1000);
  };
  stream.addEventListener('state', () => {
    renderBanner();
    emit('connection');
  });
  stream.addEventListener('event', (e) => {
    const event = /** @type {CustomEvent} */ (e).detail;
    if (event.type === 'ready') onReady();
    else if (event.type === 'announcement') announcements.show(event);
    else handleEvent(event);
  });
  stream.addEventListener('down', async (e) => {
    const { wasReady } = /** @type {CustomEvent} */ (e).detail;
    // A refused upgrade looks like any other drop: ask whether the session is still valid.
    if (!wasReady || stream.attempt > 2) {
      try {
        await api.me();
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) signedOut('Your session ended. Please sign in again.');
        // Disabled, or removed from the directory: retrying will not help.
        if (error instanceof ApiError && error.status === 403) signedOut(`You were signed out: ${error.message}.`);
      }
    }
  });

  /* Invitations */
  /** @type {Map<number, {close: () => void}>} */
  const inviteToasts = new Map();
  setInviteHandler((id) => {
    const invite = state.invites.get(id);
    if (!invite) return;
    inviteToasts.get(id)?.close();
    const t = toast({
      kind: 'invite',
      icon: 'users',
      title: inviteTitle(invite),
      // Sent while this page was away: the inviter is unknown, the members are not.
      body: [invite.topic ? `“${invite.topic}”` : '', !invite.from && invite.members?.length ? `with ${listNames(invite.members)}` : '']
        .filter(Boolean).join(' · ') || undefined,
      actions: [
        { label: 'Accept', primary: true, onClick: () => acceptInvite(id).catch((err) => reportError('Could not join the chat', err)) },
        { label: 'Decline', onClick: () => declineInvite(id) },
      ],
    });
    t.element.dataset.invite = String(id);
    inviteToasts.set(id, t);
  });
  const offInvites = on('invites', () => {
    for (const [id, t] of inviteToasts) {
      if (!state.invites.has(id)) {
        t.close();
        inviteToasts.delete(id);
      }
    }
  });

  /* Keyboard shortcuts */
  /** @param {KeyboardEvent} event */
  const shortcuts = (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'k') {
      event.preventDefault();
      if (state.active && window.matchMedia('(max-width: 720px)').matches) openConversation(null);
      /** @type {HTMLElement | null} */ (document.getElementById('contact-filter'))?.focus();
    } else if (event.key === 'Escape' && !document.querySelector('dialog[open], .floating') && state.active
      && window.matchMedia('(max-width: 720px)').matches) {
      openConversation(null);
    }
  };
  document.addEventListener('keydown', shortcuts);

  const stopIdle = startIdleWatch();
  stream.connect();
  loadContacts();

  teardown = () => {
    root.dataset.view = 'out';
    bar.destroy();
    stream.stop();
    setStream(null);
    clearInterval(countdown);
    sidebar.destroy();
    chat.destroy();
    offActive();
    offInvites();
    stopIdle();
    document.removeEventListener('keydown', shortcuts);
    for (const t of inviteToasts.values()) t.close();
    document.querySelectorAll('dialog, .floating, .toasts').forEach((el) => el.remove());
    resetActions();
    reset();
    setBaseTitle('Simul');
    teardown = () => {};
  };
}

async function loadContacts() {
  try {
    const list = await api.contacts();
    state.groups = list.groups ?? [];
    state.aliases = list.aliases ?? {};
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) reportError('Could not load your contacts', e);
  }
  state.contactsLoaded = true;
  const ids = [...new Set(state.groups.flatMap((g) => g.contacts))];
  for (const id of ids) ensurePerson(id);
  // Sent now if the stream is up; otherwise when it is ready (and again on
  // every reconnect).
  watch(ids);
  emit('contacts');
  restoreConversation();
}

/** The top bar: brand, own status, user menu. */
function topbar() {
  const me = state.me;
  if (!me) throw new Error('not signed in');

  const dot = statusDot(myPresence(), 'big');
  const statusText = h('span', { class: 'status-label' });
  const messageText = h('span', { class: 'status-msg' });
  const statusButton = h('button', {
    type: 'button', class: 'status-button', 'aria-haspopup': 'dialog', 'aria-expanded': 'false',
    onclick: () => openStatusPanel(statusButton),
  }, dot, h('span', { class: 'status-texts' }, statusText, messageText), icon('chevronDown', 'chev'));

  const userButton = h('button', {
    type: 'button', class: 'user-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
    onclick: () => openUserMenu(userButton),
  }, avatar(me.id, { size: 'sm', dot: false }), h('span', { class: 'sr-only', text: 'Account:' }),
  h('span', { class: 'user-name', text: me.display_name }), icon('chevronDown', 'chev'));

  const render = () => {
    const p = myPresence();
    setDot(dot, p);
    statusText.textContent = statusLabel(p);
    messageText.textContent = p.message;
    messageText.hidden = !p.message;
    statusButton.setAttribute('aria-label', `Your status: ${statusLabel(p)}${p.message ? `, ${p.message}` : ''}. Change status`);
    statusButton.dataset.status = p.status;
    statusButton.disabled = state.connection !== 'online';
    statusButton.title = state.connection === 'online' ? 'Set your status' : 'Reconnecting: status can be set once connected';
  };
  const offs = [on('me', render), on('connection', render)];
  render();

  const element = h('header', { class: 'topbar' },
    h('div', { class: 'brand' },
      h('img', { src: '/assets/icon.svg', alt: '', width: 28, height: 28 }),
      // The one h1 of the signed-in app: chat titles and lists are h2.
      h('h1', { class: 'brand-name', text: 'Simul', tabIndex: -1 })),
    h('div', { class: 'topbar-me' }, statusButton, userButton));
  return { element, destroy: () => offs.forEach((off) => off()) };
}

/**
 * The status picker: the four statuses and the status message.
 * @param {HTMLElement} anchor
 */
function openStatusPanel(anchor) {
  if (closeIfOpen(anchor)) return;
  const current = myPresence();
  const message = h('input', {
    type: 'text', id: 'status-message', maxlength: 256, value: current.message,
    placeholder: 'What are you up to?', autocomplete: 'off', 'aria-describedby': 'status-hint',
  });
  /** @type {HTMLButtonElement[]} */
  const options = [];
  let close = () => {};
  /** @param {import('./api.js').StatusName} status @param {string} text */
  const apply = async (status, text) => {
    try {
      await setMyStatus(status, text);
    } catch (e) {
      reportError('Could not set your status', e);
    }
  };
  for (const status of SETTABLE) {
    const selected = current.status === status;
    const option = h('button', {
      type: 'button', class: 'status-option', 'aria-pressed': String(selected), dataset: { status },
      onclick: async () => {
        close();
        await apply(status, message.value.trim());
      },
    }, statusDot({ status, message: '', idle: false }, 'big'),
    h('span', { class: 'status-option-text' },
      h('span', { class: 'status-option-label', text: STATUS[status].label }),
      h('span', { class: 'status-option-hint', text: STATUS[status].hint })),
    selected ? icon('check', 'tick') : null);
    options.push(option);
  }
  const save = async () => {
    close();
    const status = myPresence().status === 'offline' ? 'available' : myPresence().status;
    await apply(/** @type {import('./api.js').StatusName} */ (status), message.value.trim());
  };
  message.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      save();
    }
  });
  // One step: the message first, then the status that goes with it (or
  // Enter, or "Save message", to keep the status).
  const panel = h('div', { class: 'popover status-panel', role: 'dialog', 'aria-label': 'Set your status' },
    h('label', { class: 'popover-title', htmlFor: 'status-message', text: 'Status message' }),
    h('div', { class: 'status-message-row' }, message,
      h('button', {
        type: 'button', class: 'icon-btn small', 'aria-label': 'Clear status message', title: 'Clear',
        onclick: () => {
          message.value = '';
          message.focus();
        },
      }, icon('x'))),
    h('div', { class: 'popover-actions' },
      h('p', { class: 'status-hint', id: 'status-hint', text: 'Then choose a status below.' }),
      h('button', { type: 'button', class: 'btn small', text: 'Save message', onclick: save })),
    h('div', { class: 'popover-sep' }),
    h('p', { class: 'popover-title', id: 'status-options-title', text: 'Status' }),
    h('div', { class: 'status-options', role: 'group', 'aria-labelledby': 'status-options-title' }, options));
  panel.addEventListener('keydown', (event) => {
    if (event.target instanceof HTMLButtonElement && options.includes(event.target)) arrowNavigate(event, options);
  });
  close = floating(anchor, panel, { align: 'end' });
  message.focus();
  message.select();
}

/** @param {HTMLElement} anchor */
function openUserMenu(anchor) {
  const permission = notificationPermission();
  const on = notificationsOn();
  openMenu(anchor, [
    {
      label: 'Business card', icon: 'card',
      onSelect: () => businessCard(state.me?.id ?? ''),
    },
    { label: 'Change password…', icon: 'lock', onSelect: () => changePasswordDialog({ forced: false }) },
    readReceiptsItem(),
    ...(permission === 'unsupported' ? [] : [{
      label: on ? 'Turn off desktop notifications' : 'Turn on desktop notifications',
      icon: /** @type {import('./dom.js').IconName} */ (on ? 'bellOff' : 'bell'),
      hint: permission === 'denied' ? 'Blocked in the browser' : undefined,
      onSelect: async () => {
        if (on) {
          disableNotifications();
          toast({ title: 'Desktop notifications are off', icon: 'bellOff' });
        } else if (await enableNotifications()) {
          toast({ title: 'Desktop notifications are on', body: 'You will be notified of messages while Simul is in the background.', icon: 'bell' });
        } else {
          toast({ kind: 'error', title: 'Notifications are blocked', body: 'Allow them for this site in the browser settings.' });
        }
      },
    }]),
    'separator',
    {
      label: 'Sign out', icon: 'logout',
      onSelect: async () => {
        teardown();
        await logout();
        signIn('You are signed out.');
      },
    },
  ], { label: 'Account', align: 'end' });
}

boot();
