// The duty-desk console (值班台): session, hash routes, the live connection and the header.
// Routes: #/login, #/board (default), #/household/ID, #/health, #/visits (docs/console.md).

import { get, post, setUnauthenticatedHandler } from './api.js';
import { Live } from './live.js';
import { playEmergency, playTest, setSoundWanted, soundWanted, unlock } from './sound.js';
import { el, clear, refreshAges, ROLE_LABELS } from './util.js';
import * as board from './board.js';
import * as household from './household.js';
import * as health from './health.js';
import * as visits from './visits.js';
import * as login from './login.js';

const SOUND_REPEAT_MS = 20000;

// Shared by the pages.
export const ctx = {
  user: null,
  alerts: new Map(), // alert_id → alert (active ones)
  alertsLoaded: false,
  listeners: new Set(), // called with (kind, payload) on live changes
  live: null,
  canHandle: () => ctx.user && ctx.user.role !== 'county_staff',
  notify(kind, payload) {
    for (const fn of ctx.listeners) fn(kind, payload);
  },
  upsertAlert(alert) {
    if (!alert || !alert.alert_id) return;
    const previous = ctx.alerts.get(alert.alert_id);
    if (previous && previous.updated_at > alert.updated_at && previous.state !== alert.state) {
      // A late, older version: keep the newer one.
      return;
    }
    if (alert.state === 'resolved') ctx.alerts.delete(alert.alert_id);
    else ctx.alerts.set(alert.alert_id, alert);
    if (!previous && alert.state !== 'resolved' && alert.severity === 'emergency') soundNow();
    else if (board.needsHelp(alert) && !(previous && board.needsHelp(previous))) soundNow();
    ctx.notify('alert', alert);
    updateBanner();
  },
  async reloadAlerts() {
    try {
      const list = await get('/api/alerts?state=active');
      const known = new Set(ctx.alerts.keys());
      const fresh = new Map();
      let newEmergency = false;
      for (const alert of list) {
        if (alert.state === 'resolved') continue;
        fresh.set(alert.alert_id, alert);
        if (!known.has(alert.alert_id) && alert.severity === 'emergency' && ctx.alertsLoaded) {
          newEmergency = true;
        }
      }
      ctx.alerts = fresh;
      ctx.alertsLoaded = true;
      ctx.notify('reload', null);
      updateBanner();
      if (newEmergency) soundNow();
    } catch (e) {
      ctx.notify('error', e);
    }
  },
};

const routes = {
  login: login,
  board: board,
  household: household,
  health: health,
  visits: visits,
};

let current = null; // { name, cleanup }
let lastSound = 0;

function openEmergencies() {
  let n = 0;
  for (const a of ctx.alerts.values()) {
    if ((a.severity === 'emergency' && a.state === 'open') || board.needsHelp(a)) n += 1;
  }
  return n;
}

function soundNow() {
  if (playEmergency()) lastSound = Date.now();
}

function updateBanner() {
  const n = openEmergencies();
  const count = document.getElementById('nav-count');
  const active = ctx.alerts.size;
  count.hidden = active === 0;
  count.textContent = String(active);
  count.classList.toggle('nav-count-urgent', n > 0);
  const banner = document.getElementById('emergency-banner');
  const onBoard = current && current.name === 'board';
  banner.hidden = n === 0 || onBoard;
  banner.firstElementChild.textContent = `有 ${n} 条紧急告警待处理，点此查看`;
  document.title = n > 0 ? `（${n}）紧急 · 平安守护值班台` : '平安守护 · 乡镇值班台';
}

function setConnection(state) {
  const node = document.getElementById('conn');
  node.dataset.state = state;
  const text = {
    connected: '实时连接正常',
    connecting: '正在连接…',
    disconnected: '连接中断，正在重连…',
  }[state];
  node.querySelector('.conn-text').textContent = text;
}

function renderSoundToggle() {
  const button = document.getElementById('sound-toggle');
  const on = soundWanted();
  button.setAttribute('aria-pressed', on ? 'true' : 'false');
  button.textContent = on ? '声音提醒：开' : '开启声音提醒';
  button.classList.toggle('on', on);
}

function parseHash() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [name, ...rest] = hash.split('/');
  return { name: name || 'board', params: rest.map((p) => decodeURIComponent(p)) };
}

async function route() {
  const { name, params } = parseHash();
  if (!ctx.user && name !== 'login') {
    location.replace('#/login');
    return;
  }
  if (ctx.user && name === 'login') {
    location.replace('#/board');
    return;
  }
  const page = routes[name];
  if (current && current.cleanup) current.cleanup();
  current = { name, cleanup: null };
  const main = clear(document.getElementById('main'));
  document.getElementById('topbar').hidden = !ctx.user;
  for (const link of document.querySelectorAll('.nav a')) {
    link.classList.toggle('active', link.dataset.route === name);
  }
  updateBanner();
  if (!page) {
    main.appendChild(
      el('section', { class: 'page-message' }, el('h1', { text: '页面不存在' }),
        el('p', {}, el('a', { href: '#/board', text: '返回告警' })))
    );
    return;
  }
  const mine = current;
  const cleanup = await page.render(main, ctx, params);
  if (current === mine) mine.cleanup = cleanup || null;
  else if (cleanup) cleanup();
  main.focus({ preventScroll: true });
}

function startSession(user) {
  ctx.user = user;
  document.getElementById('user').textContent =
    `${user.username}（${ROLE_LABELS[user.role] || user.role}）`;
  document.getElementById('scope').textContent = user.scope || '';
  if (!ctx.live) {
    ctx.live = new Live({
      onState: setConnection,
      onConnected: () => ctx.reloadAlerts(),
      onPoll: () => ctx.reloadAlerts(),
      onMessage: (msg) => {
        if (msg.type === 'alert') ctx.upsertAlert(msg.alert);
        else if (msg.type === 'health') ctx.notify('health', msg);
      },
      onRefused: () => checkSession(),
    });
  }
  ctx.live.start();
  ctx.reloadAlerts();
}

function endSession() {
  ctx.user = null;
  ctx.alerts = new Map();
  ctx.alertsLoaded = false;
  if (ctx.live) ctx.live.stop();
  updateBanner();
}

async function checkSession() {
  try {
    await get('/api/me', { quiet401: true });
  } catch (e) {
    if (e.status === 401) sessionExpired();
  }
}

function sessionExpired() {
  if (!ctx.user) return;
  endSession();
  sessionStorage.setItem('homesafe.console.expired', '1');
  location.replace('#/login');
  route();
}

export function loggedIn(user) {
  startSession(user);
  location.replace('#/board');
  route();
}

async function boot() {
  setUnauthenticatedHandler(sessionExpired);
  renderSoundToggle();
  document.getElementById('sound-toggle').addEventListener('click', () => {
    const on = !soundWanted();
    setSoundWanted(on);
    renderSoundToggle();
    if (on) playTest();
  });
  // The browser allows sound only after a gesture: any click or key resumes the audio context.
  const gesture = () => {
    if (soundWanted()) unlock();
  };
  document.addEventListener('click', gesture, true);
  document.addEventListener('keydown', gesture, true);
  document.getElementById('logout').addEventListener('click', async () => {
    try {
      await post('/api/logout', {}, { quiet401: true });
    } catch {
      // logged out either way
    }
    endSession();
    location.replace('#/login');
    route();
  });
  window.addEventListener('hashchange', route);
  setInterval(() => {
    refreshAges();
    if (openEmergencies() > 0 && Date.now() - lastSound > SOUND_REPEAT_MS) soundNow();
  }, 1000);

  try {
    const me = await get('/api/me', { quiet401: true });
    startSession(me);
  } catch (e) {
    if (e.status !== 401) {
      clear(document.getElementById('main')).appendChild(
        el('section', { class: 'page-message', testid: 'boot-error' },
          el('h1', { text: '无法连接值班台服务' }),
          el('p', { text: e.message }),
          el('button', { type: 'button', class: 'btn', onclick: () => location.reload() }, '重试'))
      );
      return;
    }
  }
  route();
}

boot();
