// @ts-check
// The sign-in page. Shown only when GET /api/v1/me says there is no
// session: a user already signed in elsewhere in the SSO domain (the
// LtpaToken2 cookie) never sees it.

import { ApiError, api } from './api.js';
import { h, icon } from './dom.js';

/** @typedef {import('./api.js').Session} Session */

/**
 * The message for a failed sign-in.
 * @param {unknown} error
 */
export function loginErrorMessage(error) {
  if (!(error instanceof ApiError)) return 'Something went wrong. Please try again.';
  if (error.status === 401) return 'Wrong user name or password.';
  if (error.status === 429) {
    const seconds = /(\d+)\s*s\b/.exec(error.message)?.[1];
    return seconds
      ? `Too many sign-in attempts. Wait ${seconds} second${seconds === '1' ? '' : 's'} and try again.`
      : 'Too many sign-in attempts. Wait a minute and try again.';
  }
  if (error.status === 403) return error.message || 'This account cannot sign in.';
  if (error.status === 0) return error.message;
  return `The server could not sign you in (${error.status}). ${error.message}`;
}

/**
 * Renders the sign-in page into `root`; resolves with the session.
 * @param {HTMLElement} root
 * @param {{notice?: string}} [options]
 * @returns {Promise<Session>}
 */
export function showLogin(root, options = {}) {
  return new Promise((resolve) => {
    const user = h('input', {
      id: 'login-user', name: 'user', type: 'text', autocomplete: 'username', required: true,
      autocapitalize: 'none', spellcheck: 'false', 'aria-describedby': 'login-error',
    });
    const password = h('input', {
      id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password',
      required: true, 'aria-describedby': 'login-error',
    });
    const reveal = h('button', {
      type: 'button', class: 'icon-btn reveal', 'aria-label': 'Show password', 'aria-pressed': 'false',
      title: 'Show password',
      onclick: () => {
        const shown = password.type === 'text';
        password.type = shown ? 'password' : 'text';
        reveal.setAttribute('aria-pressed', String(!shown));
        reveal.setAttribute('aria-label', shown ? 'Show password' : 'Hide password');
        reveal.title = reveal.getAttribute('aria-label') ?? '';
        reveal.replaceChildren(icon(shown ? 'eye' : 'eyeOff'));
      },
    }, icon('eye'));
    const error = h('p', { id: 'login-error', class: 'form-error', role: 'alert', hidden: true });
    const notice = options.notice ? h('p', { class: 'login-notice', role: 'status', text: options.notice }) : null;
    const submit = h('button', { type: 'submit', class: 'btn primary block', text: 'Sign in' });

    /** @param {string} message */
    function showError(message) {
      error.textContent = message;
      error.hidden = !message;
      user.setAttribute('aria-invalid', message ? 'true' : 'false');
      password.setAttribute('aria-invalid', message ? 'true' : 'false');
    }

    const form = h('form', { class: 'login-form', novalidate: true, 'aria-labelledby': 'login-title' },
      h('div', { class: 'field' }, h('label', { htmlFor: 'login-user', text: 'User name' }), user),
      h('div', { class: 'field' }, h('label', { htmlFor: 'login-password', text: 'Password' }),
        h('div', { class: 'input-with-button' }, password, reveal)),
      error,
      submit);

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!user.value.trim() || !password.value) {
        showError(!user.value.trim() ? 'Enter your user name.' : 'Enter your password.');
        (!user.value.trim() ? user : password).focus();
        return;
      }
      showError('');
      submit.disabled = true;
      submit.classList.add('busy');
      submit.textContent = 'Signing in…';
      try {
        const session = await api.login(user.value.trim(), password.value);
        resolve(session);
      } catch (e) {
        showError(loginErrorMessage(e));
        password.select();
        password.focus();
      } finally {
        submit.disabled = false;
        submit.classList.remove('busy');
        submit.textContent = 'Sign in';
      }
    });

    const page = h('div', { class: 'login-page' },
      h('main', { class: 'login-card' },
        h('div', { class: 'login-brand' },
          h('img', { src: '/assets/icon.svg', alt: '', width: 44, height: 44 }),
          h('span', { class: 'brand-name', text: 'Simul' })),
        h('h1', { id: 'login-title', text: 'Sign in' }),
        h('p', { class: 'login-lead', text: 'Chat and presence for your organisation.' }),
        notice,
        form,
        h('p', { class: 'login-foot', text: 'Signed in to Connections, iNotes or another single sign-on application? Then you are signed in here too.' })));
    root.replaceChildren(page);
    document.title = 'Sign in · Simul';
    user.focus();
  });
}
