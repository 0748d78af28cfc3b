// The live connection: WebSocket /api/live with reconnect (backoff 1 s → 10 s), a watchdog that
// reconnects when nothing was heard for 45 s, and a reload of the active alerts after every
// (re)connect so nothing is missed while away. While the socket is down the active alerts are
// also polled every 15 s, so the board is never older than that.

const BACKOFF_MS = [1000, 2000, 4000, 8000, 10000];
const SILENCE_MS = 45000;
const POLL_WHILE_DOWN_MS = 15000;

export class Live {
  // handlers: onState(state: 'connecting'|'connected'|'disconnected'), onMessage(msg),
  // onConnected() (reload), onUnauthenticated()
  constructor(handlers) {
    this.handlers = handlers;
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.watchdog = null;
    this.poller = null;
    this.stopped = true;
    this.lastHeard = 0;
    this.state = 'disconnected';
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    clearInterval(this.poller);
    this.poller = null;
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close();
      this.socket = null;
    }
    this.setState('disconnected');
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.handlers.onState?.(state);
    if (state === 'connected') {
      clearInterval(this.poller);
      this.poller = null;
    } else if (!this.stopped && !this.poller) {
      this.poller = setInterval(() => this.handlers.onPoll?.(), POLL_WHILE_DOWN_MS);
    }
  }

  connect() {
    if (this.stopped) return;
    this.setState(this.attempt === 0 ? 'connecting' : 'disconnected');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${location.host}/api/live`);
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.lastHeard = Date.now();
      this.setState('connected');
      clearInterval(this.watchdog);
      this.watchdog = setInterval(() => {
        if (Date.now() - this.lastHeard > SILENCE_MS) socket.close();
      }, 5000);
      this.handlers.onConnected?.();
    };
    socket.onmessage = (event) => {
      this.lastHeard = Date.now();
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      this.handlers.onMessage?.(msg);
    };
    socket.onclose = () => {
      clearInterval(this.watchdog);
      if (this.socket === socket) this.socket = null;
      if (this.stopped) return;
      // A refused upgrade (expired session answers 401) looks like a close before open: ask.
      if (!opened) this.handlers.onRefused?.();
      this.retry();
    };
    socket.onerror = () => {};
  }

  retry() {
    if (this.stopped) return;
    this.setState('disconnected');
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
