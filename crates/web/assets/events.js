// @ts-check
// The live event stream: one WebSocket on /api/v1/events (cookie auth,
// same origin). The user is online while it is open; when it drops it comes
// back with exponential backoff and the app re-sends its watches on "ready".

/**
 * @typedef {'connecting' | 'online' | 'offline'} ConnectionState
 * @typedef {{type: string, [key: string]: any}} ServerEvent
 */

const MIN_DELAY = 1000;
const MAX_DELAY = 30_000;

export class EventStream extends EventTarget {
  constructor() {
    super();
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {ConnectionState} */
    this.state = 'connecting';
    this.attempt = 0;
    this.stopped = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** @type {WebSocket | null} The socket a renewal replaces, closed once the new one is ready. */
    this.retiring = null;
    /** When the next try is due (ms since epoch), for the banner. */
    this.nextTry = 0;
    this.onOnline = () => this.retryNow();
    window.addEventListener('online', this.onOnline);
  }

  /** Opens the socket (again). */
  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.setState('connecting');
    const url = new URL('/api/v1/events', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    this.socket = socket;
    let ready = false;
    socket.addEventListener('message', (message) => {
      /** @type {ServerEvent} */
      let event;
      try {
        event = JSON.parse(String(message.data));
      } catch {
        return;
      }
      if (event.type === 'ready') {
        ready = true;
        this.attempt = 0;
        this.setState('online');
        this.retiring?.close();
        this.retiring = null;
      }
      this.dispatchEvent(new CustomEvent('event', { detail: event }));
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      this.dispatchEvent(new CustomEvent('down', { detail: { wasReady: ready } }));
      this.scheduleRetry();
    });
  }

  scheduleRetry() {
    const delay = Math.min(MAX_DELAY, MIN_DELAY * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    this.nextTry = Date.now() + delay;
    this.setState('offline');
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /**
   * Opens a new socket with the current cookie and closes the old one once
   * the new one is live, so the user does not blink offline.
   */
  renew() {
    if (this.stopped) return;
    this.retiring = this.socket;
    this.socket = null;
    this.attempt = 0;
    this.connect();
  }

  /** Skips the wait before the next try. */
  retryNow() {
    if (this.stopped || this.socket) return;
    this.attempt = 0;
    this.connect();
  }

  /** @param {ConnectionState} state */
  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }

  /**
   * Sends a command; false when the socket is not open.
   * @param {Record<string, unknown>} command
   */
  send(command) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN || this.state !== 'online') return false;
    this.socket.send(JSON.stringify(command));
    return true;
  }

  /** Closes for good (logout). */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.retiring?.close();
    this.retiring = null;
  }
}
