// @ts-check
// Changing one's password: forced after an administrator's reset
// (must_change_password), or chosen from the user menu.

import { renewStream } from './actions.js';
import { ApiError, api } from './api.js';
import { h } from './dom.js';
import { field, modal, toast } from './ui.js';

const MIN_LENGTH = 8;

/**
 * @param {{forced: boolean}} options
 * @returns {Promise<boolean>} whether the password was changed
 */
export function changePasswordDialog({ forced }) {
  return new Promise((resolve) => {
    let changed = false;
    const current = h('input', { type: 'password', name: 'current', autocomplete: 'current-password', required: true });
    const next = h('input', { type: 'password', name: 'new', autocomplete: 'new-password', required: true, minlength: MIN_LENGTH });
    const repeat = h('input', { type: 'password', name: 'repeat', autocomplete: 'new-password', required: true });
    modal({
      title: forced ? 'Choose a new password' : 'Change password',
      description: forced
        ? 'Your administrator set a temporary password. Choose your own to continue.'
        : undefined,
      body: [
        field(forced ? 'Temporary password' : 'Current password', current),
        field('New password', next, `At least ${MIN_LENGTH} characters.`),
        field('Repeat new password', repeat),
      ],
      submitLabel: 'Change password',
      dismissable: !forced,
      size: 'narrow',
      onSubmit: async () => {
        for (const input of [current, next, repeat]) input.removeAttribute('aria-invalid');
        /** @param {HTMLInputElement} input @param {string} message */
        const invalid = (input, message) => {
          input.setAttribute('aria-invalid', 'true');
          input.focus();
          throw new Error(message);
        };
        if (!current.value) invalid(current, 'Enter your current password.');
        if ([...next.value].length < MIN_LENGTH) invalid(next, `The new password needs at least ${MIN_LENGTH} characters.`);
        if (next.value === current.value) invalid(next, 'The new password must differ from the current one.');
        if (next.value !== repeat.value) invalid(repeat, 'The two new passwords differ.');
        try {
          await api.changePassword(current.value, next.value);
          renewStream();
        } catch (e) {
          if (e instanceof ApiError && (e.status === 401 || e.status === 403) && /current|password/i.test(e.message)) {
            invalid(current, 'The current password is not right.');
          }
          if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
            const message = 'Your password is not kept by Simul: change it where your organisation manages passwords.';
            if (!forced) throw new Error(message);
            // Do not lock the user out of a server that cannot do it.
            toast({ kind: 'error', title: 'Password not changed', body: message });
            return;
          }
          throw e;
        }
        changed = true;
        toast({ title: 'Password changed', body: 'Use the new password next time you sign in.', icon: 'check' });
      },
      onClose: () => resolve(changed),
    });
  });
}

/**
 * The page shown instead of the app while the password must be replaced
 * (the server refuses everything else until then).
 * @param {HTMLElement} root
 * @param {import('./api.js').Session} session
 * @returns {Promise<import('./api.js').Session | 'signout'>} the new session once the password changed
 */
export function showPasswordChangePage(root, session) {
  return new Promise((resolve) => {
    const current = h('input', { type: 'password', id: 'pw-current', name: 'current', autocomplete: 'current-password', required: true });
    const next = h('input', { type: 'password', id: 'pw-new', name: 'new', autocomplete: 'new-password', required: true, 'aria-describedby': 'pw-new-hint' });
    const repeat = h('input', { type: 'password', id: 'pw-repeat', name: 'repeat', autocomplete: 'new-password', required: true });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'btn primary block', text: 'Change password and continue' });
    /** @param {string} message @param {HTMLInputElement} [input] */
    const fail = (message, input) => {
      error.textContent = message;
      error.hidden = !message;
      for (const i of [current, next, repeat]) i.removeAttribute('aria-invalid');
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      }
    };
    const form = h('form', { class: 'login-form', novalidate: true },
      h('div', { class: 'field' }, h('label', { htmlFor: 'pw-current', text: 'Temporary password' }), current),
      h('div', { class: 'field' }, h('label', { htmlFor: 'pw-new', text: 'New password' }), next,
        h('p', { class: 'field-hint', id: 'pw-new-hint', text: `At least ${MIN_LENGTH} characters.` })),
      h('div', { class: 'field' }, h('label', { htmlFor: 'pw-repeat', text: 'Repeat new password' }), repeat),
      error,
      submit);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!current.value) return fail('Enter the temporary password you signed in with.', current);
      if ([...next.value].length < MIN_LENGTH) return fail(`The new password needs at least ${MIN_LENGTH} characters.`, next);
      if (next.value === current.value) return fail('The new password must differ from the temporary one.', next);
      if (next.value !== repeat.value) return fail('The two new passwords differ.', repeat);
      fail('');
      submit.disabled = true;
      try {
        resolve(await api.changePassword(current.value, next.value));
      } catch (e) {
        if (e instanceof ApiError && e.status === 403) fail('The temporary password is not right.', current);
        else if (e instanceof ApiError && e.status === 429) fail('Too many attempts. Wait a minute and try again.');
        else fail(e instanceof Error ? e.message : String(e));
      } finally {
        submit.disabled = false;
      }
    });
    root.replaceChildren(h('div', { class: 'login-page' },
      h('main', { class: 'login-card' },
        h('div', { class: 'login-brand' },
          h('img', { src: '/assets/icon.svg', alt: '', width: 44, height: 44 }),
          h('span', { class: 'brand-name', text: 'Simul' })),
        h('h1', { text: 'Choose a new password' }),
        h('p', { class: 'login-lead', text: `Welcome, ${session.user.display_name}. You signed in with a one-time password: replace it with one only you know.` }),
        form,
        h('p', { class: 'login-foot' }, 'Not you? ',
          h('button', { type: 'button', class: 'link-btn', text: 'Sign out', onclick: () => resolve('signout') })))));
    document.title = 'New password · Simul';
    current.focus();
  });
}
