// @ts-check
// Small pieces shown in many places: avatars with a status dot, the status
// line of a person.

import { colorSlot, h, icon, initials } from './dom.js';
import { statusDot, statusLabel } from './status.js';
import { displayName, presenceOf, state } from './store.js';

/**
 * A person's avatar: photo or initials, with the status dot.
 * @param {string} id
 * @param {{size?: 'sm' | 'md' | 'lg' | 'xl', dot?: boolean}} [options]
 */
export function avatar(id, options = {}) {
  const name = displayName(id);
  const person = state.people.get(id);
  const el = h('span', { class: `avatar ${options.size ?? 'md'} c${colorSlot(id)}`, 'aria-hidden': 'true' },
    h('span', { class: 'avatar-initials', text: initials(name) }));
  const photo = person?.photo_url;
  if (photo && /^(https:\/\/|\/)/.test(photo)) {
    const img = h('img', { class: 'avatar-photo', src: photo, alt: '', loading: 'lazy', decoding: 'async' });
    img.addEventListener('error', () => img.remove());
    el.appendChild(img);
  }
  if (options.dot !== false) el.appendChild(statusDot(presenceOf(id)));
  return el;
}

/** An avatar for a group chat. */
export function groupAvatar(size = 'md') {
  return h('span', { class: `avatar ${size} group-avatar`, 'aria-hidden': 'true' }, icon('users'));
}

/**
 * "Do not disturb — In a call", as text.
 * @param {string} id
 */
export function presenceLine(id) {
  const p = presenceOf(id);
  return h('span', { class: 'presence-line', dataset: { status: p.status } },
    h('span', { class: 'status-text', text: statusLabel(p) }),
    p.message ? h('span', { class: 'status-message', text: p.message }) : null);
}
