// @ts-check
// Desktop notifications (asked for on a click, shown only while the tab is
// hidden) and the unread count in the document title.

import { pref, setPref, state, totalUnread } from './store.js';

/** @returns {'default' | 'granted' | 'denied' | 'unsupported'} */
export function notificationPermission() {
  return 'Notification' in window ? Notification.permission : 'unsupported';
}

/** Whether notifications are granted and not switched off here. */
export function notificationsOn() {
  return notificationPermission() === 'granted' && pref('notifications', true) !== false;
}

/**
 * Asks for permission (call from a click or key press).
 * @returns {Promise<boolean>}
 */
export async function enableNotifications() {
  if (notificationPermission() === 'unsupported') return false;
  setPref('notifications', true);
  if (Notification.permission === 'granted') return true;
  const answer = await Notification.requestPermission();
  return answer === 'granted';
}

export function disableNotifications() {
  setPref('notifications', false);
}

/**
 * Shows a notification when the user is not looking at the page, unless
 * they chose Do not disturb (the unread counts still tell).
 * @param {{title: string, body: string, tag: string, onClick: () => void}} options
 */
export function notify(options) {
  if (document.visibilityState !== 'hidden' || !notificationsOn()) return;
  if (state.presence.get(state.me?.id ?? '')?.status === 'dnd') return;
  try {
    const n = new Notification(options.title, { body: options.body.slice(0, 180), tag: options.tag, icon: '/assets/icon.svg' });
    n.onclick = () => {
      window.focus();
      options.onClick();
      n.close();
    };
  } catch {
    // Some platforms only notify from a service worker: the title still counts.
  }
}

let base = 'Simul';

/** @param {string} title */
export function setBaseTitle(title) {
  base = title;
  updateTitle();
}

/** "(3) Simul" while messages are unread. */
export function updateTitle() {
  const unread = totalUnread();
  document.title = unread > 0 ? `(${unread}) ${base}` : base;
}
