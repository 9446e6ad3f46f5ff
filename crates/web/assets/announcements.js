// @ts-check
/**
 * Administrators' announcements: a banner under the top bar, one row
 * each, until the user dismisses it. The text is shown as text (never
 * markup), whatever it holds.
 */

import { h, icon } from './dom.js';

/**
 * @typedef {{type: 'announcement', from: string, text: string, at: string}} AnnouncementEvent
 */

/** The banner: its element, and `show` for each announcement that arrives. */
export function createAnnouncements() {
  const element = h('div', { class: 'announcements', role: 'region', 'aria-label': 'Announcements', 'aria-live': 'assertive', hidden: true });
  const update = () => { element.hidden = element.childElementCount === 0; };
  /** @param {{from?: string, text?: string, at?: string}} event */
  const show = (event) => {
    const at = event.at ? new Date(event.at) : new Date();
    const row = h('div', { class: 'announcement', 'data-testid': 'announcement' },
      icon('bell'),
      h('div', { class: 'announcement-body' },
        h('strong', { class: 'announcement-from', text: `Announcement from ${event.from ?? 'the administrators'}` }),
        h('time', { class: 'announcement-at', datetime: at.toISOString(), text: at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) }),
        h('p', { class: 'announcement-text', text: event.text ?? '' })),
      h('button', { type: 'button', class: 'icon-btn small', 'aria-label': 'Dismiss announcement', title: 'Dismiss', onclick: () => { row.remove(); update(); } }, icon('x')));
    element.prepend(row);
    update();
  };
  return { element, show };
}
