// @ts-check
// Simul awareness for any intranet page. One script tag:
//
//   <script src="https://simul.example.com/awareness.js" data-simul-mail-links></script>
//
// marks every element with `data-simul-user="uid, mail or DN"` (and, with
// `data-simul-mail-links`, every mailto: link) with a live status icon: a
// button named "Bob Baker: Do not disturb — In a call" that shows a business
// card on hover or focus and opens a chat with the person on click. It uses
// the Simul SSO cookie (LtpaToken2) when there is one and says "Status
// unknown" without it. Lookups are batched; the page keeps one WebSocket.
// Everything it draws lives in shadow roots, so no CSS goes in or out. The
// page's origin must be in Simul's `server.allowed_origins` (or be Simul's).
// No dependencies, no markup parsing (DOM built node by node).

(() => {
  'use strict';

  const script = document.currentScript;
  if (!(script instanceof HTMLScriptElement) || !script.src) {
    console.warn('Simul awareness: load awareness.js with a classic <script src=...> (not a module)');
    return;
  }
  // Included twice: the first copy does the work.
  const ONCE = Symbol.for('simul.awareness');
  if (Reflect.get(window, ONCE)) return;
  Reflect.set(window, ONCE, true);

  /** Simul's base URL (where this script came from), without the trailing slash. */
  const BASE = new URL('.', script.src).href.replace(/\/$/, '');
  const MAIL_LINKS = script.hasAttribute('data-simul-mail-links');
  const SELECTOR = MAIL_LINKS ? '[data-simul-user],a[href^="mailto:" i]' : '[data-simul-user]';
  /** Most ids one lookup asks for. */
  const BATCH = 100;

  /**
   * @typedef {'available' | 'away' | 'dnd' | 'in_meeting' | 'offline'} StatusName
   * @typedef {{id: string, display_name: string, mail: string, title: string, phone: string,
   *   location: string, photo_url: string, status: StatusName, message: string, idle: boolean}} Card
   * @typedef {{id: string, card: Card | null | undefined, widgets: Set<Widget>}} Entry
   *   `card`: undefined while asked, null when Simul does not know the id.
   * @typedef {{el: Element, entry: Entry, host: HTMLElement, root: ShadowRoot,
   *   button: HTMLButtonElement, dot: HTMLElement, card: HTMLElement | null}} Widget
   */

  /** @type {Record<StatusName, string>} */
  const LABELS = {
    available: 'Available',
    away: 'Away',
    dnd: 'Do not disturb',
    in_meeting: 'In a meeting',
    offline: 'Offline',
  };

  /**
   * Why a status is unknown, when it is.
   * @type {'' | 'signed-out' | 'unreachable'}
   */
  let trouble = '';
  /** @type {Map<string, Entry>} by the id the page asked for */
  const entries = new Map();
  /** @type {Map<string, Set<Entry>>} by Simul's own id of the person */
  const byUser = new Map();
  /** @type {WeakMap<Element, Widget>} by marked element */
  const widgets = new WeakMap();
  /** @type {Set<Widget>} */
  const live = new Set();
  /** @type {WeakSet<Node>} the hosts this script inserted */
  const ours = new WeakSet();
  /** @type {Set<string>} ids to look up */
  const pending = new Set();
  let flushTimer = 0;
  /** @type {WebSocket | null} */
  let socket = null;
  let socketReady = false;
  /** @type {Set<string>} Simul ids watched on the current socket */
  let watched = new Set();
  let retries = 0;
  let retryTimer = 0;

  // ---------- Styles (constructed: a page's CSP for <style> does not apply) ----------

  const STYLE = `
:host{all:initial!important;display:inline-block!important;position:relative!important;vertical-align:middle!important;margin:0 0 0 .3em!important;padding:0!important;border:0!important;line-height:0!important;color-scheme:inherit!important}
.icon,.card{--ring:var(--simul-ring,#fff);--ok:#1f9d55;--away:#e69a0b;--dnd:#d93025;--meet:#7c4ddb;--off:#9aa2ac;--bg:#fff;--bg2:#f3f4f6;--fg:#1a1d21;--fg2:#59616b;--line:#e2e5e9;--link:#1d4fd8;--btn:#2563eb;--btn2:#1d4fd8;--face:#e7eefd;--face-fg:#1e46b4;--shadow:rgb(16 24 40/18%)}
@supports (color:light-dark(#fff,#000)){.icon,.card{--ring:var(--simul-ring,light-dark(#fff,#1c1f24));--ok:light-dark(#1f9d55,#34c26f);--away:light-dark(#e69a0b,#f0a92a);--dnd:light-dark(#d93025,#ef5b52);--meet:light-dark(#7c4ddb,#9a73ef);--off:light-dark(#9aa2ac,#7b848f);--bg:light-dark(#fff,#1c1f24);--bg2:light-dark(#f3f4f6,#262a30);--fg:light-dark(#1a1d21,#e7e9ec);--fg2:light-dark(#59616b,#a6aeb8);--line:light-dark(#e2e5e9,#30353c);--link:light-dark(#1d4fd8,#8db4f8);--btn2:light-dark(#1d4fd8,#3a74ea);--face:light-dark(#e7eefd,#2a3a5c);--face-fg:light-dark(#1e46b4,#b9cffb);--shadow:light-dark(rgb(16 24 40/18%),rgb(0 0 0/55%))}}
*{box-sizing:border-box}
.icon{all:unset;box-sizing:border-box;display:inline-flex;align-items:center;justify-content:center;width:20px;height:20px;border-radius:50%;cursor:pointer;vertical-align:middle}
.icon:focus-visible{outline:2px solid var(--btn);outline-offset:0}
.icon:hover .dot{transform:scale(1.15)}
.dot{position:relative;display:inline-block;flex:none;width:12px;height:12px;border-radius:50%;background:var(--off);box-shadow:0 0 0 2px var(--ring),0 1px 3px 2px rgb(0 0 0/12%);transition:transform .12s}
.dot[data-status=available]{background:var(--ok)}
.dot[data-status=away]{background:var(--away)}
.dot[data-status=dnd]{background:var(--dnd)}
.dot[data-status=in_meeting]{background:var(--meet)}
.dot[data-status=offline],.dot[data-status=unknown]{background:var(--ring);box-shadow:inset 0 0 0 2px var(--off),0 0 0 2px var(--ring),0 1px 3px 2px rgb(0 0 0/12%)}
.dot[data-status=unknown]::after{content:"";position:absolute;inset:38%;border-radius:50%;background:var(--off)}
.dot[data-status=dnd]::after{content:"";position:absolute;left:22%;right:22%;top:calc(50% - 1px);height:2px;border-radius:1px;background:#fff}
.dot[data-status=away]::after,.dot.idle::after{content:"";position:absolute;left:44%;top:20%;width:28%;height:36%;border-left:1.6px solid #fff;border-bottom:1.6px solid #fff}
.dot[data-status=in_meeting]::after{content:"";position:absolute;inset:32%;border-radius:50%;background:#fff}
.card{position:fixed;inset:auto;margin:0;z-index:2147483647;width:296px;max-width:calc(100vw - 16px);padding:16px;border:1px solid var(--line);border-radius:12px;background:var(--bg);color:var(--fg);
font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif;text-align:start;white-space:normal;letter-spacing:normal;box-shadow:0 12px 32px var(--shadow),0 2px 6px rgb(16 24 40/8%);overflow:visible}
.card:not(.open){display:none!important}
.card.open{display:block}
.head{display:flex;gap:12px;align-items:center}
.avatar{position:relative;flex:none;display:flex;align-items:center;justify-content:center;width:48px;height:48px;border-radius:50%;overflow:hidden;background:var(--face);color:var(--face-fg);font-weight:600;font-size:16px;line-height:1}
.avatar img{position:absolute;inset:0;width:100%;height:100%;object-fit:cover}
.who{min-width:0}
.name{font-weight:600;font-size:15px;line-height:1.3;overflow-wrap:anywhere}
.sub{color:var(--fg2);overflow-wrap:anywhere}
.state{display:flex;align-items:baseline;gap:8px;margin-top:12px;padding:8px 10px;border-radius:8px;background:var(--bg2)}
.state .dot{top:1px;width:10px;height:10px;box-shadow:none}
.state .dot[data-status=offline],.state .dot[data-status=unknown]{background:transparent;box-shadow:inset 0 0 0 2px var(--off)}
.state b{font-weight:600}
.msg,.why{color:var(--fg2);overflow-wrap:anywhere}
.why{display:block}
.links{display:grid;gap:2px;margin-top:10px}
.links a{color:var(--link);text-decoration:none;overflow-wrap:anywhere}
.links a:hover{text-decoration:underline}
.links a:focus-visible,.chat:focus-visible{outline:2px solid var(--btn);outline-offset:2px;border-radius:4px}
.actions{display:flex;justify-content:flex-end;margin-top:12px}
.chat{all:unset;box-sizing:border-box;cursor:pointer;padding:6px 18px;border-radius:8px;background:var(--btn);color:#fff;font-weight:600}
.chat:hover{background:var(--btn2)}
`;

  /** @type {CSSStyleSheet | null} */
  let sheet = null;
  /** @param {ShadowRoot} root */
  function style(root) {
    try {
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(STYLE);
      }
      root.adoptedStyleSheets = [sheet];
    } catch {
      // Older browsers: a <style> (which a strict page CSP may block).
      const el = document.createElement('style');
      el.textContent = STYLE;
      root.append(el);
    }
  }

  // ---------- DOM helpers ----------

  /**
   * @template {keyof HTMLElementTagNameMap} K
   * @param {K} tag
   * @param {string} [className]
   * @param {string} [text]
   * @returns {HTMLElementTagNameMap[K]}
   */
  function make(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  /**
   * The person id an element stands for, or '' for none.
   * @param {Element} el
   */
  function idOf(el) {
    const marked = el.getAttribute('data-simul-user');
    if (marked !== null) return marked.trim();
    const href = el.getAttribute('href') ?? '';
    if (!MAIL_LINKS || !/^mailto:/i.test(href)) return '';
    const address = href.slice(7).split('?')[0].split(',')[0];
    try {
      return decodeURIComponent(address).trim();
    } catch {
      return address.trim();
    }
  }

  /** @param {Widget} w */
  function nameOf(w) {
    const card = w.entry.card;
    if (card && card.display_name) return card.display_name;
    const el = w.el;
    const text = el.getAttribute('aria-label') || el.getAttribute('alt') || el.getAttribute('title') || el.textContent || '';
    return text.replace(/\s+/g, ' ').trim().slice(0, 80) || w.entry.id;
  }

  /**
   * The status to show, its words, and why it is unknown when it is.
   * @param {Entry} entry
   */
  function statusOf(entry) {
    const card = entry.card;
    const unknown = (/** @type {string} */ why) => ({ status: 'unknown', text: 'Status unknown', why });
    if (trouble === 'signed-out') return unknown('not signed in to Simul');
    if (trouble === 'unreachable') return unknown('Simul cannot be reached');
    if (card) {
      const text = LABELS[card.status] ?? card.status;
      return { status: card.status, text: card.idle && card.status !== 'offline' ? `${text} (idle)` : text, why: '' };
    }
    if (card === null) return unknown('not in the Simul directory');
    return unknown('checking…');
  }

  // ---------- Widgets ----------

  /** @param {Element} el */
  function bind(el) {
    const id = idOf(el);
    if (!id) return;
    const host = make('span');
    host.setAttribute('data-simul-widget', '');
    ours.add(host);
    const root = host.attachShadow({ mode: 'open' });
    style(root);
    const button = make('button', 'icon');
    button.type = 'button';
    const dot = make('span', 'dot');
    dot.setAttribute('aria-hidden', 'true');
    button.append(dot);
    root.append(button);
    // After links and buttons (a button inside a link would follow it) and
    // void elements; at the end of anything else (a table cell stays one).
    const interactive = el.closest('a[href],button,label,summary,select,textarea');
    if (interactive) interactive.after(host);
    else if (/^(img|input|br|hr|wbr|area|embed|video|audio|iframe|object|canvas)$/i.test(el.tagName)) el.after(host);
    else el.append(host);

    let entry = entries.get(id);
    if (!entry) {
      entry = { id, card: undefined, widgets: new Set() };
      entries.set(id, entry);
      ask(id);
    }
    /** @type {Widget} */
    const w = { el, entry, host, root, button, dot, card: null };
    entry.widgets.add(w);
    widgets.set(el, w);
    live.add(w);

    button.addEventListener('click', () => chat(w));
    // A keyboard user's focus shows the card; a mouse click opens the chat.
    button.addEventListener('focus', () => {
      if (button.matches(':focus-visible') && refocusing !== w) showCard(w);
    });
    button.addEventListener('pointerenter', () => hoverShow(w));
    button.addEventListener('pointerleave', hideSoon);
    root.addEventListener('focusout', (e) => {
      const to = /** @type {FocusEvent} */ (e).relatedTarget;
      if (!refilling && !(to instanceof Node && root.contains(to))) hideCard(w);
    });
    render(w);
  }

  /** @param {Widget} w */
  function unbind(w) {
    if (shown === w) hideCard(w);
    w.host.remove();
    w.entry.widgets.delete(w);
    widgets.delete(w.el);
    live.delete(w);
  }

  /** @param {Widget} w */
  function render(w) {
    const { status, text, why } = statusOf(w.entry);
    const message = w.entry.card && !trouble ? w.entry.card.message : '';
    w.dot.setAttribute('data-status', status);
    w.dot.classList.toggle('idle', !!w.entry.card?.idle && status !== 'offline' && status !== 'unknown');
    const said = why ? `${text} (${why})` : message ? `${text} — ${message}` : text;
    w.button.setAttribute('aria-label', `${nameOf(w)}: ${said}`);
    if (w.card?.classList.contains('open')) fill(w);
  }

  /** @param {Entry} entry */
  function renderEntry(entry) {
    for (const w of entry.widgets) render(w);
  }

  function renderAll() {
    for (const w of live) render(w);
  }

  /** @param {Widget} w */
  function chat(w) {
    const id = w.entry.card?.id ?? w.entry.id;
    window.open(`${BASE}/stwebapi/chat?userId=${encodeURIComponent(id)}`, 'simul-chat', 'width=420,height=640');
  }

  // ---------- The business card ----------

  /** @type {Widget | null} */
  let shown = null;
  let hoverTimer = 0;
  /** @type {Widget | null} the icon getting focus back from its card */
  let refocusing = null;
  /** A card's controls are being redrawn (focus moves, the card stays). */
  let refilling = false;

  /** @param {Widget} w */
  function hoverShow(w) {
    clearTimeout(hoverTimer);
    if (shown === w) return;
    hoverTimer = window.setTimeout(() => showCard(w), 250);
  }

  /**
   * Whether a keyboard user is in the widget (then the card stays).
   * @param {Widget} w
   */
  function keyboardIn(w) {
    const focused = w.root.activeElement;
    return !!focused && (focused !== w.button || w.button.matches(':focus-visible'));
  }

  function hideSoon() {
    clearTimeout(hoverTimer);
    const w = shown;
    if (!w || keyboardIn(w)) return;
    hoverTimer = window.setTimeout(() => hideCard(w), 300);
  }

  /** @param {Widget} w */
  function showCard(w) {
    clearTimeout(hoverTimer);
    if (shown && shown !== w) hideCard(shown);
    if (!w.card) {
      const card = make('div', 'card');
      card.setAttribute('role', 'group');
      // The top layer: above everything, clipped by nothing.
      if ('showPopover' in card) card.setAttribute('popover', 'manual');
      card.addEventListener('pointerenter', () => clearTimeout(hoverTimer));
      card.addEventListener('pointerleave', hideSoon);
      w.root.append(card);
      w.card = card;
    }
    fill(w);
    w.card.classList.add('open');
    if (w.card.hasAttribute('popover') && !w.card.matches(':popover-open')) w.card.showPopover();
    shown = w;
    place();
  }

  /** @param {Widget} w */
  function hideCard(w) {
    if (shown === w) shown = null;
    const card = w.card;
    if (!card) return;
    card.classList.remove('open');
    if (card.hasAttribute('popover') && card.matches(':popover-open')) card.hidePopover();
  }

  // Escape closes the card (and brings focus back to its icon).
  addEventListener('keydown', (e) => {
    const w = shown;
    if (e.key !== 'Escape' || !w) return;
    const focused = w.root.activeElement;
    hideCard(w);
    if (focused) {
      e.stopPropagation();
      if (focused !== w.button) {
        refocusing = w;
        w.button.focus({ preventScroll: true });
        refocusing = null;
      }
    }
  }, true);

  /** Puts the open card below its icon (above when there is no room). */
  function place() {
    const card = shown?.card;
    if (!shown || !card) return;
    if (!shown.host.isConnected) return hideCard(shown);
    const at = shown.button.getBoundingClientRect();
    const width = card.offsetWidth;
    const height = card.offsetHeight;
    const left = Math.max(8, Math.min(at.left - 14, innerWidth - width - 8));
    const below = at.bottom + 8;
    const top = below + height > innerHeight - 8 && at.top - 8 - height > 8 ? at.top - 8 - height : below;
    // CSSOM, not a style attribute: allowed by a strict CSP.
    card.style.left = `${left}px`;
    card.style.top = `${top}px`;
  }
  addEventListener('scroll', place, { capture: true, passive: true });
  addEventListener('resize', place, { passive: true });

  /** @param {Widget} w */
  function fill(w) {
    const card = w.card;
    if (!card) return;
    const person = trouble ? null : w.entry.card;
    const name = nameOf(w);
    card.setAttribute('aria-label', `Business card: ${name}`);

    const avatar = make('span', 'avatar');
    avatar.setAttribute('aria-hidden', 'true');
    avatar.textContent = initials(name);
    if (person && /^(https?:|\/)/i.test(person.photo_url)) {
      const img = make('img');
      img.alt = '';
      img.addEventListener('error', () => img.remove());
      img.src = new URL(person.photo_url, BASE + '/').href;
      avatar.append(img);
    }
    const who = make('div', 'who');
    who.append(make('div', 'name', name));
    if (person?.title) who.append(make('div', 'sub', person.title));
    if (person?.location) who.append(make('div', 'sub', person.location));
    const head = make('div', 'head');
    head.append(avatar, who);

    const { status, text, why } = statusOf(w.entry);
    const state = make('div', 'state');
    const dot = make('span', 'dot');
    dot.setAttribute('aria-hidden', 'true');
    dot.setAttribute('data-status', status);
    dot.classList.toggle('idle', !!person?.idle && status !== 'offline' && status !== 'unknown');
    const words = make('span');
    words.append(make('b', '', text));
    if (person?.message) words.append(make('span', 'msg', ` — ${person.message}`));
    if (why) words.append(make('span', 'why', why[0].toUpperCase() + why.slice(1)));
    state.append(dot, words);

    const parts = [head, state];
    const links = make('div', 'links');
    const mail = person?.mail || (/@/.test(w.entry.id) && !/[=,]/.test(w.entry.id) ? w.entry.id : '');
    if (mail) {
      const a = make('a', '', mail);
      a.href = `mailto:${mail}`;
      links.append(a);
    }
    if (person?.phone) {
      const a = make('a', '', person.phone);
      a.href = `tel:${person.phone.replace(/[^\d+]/g, '')}`;
      links.append(a);
    }
    if (links.childElementCount) parts.push(links);
    if (w.entry.card !== null) {
      const actions = make('div', 'actions');
      const signIn = trouble === 'signed-out';
      const button = make('button', 'chat', signIn ? 'Sign in to chat' : 'Chat');
      button.type = 'button';
      button.setAttribute('aria-label', signIn ? `Sign in to Simul to chat with ${name}` : `Chat with ${name}`);
      button.addEventListener('click', () => chat(w));
      actions.append(button);
      parts.push(actions);
    }
    // Keeps focus on a control that is redrawn (a status change while open).
    const focused = w.root.activeElement;
    const again = focused && card.contains(focused) ? (focused.classList.contains('chat') ? '.chat' : `a[href="${CSS.escape(focused.getAttribute('href') ?? '')}"]`) : '';
    refilling = true;
    card.replaceChildren(...parts);
    refilling = false;
    if (again) /** @type {HTMLElement | null} */ (card.querySelector(again))?.focus({ preventScroll: true });
    if (shown === w) place();
  }

  /** @param {string} name */
  function initials(name) {
    const words = name.split(/[\s@._-]+/).filter(Boolean);
    const first = words[0]?.[0] ?? '?';
    const last = words.length > 1 ? words[words.length - 1][0] : '';
    return (first + last).toUpperCase();
  }

  // ---------- Lookups ----------

  /** @param {string} id */
  function ask(id) {
    pending.add(id);
    if (!flushTimer) flushTimer = window.setTimeout(flush, 20);
  }

  function flush() {
    flushTimer = 0;
    const ids = [...pending];
    pending.clear();
    if (trouble === 'signed-out') {
      for (const id of ids) {
        const entry = entries.get(id);
        if (entry) renderEntry(entry);
      }
      return;
    }
    for (let i = 0; i < ids.length; i += BATCH) lookup(ids.slice(i, i + BATCH));
  }

  /** @param {string[]} ids */
  async function lookup(ids) {
    const query = ids.map((id) => `id=${encodeURIComponent(id)}`).join('&');
    /** @type {Record<string, Card>} */
    let found;
    try {
      const response = await fetch(`${BASE}/api/v1/users?${query}`, { credentials: 'include' });
      if (response.status === 401 || response.status === 403) return signedOut();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      found = await response.json();
    } catch (e) {
      if (trouble !== 'unreachable') console.warn(`Simul awareness: cannot reach ${BASE} (is this page's origin in server.allowed_origins?)`, e);
      trouble = 'unreachable';
      renderAll();
      retry();
      return;
    }
    if (trouble) {
      trouble = '';
      renderAll();
    }
    /** @type {string[]} */
    const fresh = [];
    for (const id of ids) {
      const entry = entries.get(id);
      if (!entry) continue;
      const card = Object.hasOwn(found, id) ? found[id] : null;
      entry.card = card;
      if (card) {
        let set = byUser.get(card.id);
        if (!set) byUser.set(card.id, (set = new Set()));
        set.add(entry);
        if (!watched.has(card.id)) fresh.push(card.id);
      }
      renderEntry(entry);
    }
    connect();
    watch(fresh);
  }

  function signedOut() {
    trouble = 'signed-out';
    clearTimeout(retryTimer);
    socket?.close();
    renderAll();
  }

  // ---------- The event stream ----------

  function connect() {
    if (socket || trouble) return;
    const ws = new WebSocket(`${BASE.replace(/^http/i, 'ws')}/api/v1/events?presence=none`);
    socket = ws;
    socketReady = false;
    watched = new Set();
    ws.addEventListener('message', (e) => {
      /** @type {{type?: string, user?: string, status?: StatusName, message?: string, idle?: boolean}} */
      let event;
      try {
        event = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (event.type === 'ready') {
        socketReady = true;
        retries = 0;
        watch([...byUser.keys()]);
      } else if (event.type === 'status' && event.user && event.status) {
        for (const entry of byUser.get(event.user) ?? []) {
          if (!entry.card) continue;
          entry.card.status = event.status;
          entry.card.message = event.message ?? '';
          entry.card.idle = !!event.idle;
          renderEntry(entry);
        }
      }
    });
    ws.addEventListener('close', () => {
      if (socket !== ws) return;
      socket = null;
      socketReady = false;
      if (!trouble) retry();
    });
  }

  /** @param {string[]} users Simul ids */
  function watch(users) {
    const ws = socket;
    if (!ws || !socketReady) return;
    const fresh = users.filter((u) => !watched.has(u));
    if (!fresh.length) return;
    for (const u of fresh) watched.add(u);
    // Commands are at most 64 KiB: a few DNs at a time.
    for (let i = 0; i < fresh.length; i += BATCH) ws.send(JSON.stringify({ type: 'watch', users: fresh.slice(i, i + BATCH) }));
  }

  /** Looks everyone up again after a backoff (which reopens the stream). */
  function retry() {
    clearTimeout(retryTimer);
    const delay = Math.min(30_000, 1000 * 2 ** retries) * (0.75 + Math.random() / 2);
    retries = Math.min(retries + 1, 5);
    retryTimer = window.setTimeout(() => {
      for (const id of entries.keys()) ask(id);
    }, delay);
  }

  // ---------- Finding people ----------

  /** @param {ParentNode} root */
  function scan(root) {
    if (root instanceof Element && root.matches(SELECTOR) && !widgets.has(root)) bind(root);
    for (const el of root.querySelectorAll(SELECTOR)) if (!widgets.has(el)) bind(el);
  }

  new MutationObserver((mutations) => {
    let removed = false;
    for (const m of mutations) {
      if (m.type === 'attributes') {
        const el = /** @type {Element} */ (m.target);
        const w = widgets.get(el);
        if (w && idOf(el) !== w.entry.id) unbind(w);
        if (el.isConnected && !widgets.has(el) && el.matches(SELECTOR)) bind(el);
        continue;
      }
      for (const node of m.addedNodes) if (node instanceof Element && !ours.has(node)) scan(node);
      if (m.removedNodes.length) removed = true;
    }
    if (removed) for (const w of live) if (!w.el.isConnected) unbind(w);
  }).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['data-simul-user', 'href'],
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => scan(document));
  else scan(document);
})();
