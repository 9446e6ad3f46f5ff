// @ts-check
// Status values, their labels and their marks. A status is always shown as
// text too: the dot's colour and shape only repeat it.

import { h } from './dom.js';

/** @typedef {import('./api.js').StatusName} StatusName */
/** @typedef {import('./api.js').Presence} Presence */

/** The statuses a user can choose, in menu order. */
export const SETTABLE = /** @type {const} */ (['available', 'away', 'dnd', 'in_meeting']);

/** @type {Record<StatusName, {label: string, hint: string}>} */
export const STATUS = {
  available: { label: 'Available', hint: 'Ready to chat' },
  away: { label: 'Away', hint: 'Away from the desk' },
  dnd: { label: 'Do not disturb', hint: 'Only urgent messages' },
  in_meeting: { label: 'In a meeting', hint: 'Busy for now' },
  offline: { label: 'Offline', hint: 'Not signed in' },
};

/** @type {Presence} */
export const OFFLINE = { status: 'offline', message: '', idle: false };

/**
 * The status as text: "Away", "Available (idle)".
 * @param {Presence | undefined} presence
 */
export function statusLabel(presence) {
  const p = presence ?? OFFLINE;
  const label = STATUS[p.status]?.label ?? p.status;
  return p.idle && p.status !== 'offline' ? `${label} (idle)` : label;
}

/**
 * A status dot (decorative: the text next to it says the status).
 * @param {Presence | undefined} presence
 * @param {string} [extraClass]
 */
export function statusDot(presence, extraClass = '') {
  const dot = h('span', { class: `dot ${extraClass}`.trim(), 'aria-hidden': 'true' });
  setDot(dot, presence);
  return dot;
}

/**
 * @param {HTMLElement} dot
 * @param {Presence | undefined} presence
 */
export function setDot(dot, presence) {
  const p = presence ?? OFFLINE;
  dot.dataset.status = p.status;
  dot.classList.toggle('idle', p.idle && p.status !== 'offline');
}
