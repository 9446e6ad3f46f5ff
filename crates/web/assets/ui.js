// @ts-check
// Building blocks: modal dialogs (native <dialog>), menus and popovers
// anchored to a button, toasts, and a screen-reader announcer.

import { arrowNavigate, h, icon } from './dom.js';

/** @typedef {import('./dom.js').Children} Children */
/** @typedef {import('./dom.js').IconName} IconName */

let uid = 0;
/** @param {string} prefix */
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * @typedef {object} ModalOptions
 * @property {string} title
 * @property {string} [description]
 * @property {Children} body
 * @property {string} [submitLabel]        no submit button when absent
 * @property {string | null} [cancelLabel] 'Cancel' by default; null for none
 * @property {boolean} [danger]            a destructive submit button
 * @property {boolean} [dismissable]       Escape, backdrop and × close it (default true)
 * @property {'narrow' | 'wide'} [size]
 * @property {(form: HTMLFormElement) => (Promise<boolean | void> | boolean | void)} [onSubmit]
 *   return false to stay open; a thrown error's message is shown
 * @property {() => void} [onClose]
 * @property {HTMLElement | null} [initialFocus]
 *
 * @typedef {object} Modal
 * @property {HTMLDialogElement} dialog
 * @property {HTMLFormElement} form
 * @property {HTMLButtonElement | null} submit
 * @property {() => void} close
 * @property {(message: string) => void} setError
 */

/**
 * Opens a modal dialog with a form.
 * @param {ModalOptions} options
 * @returns {Modal}
 */
export function modal(options) {
  const dismissable = options.dismissable !== false;
  const titleId = nextId('dialog-title');
  const descriptionId = options.description ? nextId('dialog-desc') : null;
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = options.submitLabel
    ? h('button', { type: 'submit', class: `btn ${options.danger ? 'danger' : 'primary'}`, text: options.submitLabel })
    : null;
  const cancelLabel = options.cancelLabel === undefined ? 'Cancel' : options.cancelLabel;
  const cancel = cancelLabel && dismissable
    ? h('button', { type: 'button', class: 'btn', text: cancelLabel, onclick: () => close() })
    : null;
  const form = h('form', { class: 'modal-form', novalidate: true },
    h('header', { class: 'modal-head' },
      h('div', {},
        h('h2', { id: titleId, text: options.title }),
        options.description && h('p', { class: 'modal-desc', id: descriptionId, text: options.description })),
      dismissable && h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close', title: 'Close', onclick: () => close() }, icon('x'))),
    h('div', { class: 'modal-body' }, options.body),
    error,
    (submit || cancel) && h('footer', { class: 'modal-foot' }, cancel, submit));
  const dialog = h('dialog', {
    class: `modal ${options.size ?? ''}`.trim(),
    'aria-labelledby': titleId,
    'aria-describedby': descriptionId,
  }, form);
  const opener = /** @type {HTMLElement | null} */ (document.activeElement);
  // A list that re-renders while the dialog is open (a card arriving)
  // replaces the opener: focus returns to its successor, found by key.
  const openerKey = opener?.dataset?.focusKey;
  let closed = false;

  function close() {
    if (closed) return;
    closed = true;
    if (dialog.open) dialog.close();
    dialog.remove();
    options.onClose?.();
    const back = opener?.isConnected ? opener
      : openerKey ? /** @type {HTMLElement | null} */ (document.querySelector(`[data-focus-key="${CSS.escape(openerKey)}"]`)) : null;
    back?.focus();
  }

  dialog.addEventListener('cancel', (event) => {
    event.preventDefault();
    if (dismissable) close();
  });
  // The browser may close a dialog despite a cancelled Escape; a dialog
  // that must be answered comes back.
  dialog.addEventListener('close', () => {
    if (!closed && !dismissable) dialog.showModal();
    else close();
  });
  dialog.addEventListener('mousedown', (event) => {
    if (!dismissable || event.target !== dialog) return;
    const r = dialog.getBoundingClientRect();
    const inside = event.clientX >= r.left && event.clientX <= r.right && event.clientY >= r.top && event.clientY <= r.bottom;
    if (!inside) close();
  });

  /** @param {string} message */
  function setError(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!options.onSubmit) return close();
    setError('');
    if (submit) {
      submit.disabled = true;
      submit.classList.add('busy');
    }
    try {
      const result = await options.onSubmit(form);
      if (result !== false) close();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      if (submit) {
        submit.disabled = false;
        submit.classList.remove('busy');
      }
    }
  });

  document.body.appendChild(dialog);
  dialog.showModal();
  const focus = options.initialFocus ?? /** @type {HTMLElement | null} */ (form.querySelector('.modal-body input, .modal-body select, .modal-body textarea'));
  (focus ?? submit ?? cancel)?.focus();
  return { dialog, form, submit, close, setError };
}

/**
 * Asks to confirm something.
 * @param {{title: string, message: string, confirm: string, danger?: boolean}} options
 * @returns {Promise<boolean>}
 */
export function confirmDialog(options) {
  return new Promise((resolve) => {
    let answered = false;
    modal({
      title: options.title,
      body: h('p', { class: 'confirm-text', text: options.message }),
      submitLabel: options.confirm,
      danger: options.danger,
      size: 'narrow',
      onSubmit: () => {
        answered = true;
        resolve(true);
      },
      onClose: () => {
        if (!answered) resolve(false);
      },
    });
  });
}

/**
 * A labelled form field.
 * @param {string} label
 * @param {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} control
 * @param {string} [hint]
 */
export function field(label, control, hint) {
  if (!control.id) control.id = nextId('field');
  const hintEl = hint ? h('p', { class: 'field-hint', id: `${control.id}-hint`, text: hint }) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { htmlFor: control.id, text: label }), control, hintEl);
}

/** @type {(() => void) | null} */
let closeFloating = null;

/**
 * Closes the panel this button opened, if it is open (a second click on a
 * menu button closes the menu).
 * @param {HTMLElement} anchor
 * @returns {boolean} whether it was open
 */
export function closeIfOpen(anchor) {
  if (anchor.getAttribute('aria-expanded') !== 'true' || !closeFloating) return false;
  closeFloating();
  anchor.focus();
  return true;
}

/**
 * Shows an element anchored below (or above) a button until Escape, a click
 * outside, or `close()`.
 * @param {HTMLElement} anchor
 * @param {HTMLElement} panel
 * @param {{align?: 'start' | 'end', onClose?: () => void, returnFocus?: boolean}} [options]
 * @returns {() => void} close
 */
export function floating(anchor, panel, options = {}) {
  closeFloating?.();
  panel.classList.add('floating');
  document.body.appendChild(panel);
  anchor.setAttribute('aria-expanded', 'true');

  function place() {
    const r = anchor.getBoundingClientRect();
    const width = panel.offsetWidth;
    const height = panel.offsetHeight;
    let left = options.align === 'end' ? r.right - width : r.left;
    left = Math.max(8, Math.min(left, window.innerWidth - width - 8));
    let top = r.bottom + 6;
    if (top + height > window.innerHeight - 8 && r.top - height - 6 > 8) top = r.top - height - 6;
    panel.style.left = `${Math.round(left)}px`;
    panel.style.top = `${Math.round(Math.max(8, top))}px`;
  }
  place();

  /** @param {PointerEvent} event */
  const outside = (event) => {
    const target = /** @type {Node} */ (event.target);
    if (!panel.contains(target) && !anchor.contains(target)) close(false);
  };
  /** @param {KeyboardEvent} event */
  const keys = (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      close(true);
    }
  };
  const reflow = () => place();
  document.addEventListener('pointerdown', outside, true);
  panel.addEventListener('keydown', keys);
  window.addEventListener('resize', reflow);

  let done = false;
  /** @param {boolean} [refocus] */
  function close(refocus = options.returnFocus !== false) {
    if (done) return;
    done = true;
    if (closeFloating === closeNow) closeFloating = null;
    document.removeEventListener('pointerdown', outside, true);
    window.removeEventListener('resize', reflow);
    anchor.setAttribute('aria-expanded', 'false');
    const hadFocus = panel.contains(document.activeElement);
    panel.remove();
    if (refocus && (hadFocus || document.activeElement === document.body) && anchor.isConnected) anchor.focus();
    options.onClose?.();
  }
  const closeNow = () => close(false);
  closeFloating = closeNow;
  return () => close(true);
}

/**
 * @typedef {object} MenuItem
 * @property {string} label
 * @property {IconName} [icon]
 * @property {() => void} onSelect
 * @property {boolean} [danger]
 * @property {string} [hint]
 */

/**
 * Opens a menu of actions under a button (role menu, arrow keys).
 * @param {HTMLElement} anchor
 * @param {(MenuItem | 'separator')[]} items
 * @param {{label: string, align?: 'start' | 'end'}} options
 */
export function openMenu(anchor, items, options) {
  if (closeIfOpen(anchor)) return;
  /** @type {HTMLButtonElement[]} */
  const buttons = [];
  const menu = h('div', { class: 'menu', role: 'menu', 'aria-label': options.label });
  /** @type {() => void} */
  let close = () => {};
  for (const item of items) {
    if (item === 'separator') {
      menu.appendChild(h('div', { class: 'menu-sep', role: 'separator' }));
      continue;
    }
    const button = h('button', {
      type: 'button', role: 'menuitem', tabIndex: -1, class: item.danger ? 'danger' : '',
      onclick: () => {
        close();
        item.onSelect();
      },
    }, item.icon && icon(item.icon), h('span', { class: 'menu-label', text: item.label }),
    item.hint && h('span', { class: 'menu-hint', text: item.hint }));
    buttons.push(button);
    menu.appendChild(button);
  }
  menu.addEventListener('keydown', (event) => {
    if (arrowNavigate(event, buttons)) return;
    if (event.key === 'Tab') close();
  });
  close = floating(anchor, menu, { align: options.align });
  buttons[0]?.focus();
}

/** @type {HTMLElement | null} */
let toastRegion = null;

/**
 * @typedef {object} ToastAction
 * @property {string} label
 * @property {boolean} [primary]
 * @property {() => void} onClick
 */

/**
 * Shows a toast; with actions it stays until one is chosen or it is
 * dismissed.
 * @param {{title: string, body?: string, actions?: ToastAction[], kind?: 'info' | 'error' | 'invite', timeout?: number, icon?: IconName}} options
 * @returns {{close: () => void, element: HTMLElement}}
 */
export function toast(options) {
  if (!toastRegion || !toastRegion.isConnected) {
    toastRegion = h('section', { class: 'toasts', 'aria-label': 'Notifications', 'aria-live': 'polite' });
    document.body.appendChild(toastRegion);
  }
  const element = h('div', { class: `toast ${options.kind ?? 'info'}`, role: options.kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'toast-icon' }, icon(options.icon ?? (options.kind === 'error' ? 'alert' : 'info'))),
    h('div', { class: 'toast-text' },
      h('p', { class: 'toast-title', text: options.title }),
      options.body && h('p', { class: 'toast-body', text: options.body }),
      options.actions && h('div', { class: 'toast-actions' }, options.actions.map((a) =>
        h('button', {
          type: 'button', class: `btn small ${a.primary ? 'primary' : ''}`, text: a.label,
          onclick: () => {
            close();
            a.onClick();
          },
        })))),
    // Also a toast with actions: an invitation stays in the sidebar.
    h('button', { type: 'button', class: 'icon-btn small', 'aria-label': 'Dismiss', title: 'Dismiss', onclick: () => close() }, icon('x')));
  toastRegion.appendChild(element);
  const timeout = options.timeout ?? (options.actions ? 0 : 6000);
  const timer = timeout ? setTimeout(() => close(), timeout) : undefined;
  function close() {
    clearTimeout(timer);
    element.classList.add('leaving');
    setTimeout(() => element.remove(), 160);
  }
  return { close, element };
}

/** @type {HTMLElement | null} */
let announcer = null;

/**
 * Says something to screen-reader users (polite).
 * @param {string} text
 */
export function announce(text) {
  if (!announcer || !announcer.isConnected) {
    announcer = h('div', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true', id: 'announcer' });
    document.body.appendChild(announcer);
  }
  const region = announcer;
  region.textContent = '';
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}
