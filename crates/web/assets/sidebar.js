// @ts-check
// The left pane: invitations, group chats, and the contact list in
// collapsible groups with live status, unread counts and menus.

import {
  acceptInvite, declineInvite, inviteSender, openChatWith, openConversation, removeContact, removeGroup, reportError,
} from './actions.js';
import {
  addContactDialog, businessCard, groupChatDialog, moveContactDialog, renameContactDialog, renameGroupDialog,
} from './dialogs.js';
import { h, icon, replace } from './dom.js';
import {
  disableNotifications, enableNotifications, notificationPermission,
} from './notify.js';
import { statusLabel } from './status.js';
import {
  allContacts, displayName, imKey, isContact, isOnline, on, pref, presenceOf, setPref, state,
} from './store.js';
import { createMessageSearch } from './search.js';
import { confirmDialog, openMenu, toast } from './ui.js';
import { avatar, groupAvatar } from './widgets.js';

/** @typedef {import('./store.js').Conversation} Conversation */

/**
 * Builds the sidebar; returns it and a function that tears it down.
 * @returns {{element: HTMLElement, destroy: () => void}}
 */
export function createSidebar() {
  const filter = h('input', {
    type: 'search', id: 'contact-filter', placeholder: 'Search contacts', autocomplete: 'off',
    'aria-label': 'Search contacts', 'aria-keyshortcuts': 'Control+K',
  });
  const list = h('nav', { class: 'contact-list', 'aria-label': 'Contacts and chats' });
  const prompt = h('div', { class: 'notify-prompt', hidden: true });
  const messageSearch = createMessageSearch();
  const element = h('aside', { class: 'sidebar', 'aria-label': 'Contacts' },
    h('div', { class: 'sidebar-tools' },
      h('div', { class: 'search-field' }, icon('search'), filter),
      h('button', {
        type: 'button', class: 'icon-btn tool', 'aria-label': 'Add contact', title: 'Add contact',
        onclick: () => addContactDialog(),
      }, icon('userPlus')),
      h('button', {
        type: 'button', class: 'icon-btn tool', 'aria-label': 'New group chat', title: 'New group chat',
        onclick: () => groupChatDialog(),
      }, icon('users'))),
    messageSearch.element,
    prompt,
    list);

  /** @type {Set<string>} */
  const collapsed = new Set(pref('collapsed', []));

  function render() {
    const focusKey = /** @type {HTMLElement | null} */ (document.activeElement)?.dataset?.focusKey;
    const q = filter.value.trim().toLowerCase();
    const sections = [invitationsSection(), chatsSection(q), ...state.groups.map((g) => groupSection(g.name, g.contacts, q))];
    replace(list, sections);
    const contacts = allContacts();
    if (state.contactsLoaded && contacts.length === 0 && state.groups.length === 0) {
      list.appendChild(emptyState());
    } else if (q && !list.querySelector('.row:not([hidden])')) {
      list.appendChild(h('p', { class: 'list-note', text: `No contacts match “${filter.value.trim()}”.` }));
    } else if (!state.contactsLoaded) {
      list.appendChild(h('div', { class: 'list-loading', 'aria-busy': 'true' },
        [0, 1, 2, 3].map(() => h('div', { class: 'skeleton-row' }, h('span', { class: 'skeleton-avatar' }), h('span', { class: 'skeleton-line' })))));
    }
    if (focusKey) {
      const again = /** @type {HTMLElement | null} */ (list.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`));
      again?.focus();
    }
  }

  function emptyState() {
    return h('div', { class: 'list-empty' },
      h('div', { class: 'empty-icon' }, icon('userPlus')),
      h('p', { class: 'empty-title', text: 'Your contact list is empty' }),
      h('p', { class: 'empty-text', text: 'Find colleagues in the directory to see when they are available and chat with them.' }),
      h('button', { type: 'button', class: 'btn primary', onclick: () => addContactDialog() }, icon('userPlus'), 'Add contact'));
  }

  function invitationsSection() {
    if (state.invites.size === 0) return null;
    return h('section', { class: 'group invites', 'aria-label': 'Invitations' },
      h('h2', { class: 'section-title', text: 'Invitations' }),
      h('ul', { class: 'rows' }, [...state.invites].map(([id, invite]) =>
        h('li', { class: 'invite-row', dataset: { invite: String(id) } },
          groupAvatar('sm'),
          h('span', { class: 'row-text' },
            h('span', { class: 'row-name', text: invite.topic || 'Group chat' }),
            h('span', { class: 'row-sub', text: inviteSender(invite) })),
          h('span', { class: 'invite-actions' },
            h('button', {
              type: 'button', class: 'btn small primary', text: 'Accept',
              'aria-label': `Accept invitation to ${invite.topic || 'group chat'}`,
              onclick: () => acceptInvite(id).catch((e) => reportError('Could not join the chat', e)),
            }),
            h('button', {
              type: 'button', class: 'btn small', text: 'Decline',
              'aria-label': `Decline invitation to ${invite.topic || 'group chat'}`,
              onclick: () => declineInvite(id).then(render),
            }))))));
  }

  /** Group chats and 1:1 chats with people not on the list. */
  function chatsSection(/** @type {string} */ q) {
    const chats = [...state.conversations.values()]
      // Ended group chats stay (read-only) until closed.
      .filter((c) => c.kind === 'nway'
        || (c.kind === 'im' && !isContact(c.peer) && (c.messages.length > 0 || state.active === c.key)))
      .sort((a, b) => b.lastActivity - a.lastActivity);
    if (chats.length === 0) return null;
    const rows = chats.map((c) => chatRow(c, q));
    return h('section', { class: 'group chats', 'aria-labelledby': 'chats-title' },
      h('h2', { class: 'section-title', id: 'chats-title', text: 'Chats' }),
      h('ul', { class: 'rows' }, rows));
  }

  /**
   * @param {Conversation} c
   * @param {string} q
   */
  function chatRow(c, q) {
    const title = c.kind === 'nway' ? (c.topic || 'Group chat') : displayName(c.peer);
    const last = c.messages.filter((m) => !m.system).at(-1);
    const said = last?.deleted ? 'Message deleted' : last?.file ? `File: ${last.file.name}` : last?.text;
    const mine = last?.from === state.me?.id;
    // The latest message, as chat lists show it (a 1:1 row names only
    // its own side: the other is the row's title).
    const sub = c.kind === 'nway'
      ? (c.ended ? 'You are no longer in this chat' : last ? `${mine ? 'You' : displayName(last.from)}: ${said}` : `${c.members.length} participant${c.members.length === 1 ? '' : 's'}`)
      : last ? `${mine ? 'You: ' : ''}${said}` : statusLabel(presenceOf(c.peer));
    const hidden = q && !title.toLowerCase().includes(q);
    return h('li', { class: 'row', hidden, dataset: c.ended ? { chat: c.key, ended: '' } : { chat: c.key } },
      h('button', {
        type: 'button', class: 'row-main', 'data-nav': '', dataset: { focusKey: c.key },
        'aria-current': state.active === c.key ? 'true' : false,
        onclick: () => openConversation(c.key),
      },
      c.kind === 'nway' ? groupAvatar('md') : avatar(c.peer),
      h('span', { class: 'row-text' },
        h('span', { class: 'row-name', text: title }),
        h('span', { class: 'row-sub', text: sub })),
      unreadBadge(c.unread)));
  }

  /**
   * @param {string} name
   * @param {string[]} contacts
   * @param {string} q
   */
  function groupSection(name, contacts, q) {
    const isCollapsed = collapsed.has(name) && !q;
    const online = contacts.filter((id) => isOnline(id)).length;
    const sorted = [...contacts].sort((a, b) => displayName(a).localeCompare(displayName(b)));
    const listId = `group-${encodeURIComponent(name)}`;
    const rows = sorted.map((id) => contactRow(id, name, q));
    const anyShown = !q || rows.some((r) => !r.hidden);
    const menuButton = h('button', {
      type: 'button', class: 'icon-btn small group-menu', 'aria-label': `Options for group ${name}`,
      'aria-haspopup': 'menu', 'aria-expanded': 'false', title: 'Group options', dataset: { focusKey: `menu:${name}` },
      onclick: () => groupMenu(menuButton, name, contacts),
    }, icon('more'));
    return h('section', { class: `group ${isCollapsed ? 'collapsed' : ''}`, hidden: !anyShown, dataset: { group: name } },
      h('div', { class: 'group-head' },
        h('button', {
          type: 'button', class: 'group-toggle', 'aria-expanded': String(!isCollapsed), 'aria-controls': listId,
          'data-nav': '', dataset: { focusKey: `group:${name}` },
          onclick: () => toggleGroup(name),
        },
        icon('chevronDown', 'chev'),
        h('span', { class: 'group-name' }, name, h('span', { class: 'sr-inline', text: `, ${online} of ${contacts.length} online` })),
        h('span', { class: 'group-count', 'aria-hidden': 'true', text: `${online}/${contacts.length}` })),
        menuButton),
      h('ul', { class: 'rows', id: listId, hidden: isCollapsed },
        rows.length ? rows : h('li', { class: 'row-empty', text: 'No one in this group yet' })));
  }

  /** @param {string} name */
  function toggleGroup(name) {
    if (collapsed.has(name)) collapsed.delete(name);
    else collapsed.add(name);
    setPref('collapsed', [...collapsed]);
    render();
  }

  /**
   * @param {string} id
   * @param {string} group
   * @param {string} q
   */
  function contactRow(id, group, q) {
    const name = displayName(id);
    const p = presenceOf(id);
    const conversation = state.conversations.get(imKey(id));
    const hidden = q && !name.toLowerCase().includes(q) && !id.toLowerCase().includes(q) && !p.message.toLowerCase().includes(q);
    const active = state.active === imKey(id);
    const menuButton = h('button', {
      type: 'button', class: 'icon-btn small row-menu', 'aria-label': `Options for ${name}`,
      'aria-haspopup': 'menu', 'aria-expanded': 'false', title: 'Options', dataset: { focusKey: `menu:${group}:${id}` },
      onclick: () => contactMenu(menuButton, id, group),
    }, icon('more'));
    return h('li', { class: `row ${p.status === 'offline' ? 'offline' : ''}`, hidden, dataset: { contact: id, status: p.status } },
      h('button', {
        type: 'button', class: 'row-main', 'data-nav': '', dataset: { focusKey: `c:${group}:${id}` },
        'aria-current': active ? 'true' : false,
        onclick: () => openChatWith(id),
      },
      avatar(id),
      h('span', { class: 'row-text' },
        h('span', { class: 'row-name', text: name }),
        conversation?.typing
          ? h('span', { class: 'row-sub typing-note', text: 'typing…' })
          : state.people.get(id)?.missing
            ? h('span', { class: 'row-sub', text: 'Not in the directory' })
            : h('span', { class: 'row-sub' },
            h('span', { class: 'status-text', text: statusLabel(p) }),
            p.message ? h('span', { class: 'status-message', text: p.message }) : null)),
      unreadBadge(conversation?.unread ?? 0)),
      menuButton);
  }

  /** @param {number} n */
  function unreadBadge(n) {
    if (!n) return null;
    return h('span', { class: 'badge', dataset: { unread: String(n) } },
      h('span', { 'aria-hidden': 'true', text: n > 99 ? '99+' : String(n) }),
      h('span', { class: 'sr-only', text: `(${n} unread message${n === 1 ? '' : 's'})` }));
  }

  /**
   * @param {HTMLElement} anchor
   * @param {string} id
   * @param {string} group
   */
  function contactMenu(anchor, id, group) {
    const name = displayName(id);
    openMenu(anchor, [
      { label: 'Send message', icon: 'message', onSelect: () => openChatWith(id) },
      { label: 'Start group chat', icon: 'users', onSelect: () => groupChatDialog({ preselect: [id] }) },
      { label: 'Business card', icon: 'card', onSelect: () => businessCard(id) },
      'separator',
      { label: 'Rename…', icon: 'pencil', onSelect: () => renameContactDialog(id) },
      { label: 'Move to another group…', icon: 'move', onSelect: () => moveContactDialog(id, group) },
      {
        label: `Remove from ${group}`, icon: 'userMinus', danger: true,
        onSelect: () => removeContact(id, group).then(
          () => toast({ title: `${name} removed from ${group}`, icon: 'check' }),
          (e) => reportError('Could not remove the contact', e)),
      },
    ], { label: `Options for ${name}`, align: 'end' });
  }

  /**
   * @param {HTMLElement} anchor
   * @param {string} name
   * @param {string[]} contacts
   */
  function groupMenu(anchor, name, contacts) {
    const online = contacts.filter((id) => isOnline(id) && id !== state.me?.id);
    openMenu(anchor, [
      { label: 'Add contact to this group', icon: 'userPlus', onSelect: () => addContactDialog(name) },
      ...(online.length ? [{ label: 'Group chat with everyone online', icon: /** @type {const} */ ('users'), onSelect: () => groupChatDialog({ preselect: online }) }] : []),
      { label: 'Rename group…', icon: 'pencil', onSelect: () => renameGroupDialog(name) },
      'separator',
      {
        label: 'Remove group', icon: 'trash', danger: true,
        onSelect: async () => {
          const n = contacts.length;
          const ok = n === 0 || await confirmDialog({
            title: `Remove “${name}”?`,
            message: `The group and the ${n === 1 ? 'contact' : `${n} contacts`} in it leave your list. You can add them again later.`,
            confirm: 'Remove group',
            danger: true,
          });
          if (ok) removeGroup(name).catch((e) => reportError('Could not remove the group', e));
        },
      },
    ], { label: `Options for group ${name}`, align: 'end' });
  }

  function renderPrompt() {
    const permission = notificationPermission();
    const dismissed = pref('notify-prompt-dismissed', false);
    prompt.hidden = permission !== 'default' || dismissed;
    if (prompt.hidden) return;
    replace(prompt,
      h('span', { class: 'prompt-icon' }, icon('bell')),
      h('p', { text: 'Get notified of new messages' }),
      h('div', { class: 'prompt-actions' },
        h('button', {
          type: 'button', class: 'btn small primary', text: 'Turn on',
          onclick: async () => {
            const ok = await enableNotifications();
            if (!ok) disableNotifications();
            renderPrompt();
          },
        }),
        h('button', {
          type: 'button', class: 'icon-btn small', 'aria-label': 'Not now', title: 'Not now',
          onclick: () => {
            setPref('notify-prompt-dismissed', true);
            renderPrompt();
          },
        }, icon('x'))));
  }

  // Arrow keys move between rows and group headers; Left/Right fold groups.
  list.addEventListener('keydown', (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    if (!target.matches('[data-nav]')) return;
    const items = /** @type {HTMLElement[]} */ ([...list.querySelectorAll('[data-nav]')]).filter((el) => el.offsetParent !== null);
    const index = items.indexOf(target);
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const next = items[index + (event.key === 'ArrowDown' ? 1 : -1)];
      next?.focus();
    } else if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      items[event.key === 'Home' ? 0 : items.length - 1]?.focus();
    } else if (target.classList.contains('group-toggle') && (event.key === 'ArrowLeft' || event.key === 'ArrowRight')) {
      const expanded = target.getAttribute('aria-expanded') === 'true';
      if ((event.key === 'ArrowLeft') === expanded) {
        event.preventDefault();
        target.click();
      }
    }
  });

  filter.addEventListener('input', render);
  filter.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && filter.value) {
      filter.value = '';
      render();
    } else if (event.key === 'ArrowDown') {
      event.preventDefault();
      /** @type {HTMLElement | null} */ (list.querySelector('.row:not([hidden]) [data-nav], [data-nav]'))?.focus();
    } else if (event.key === 'Enter') {
      /** @type {HTMLElement | null} */ (list.querySelector('.row:not([hidden]) .row-main'))?.click();
    }
  });

  // One render per frame, however many events arrive: connecting with
  // 2,000 contacts brings 2,000 status events, each its own task.
  let scheduled = false;
  const later = () => {
    if (scheduled) return;
    scheduled = true;
    const run = () => {
      scheduled = false;
      render();
    };
    // Hidden tabs get no animation frames; they still catch up.
    if (document.hidden) setTimeout(run, 250);
    else requestAnimationFrame(run);
  };
  const offs = ['presence', 'people', 'contacts', 'conversations', 'active', 'typing', 'invites'].map((t) => on(t, later));
  render();
  renderPrompt();
  return {
    element,
    destroy: () => [...offs, messageSearch.destroy].forEach((off) => off()),
  };
}
