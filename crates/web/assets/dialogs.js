// @ts-check
// Dialogs: add a contact from the directory, rename a group or a contact,
// move a contact, business cards, and starting or extending a group chat.

import { api } from './api.js';
import {
  addContact, inviteToChat, moveContact, openChatWith, renameContact, renameGroup, startGroupChat,
} from './actions.js';
import { debounce, h, icon, replace } from './dom.js';
import { statusLabel } from './status.js';
import {
  allContacts, displayName, ensurePerson, isOnline, presenceOf, rememberPeople, state,
} from './store.js';
import { field, modal, nextId, toast } from './ui.js';
import { avatar, presenceLine } from './widgets.js';

/** @typedef {import('./store.js').Conversation} Conversation */

const NEW_GROUP = '\u0000new';
const DEFAULT_GROUP = 'Contacts';

/**
 * A group picker: the existing groups and "New group…", which shows a name
 * field.
 * @param {string} [initial]
 */
function groupPicker(initial) {
  const names = state.groups.map((g) => g.name);
  const select = h('select', { name: 'group' },
    names.map((n) => h('option', { value: n, text: n, selected: n === initial })),
    h('option', { value: NEW_GROUP, text: 'New group…', selected: names.length === 0 }));
  const name = h('input', { type: 'text', name: 'new-group', maxlength: 64, placeholder: 'e.g. Project Apollo', value: names.length === 0 ? DEFAULT_GROUP : '' });
  const nameField = field('New group name', name);
  const sync = () => {
    nameField.hidden = select.value !== NEW_GROUP;
  };
  select.addEventListener('change', () => {
    sync();
    if (select.value === NEW_GROUP) name.focus();
  });
  sync();
  return {
    elements: [field('Group', select), nameField],
    /** The chosen group's name; throws when a new one has none. */
    value() {
      if (select.value !== NEW_GROUP) return select.value;
      const value = name.value.trim();
      if (!value) {
        name.focus();
        throw new Error('Give the new group a name.');
      }
      return value;
    },
  };
}

/**
 * Finds someone in the directory and adds them to a group.
 * @param {string} [initialGroup]
 */
export function addContactDialog(initialGroup) {
  const resultsId = nextId('results');
  const query = h('input', {
    type: 'search', name: 'q', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'Name, user ID or email', 'aria-controls': resultsId,
  });
  const status = h('p', { class: 'results-status', role: 'status', text: 'Type a name to search the directory.' });
  const results = h('div', { class: 'results', id: resultsId, role: 'radiogroup', 'aria-label': 'People found' });
  const picker = groupPicker(initialGroup);
  /** @type {string | null} */
  let selected = null;
  let sequence = 0;

  const search = debounce(async (/** @type {string} */ q) => {
    const mine = ++sequence;
    if (!q) {
      results.replaceChildren();
      status.textContent = 'Type a name to search the directory.';
      return;
    }
    status.textContent = 'Searching…';
    try {
      const found = await api.search(q);
      if (mine !== sequence) return;
      rememberPeople(found);
      const people = found.filter((p) => p.id !== state.me?.id);
      selected = null;
      updateSubmit();
      results.replaceChildren(...people.map((p) => resultItem(p)));
      status.textContent = people.length === 0
        ? `No one found for “${q}”.`
        : `${people.length} ${people.length === 1 ? 'person' : 'people'} found.`;
    } catch (e) {
      if (mine !== sequence) return;
      status.textContent = `Search failed: ${e instanceof Error ? e.message : e}`;
    }
  }, 200);

  /** @param {{id: string, display_name: string, mail?: string | null}} person */
  function resultItem(person) {
    const groups = state.groups.filter((g) => g.contacts.includes(person.id)).map((g) => g.name);
    const radio = h('input', { type: 'radio', name: 'person', value: person.id, class: 'result-radio' });
    radio.addEventListener('change', () => {
      selected = person.id;
      updateSubmit();
    });
    const label = h('label', { class: 'result', dataset: { person: person.id } },
      radio,
      avatar(person.id, { size: 'sm', dot: false }),
      h('span', { class: 'result-text' },
        h('span', { class: 'result-name', text: person.display_name || person.id }),
        h('span', { class: 'result-sub', text: person.mail || person.id })),
      groups.length ? h('span', { class: 'tag', text: `In ${groups.join(', ')}` }) : null,
      h('span', { class: 'result-check' }, icon('check')));
    label.addEventListener('dblclick', () => form.requestSubmit());
    return label;
  }

  const { form, submit } = modal({
    title: 'Add a contact',
    description: 'Find a colleague in the directory and choose a group for them.',
    body: [field('Search the directory', query), status, results, ...picker.elements],
    submitLabel: 'Add contact',
    onSubmit: async () => {
      if (!selected) throw new Error('Choose a person from the results.');
      const group = picker.value();
      if (state.groups.find((g) => g.name === group)?.contacts.includes(selected)) {
        throw new Error(`${displayName(selected)} is already in ${group}.`);
      }
      await addContact(selected, group);
      toast({ title: `${displayName(selected)} added to ${group}`, icon: 'check' });
    },
  });
  function updateSubmit() {
    if (submit) submit.disabled = !selected;
  }
  updateSubmit();
  query.addEventListener('input', () => search(query.value.trim()));
  query.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === 'ArrowDown') {
      const first = /** @type {HTMLInputElement | null} */ (results.querySelector('input[type=radio]'));
      event.preventDefault();
      if (first) {
        first.checked = true;
        first.dispatchEvent(new Event('change'));
        first.focus();
      }
    }
  });
}

/**
 * Adds someone already known (a person who wrote first) to a group.
 * @param {string} id
 */
export function addKnownContactDialog(id) {
  const picker = groupPicker(state.groups[0]?.name);
  modal({
    title: `Add ${displayName(id)} to your contacts`,
    body: picker.elements,
    submitLabel: 'Add contact',
    size: 'narrow',
    onSubmit: async () => {
      const group = picker.value();
      await addContact(id, group);
      toast({ title: `${displayName(id)} added to ${group}`, icon: 'check' });
    },
  });
}

/** @param {string} name */
export function renameGroupDialog(name) {
  const input = h('input', { type: 'text', name: 'name', value: name, maxlength: 64, required: true });
  modal({
    title: 'Rename group',
    body: field('Group name', input),
    submitLabel: 'Rename',
    size: 'narrow',
    onSubmit: async () => {
      const value = input.value.trim();
      if (!value) {
        input.focus();
        throw new Error('A group needs a name.');
      }
      if (value !== name) await renameGroup(name, value);
    },
  });
  input.select();
}

/**
 * Gives a contact a name of one's own (a Sametime buddy alias): shown in
 * the contact list and chats here and in Sametime clients.
 * @param {string} id
 */
export function renameContactDialog(id) {
  const directoryName = state.people.get(id)?.display_name || id;
  const input = h('input', {
    type: 'text', name: 'alias', value: state.aliases[id] ?? '', maxlength: 100, placeholder: directoryName,
  });
  modal({
    title: `Rename ${displayName(id)}`,
    description: `Only you see this name. Leave it empty to show ${directoryName}.`,
    body: field('Name', input),
    submitLabel: 'Rename',
    size: 'narrow',
    onSubmit: async () => {
      const value = input.value.trim();
      if (value !== (state.aliases[id] ?? '')) await renameContact(id, value);
    },
  });
  input.select();
}

/**
 * @param {string} id
 * @param {string} from
 */
export function moveContactDialog(id, from) {
  const picker = groupPicker(state.groups.find((g) => g.name !== from)?.name);
  modal({
    title: `Move ${displayName(id)}`,
    description: `From ${from} to another group.`,
    body: picker.elements,
    submitLabel: 'Move',
    size: 'narrow',
    onSubmit: async () => {
      const to = picker.value();
      if (to !== from) await moveContact(id, from, to);
    },
  });
}

/**
 * The business card of a user.
 * @param {string} id
 */
export function businessCard(id) {
  const body = h('div', { class: 'card-body' }, h('p', { class: 'muted', text: 'Loading…' }));
  const render = () => {
    const person = state.people.get(id);
    const rows = [];
    if (person?.mail) rows.push(cardRow('mail', 'Email', h('a', { href: `mailto:${person.mail}`, text: person.mail })));
    if (person?.phone) rows.push(cardRow('phone', 'Phone', h('a', { href: `tel:${person.phone.replace(/[^\d+]/g, '')}`, text: person.phone })));
    if (person?.location) rows.push(cardRow('pin', 'Location', h('span', { text: person.location })));
    rows.push(cardRow('card', 'User ID', h('span', { text: id })));
    if (state.aliases[id]) rows.push(cardRow('pencil', 'Your name for them', h('span', { text: state.aliases[id] })));
    replace(body, 
      h('div', { class: 'card-top' },
        avatar(id, { size: 'xl' }),
        h('div', { class: 'card-who' },
          h('p', { class: 'card-name', text: person?.display_name || displayName(id) }),
          person?.title ? h('p', { class: 'card-title', text: person.title }) : null,
          presenceLine(id))),
      person?.missing ? h('p', { class: 'muted', text: 'This person is not in the directory.' }) : h('dl', { class: 'card-rows' }, rows));
  };
  ensurePerson(id, true).then(render);
  modal({
    title: 'Business card',
    body,
    submitLabel: id === state.me?.id ? undefined : 'Send message',
    cancelLabel: 'Close',
    onSubmit: () => openChatWith(id),
  });
  if (state.people.has(id)) render();
}

/**
 * @param {import('./dom.js').IconName} iconName
 * @param {string} label
 * @param {Node} value
 */
function cardRow(iconName, label, value) {
  return h('div', { class: 'card-row' },
    h('dt', {}, icon(iconName), h('span', { class: 'sr-only', text: label })),
    h('dd', {}, value));
}

/**
 * Starts a group chat, or invites more people to one.
 * @param {{preselect?: string[], conversation?: Conversation}} [options]
 */
export function groupChatDialog(options = {}) {
  const conversation = options.conversation;
  const exclude = new Set([state.me?.id ?? '', ...(conversation?.members ?? []), ...(conversation?.invited ?? [])]);
  const chosen = new Set((options.preselect ?? []).filter((id) => !exclude.has(id)));
  const topic = h('input', { type: 'text', name: 'topic', maxlength: 256, placeholder: 'What is it about?' });
  const filter = h('input', { type: 'search', name: 'filter', autocomplete: 'off', placeholder: 'Search contacts and directory' });
  const list = h('div', { class: 'pick-list', role: 'group', 'aria-label': 'People to invite' });
  const count = h('p', { class: 'pick-count', role: 'status' });
  let sequence = 0;
  /** @type {{id: string, display_name: string}[]} */
  let directory = [];

  function render() {
    const q = filter.value.trim().toLowerCase();
    const contacts = allContacts().filter((id) => !exclude.has(id));
    const matches = (/** @type {string} */ id) => !q || id.toLowerCase().includes(q) || displayName(id).toLowerCase().includes(q);
    const shown = contacts.filter(matches);
    const extra = directory.filter((p) => !exclude.has(p.id) && !contacts.includes(p.id)).map((p) => p.id);
    // Chosen people stay visible while filtering.
    const chosenHidden = [...chosen].filter((id) => !shown.includes(id) && !extra.includes(id));
    const items = [...chosenHidden, ...shown].map(pickItem);
    replace(list, 
      ...(items.length ? items : [h('p', { class: 'muted', text: contacts.length ? 'No contact matches.' : 'Your contact list is empty: search the directory.' })]),
      extra.length ? h('p', { class: 'pick-heading', text: 'From the directory' }) : null,
      ...extra.map(pickItem));
    updateCount();
  }

  /** @param {string} id */
  function pickItem(id) {
    // Offline people can be invited too: the invitation waits for them.
    const online = isOnline(id);
    const box = h('input', { type: 'checkbox', value: id, checked: chosen.has(id) });
    box.addEventListener('change', () => {
      if (box.checked) chosen.add(id);
      else chosen.delete(id);
      updateCount();
    });
    return h('label', { class: 'pick', dataset: { person: id } },
      box,
      avatar(id, { size: 'sm' }),
      h('span', { class: 'pick-text' },
        h('span', { class: 'pick-name', text: displayName(id) }),
        h('span', { class: 'pick-sub', text: online ? statusLabel(presenceOf(id)) : 'Offline: sees the invitation when signing in' })));
  }

  function updateCount() {
    const n = chosen.size;
    count.textContent = n === 0 ? 'Choose who to invite.' : `${n} ${n === 1 ? 'person' : 'people'} selected`;
    if (submit) submit.disabled = n === 0;
  }

  const searchDirectory = debounce(async (/** @type {string} */ q) => {
    const mine = ++sequence;
    if (q.length < 2) {
      directory = [];
      render();
      return;
    }
    try {
      const found = await api.search(q);
      if (mine !== sequence) return;
      rememberPeople(found);
      directory = found;
      for (const p of found.slice(0, 20)) if (!state.presence.has(p.id)) ensurePerson(p.id, true).then(() => mine === sequence && render());
      render();
    } catch {
      // The contact list still works.
    }
  }, 250);
  filter.addEventListener('input', () => {
    render();
    searchDirectory(filter.value.trim());
  });
  filter.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') event.preventDefault();
  });

  const { submit } = modal({
    title: conversation ? 'Invite people' : 'New group chat',
    description: conversation
      ? `Add people to ${conversation.topic ? `“${conversation.topic}”` : 'this group chat'}.`
      : 'Chat with several people at once. Everyone you invite gets an invitation to accept.',
    body: [conversation ? null : field('Topic', topic), field('People', filter), list, count],
    submitLabel: conversation ? 'Send invitations' : 'Start group chat',
    size: 'wide',
    initialFocus: conversation ? filter : topic,
    onSubmit: async () => {
      const users = [...chosen];
      if (users.length === 0) throw new Error('Choose at least one person.');
      if (conversation) await inviteToChat(conversation, users);
      else await startGroupChat(users, topic.value.trim());
    },
  });
  render();
}
