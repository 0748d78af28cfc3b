#!/usr/bin/env node
// The duty-desk console in a real browser (issue 7): headless Debian chromium driven by
// playwright-core against every real part — a hub Mosquitto and the real homesafe-gateway of
// household h001 with its uplink, a township Mosquitto with the accounts and ACL that
// `homesafe-township hub-credentials` writes, and the real homesafe-township serving the console.
//
//   node tests/console/run.mjs --township BIN --gateway BIN [--screenshots DIR] [--keep]
//
// Screenshots of the main pages go to --screenshots (or $HOMESAFE_CONSOLE_SCREENSHOTS; default
// ./console-screenshots). Every process started here is stopped by its PID at the end, also when
// a scenario fails. Needs: chromium, mosquitto, mosquitto-clients (scripts/install-deps.sh) and
// `npm ci --prefix tests/console`.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const INSTALL_HINT = 'run scripts/install-deps.sh (it installs chromium, nodejs, mosquitto and runs `npm ci --prefix tests/console`)';

// ---------------------------------------------------------------- arguments and preflight ----

const { values: opts } = parseArgs({
  options: {
    township: { type: 'string' },
    gateway: { type: 'string' },
    screenshots: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

function fatal(message) {
  process.stderr.write(`console browser test: ${message}\n`);
  process.exit(1);
}

if (!opts.township || !opts.gateway) {
  fatal('usage: node tests/console/run.mjs --township PATH --gateway PATH [--screenshots DIR] [--keep]');
}
for (const [name, file] of [['homesafe-township', opts.township], ['homesafe-gateway', opts.gateway]]) {
  if (!existsSync(file)) fatal(`${name} not found at ${file} (build it first)`);
}
if (!existsSync(CHROMIUM)) fatal(`${CHROMIUM} is missing: ${INSTALL_HINT}`);
for (const tool of ['mosquitto', 'mosquitto_pub', 'mosquitto_sub', 'mosquitto_passwd']) {
  const found = spawnSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`]).status === 0;
  if (!found) fatal(`${tool} is missing: ${INSTALL_HINT}`);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  fatal(`playwright-core is not installed in tests/console/node_modules (${e.code || e.message}): ${INSTALL_HINT}`);
}

const shotsDir = path.resolve(opts.screenshots || process.env.HOMESAFE_CONSOLE_SCREENSHOTS || 'console-screenshots');
mkdirSync(shotsDir, { recursive: true });
const work = mkdtempSync(path.join(os.tmpdir(), 'homesafe-console-'));
const mosquittoBin = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';

// --------------------------------------------------------------------------- processes ----

const started = [];

class Proc {
  constructor(name, command, args, options = {}) {
    this.name = name;
    this.output = '';
    this.logPath = path.join(work, `${name}.log`);
    const log = createWriteStream(this.logPath);
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    this.running = true;
    this.child.on('exit', () => { this.running = false; });
    this.child.on('error', (e) => { this.output += `spawn error: ${e.message}\n`; });
    const take = (chunk) => {
      const text = chunk.toString('utf8');
      this.output += text;
      if (this.output.length > 4_000_000) this.output = this.output.slice(-2_000_000);
      log.write(chunk);
      this.onData?.(text);
    };
    this.child.stdout.on('data', take);
    this.child.stderr.on('data', take);
    started.push(this);
  }

  async waitFor(pattern, timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (pattern.test(this.output)) return;
      if (!this.running) break;
      await sleep(100);
    }
    throw new Error(`${this.name} did not print ${pattern} (log ${this.logPath}):\n${this.output.slice(-3000)}`);
  }

  async stop() {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const done = await Promise.race([this.exited, sleep(8000).then(() => null)]);
    if (done === null && this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

async function stopAll() {
  for (const proc of [...started].reverse()) await proc.stop();
}
process.on('exit', () => {
  for (const proc of started) if (proc.running) proc.child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await stopAll();
    process.exit(1);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitPort(port, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

// Runs a command to its end; throws with its output when it fails.
function run(command, args, input) {
  const r = spawnSync(command, args, { input, encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) {
    throw new Error(`${path.basename(command)} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}

async function waitUntil(what, fn, timeoutMs = 20000, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

// ------------------------------------------------------------------------------ fixture ----

const REGISTRY = [
  'household_id,resident_id,display_name,county,township,village,risk_class,hub_id,address,caregiver_id,caregiver_name,caregiver_phone,emergency_id,emergency_name,emergency_phone',
  'h001,r-0001,3组 王奶奶,南县,清河镇,东村,高风险,h001,东村3组12号,li,李阿姨,+8613800000001,son1,王大明,+8613800000002',
  'h002,r-0002,5组 张爷爷,南县,清河镇,西村,一般,h002,西村5组,wang,王师傅,+8613800000003,,,',
  'h003,r-0003,8组 刘爷爷,南县,清河镇,东村,重点,,东村8组,li,李阿姨,+8613800000001,,,',
  'h101,r-0101,2组 赵奶奶,南县,河西镇,河西村,高风险,h101,河西村2组,zhou,周阿姨,+8613800000009,,,',
].join('\n') + '\n';

// A dense ladder: the gateway refuses `repeat` under 30 s, so the steps themselves come every 3 s.
function ladder() {
  const steps = [];
  for (let i = 0; i <= 30; i += 1) {
    steps.push(`      - {after: ${i * 3}s, notify: [${i % 2 === 0 ? 'caregiver' : 'emergency_contact'}]}`);
  }
  return steps.join('\n');
}

const env = {};

function writeTownshipConfig() {
  writeFileSync(env.townshipConfig, [
    `storage: {path: "${path.join(work, 'township.db')}"}`,
    `broker: {url: "tcp://127.0.0.1:${env.townshipBrokerPort}", client_id: homesafe-township-console-test, username: township, password: "${env.brokerPassword}"}`,
    `http: {address: 127.0.0.1, port: ${env.httpPort}}`,
    'silence: {heartbeat_s: 5, missed: 3, grace_s: 5, check_interval_s: 2}',
    `console: {public_url: "${env.base}", link_secret_file: "${env.linkSecretFile}"}`,
    '',
  ].join('\n'));
}

function mosquittoConfig(port, extra = '') {
  return [
    `listener ${port} 127.0.0.1`,
    `user ${os.userInfo().username}`,
    'persistence false',
    'set_tcp_nodelay true',
    extra,
    '',
  ].join('\n');
}

async function startFixture() {
  env.hubPort = await freePort();
  env.townshipBrokerPort = await freePort();
  env.httpPort = await freePort();
  env.base = `http://127.0.0.1:${env.httpPort}`;
  env.brokerPassword = randomBytes(12).toString('hex');
  env.passwords = { qh_op: randomBytes(9).toString('hex'), hx_op: randomBytes(9).toString('hex') };
  env.townshipConfig = path.join(work, 'township.yaml');
  env.linkSecretFile = path.join(work, 'link.secret');
  writeFileSync(env.linkSecretFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  writeTownshipConfig();

  const tw = opts.township;
  writeFileSync(path.join(work, 'households.csv'), REGISTRY);
  run(tw, ['import-households', '--config', env.townshipConfig, path.join(work, 'households.csv')]);
  run(tw, ['add-user', '--config', env.townshipConfig, '--username', 'qh_op', '--role', 'township_operator', '--scope', '清河镇'], `${env.passwords.qh_op}\n`);
  run(tw, ['add-user', '--config', env.townshipConfig, '--username', 'hx_op', '--role', 'township_operator', '--scope', '河西镇'], `${env.passwords.hx_op}\n`);
  const credentials = path.join(work, 'broker');
  run(tw, ['hub-credentials', '--config', env.townshipConfig, '--out', credentials]);
  env.hubPasswords = {};
  for (const line of readFileSync(path.join(credentials, 'hub-credentials.csv'), 'utf8').split(/\r?\n/).slice(1)) {
    const [hub, , password] = line.replaceAll('"', '').split(',');
    if (hub) env.hubPasswords[hub] = password;
  }
  assert.ok(env.hubPasswords.h001 && env.hubPasswords.h002, 'hub-credentials.csv lists h001 and h002');

  // The hub's broker (anonymous, as on a hub) and the township's (accounts + ACL).
  writeFileSync(path.join(work, 'hub-mosquitto.conf'), mosquittoConfig(env.hubPort, 'allow_anonymous true'));
  const hubBroker = new Proc('hub-mosquitto', mosquittoBin, ['-c', path.join(work, 'hub-mosquitto.conf')]);
  writeFileSync(path.join(work, 'township-mosquitto.conf'), mosquittoConfig(env.townshipBrokerPort,
    `allow_anonymous false\npassword_file ${path.join(credentials, 'passwd')}\nacl_file ${path.join(credentials, 'acl')}`));
  const townshipBroker = new Proc('township-mosquitto', mosquittoBin, ['-c', path.join(work, 'township-mosquitto.conf')]);
  await waitPort(env.hubPort);
  await waitPort(env.townshipBrokerPort);
  console.log(`# hub broker 127.0.0.1:${env.hubPort} (pid ${hubBroker.pid}), township broker 127.0.0.1:${env.townshipBrokerPort} (pid ${townshipBroker.pid})`);

  // Everything the hub publishes, from the start (retained alert states, notifications).
  env.hubMessages = [];
  const sub = new Proc('hub-sub', 'mosquitto_sub', ['-h', '127.0.0.1', '-p', String(env.hubPort), '-v', '-t', 'homesafe/h001/#']);
  let partial = '';
  sub.onData = (text) => {
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop();
    for (const line of lines) {
      const space = line.indexOf(' ');
      if (space < 0) continue;
      env.hubMessages.push({ topic: line.slice(0, space), payload: line.slice(space + 1), at: Date.now() });
    }
  };

  const township = new Proc('homesafe-township', tw, ['--config', env.townshipConfig]);
  await township.waitFor(/homesafe-township ready/);
  console.log(`# homesafe-township on ${env.base} (pid ${township.pid})`);
  env.township = township;

  // The hub: h001's gateway with its uplink to the township broker (and one-tap links when the
  // township wrote a link key for it).
  const secret = path.join(work, 'uplink.secret');
  writeFileSync(secret, `${env.hubPasswords.h001}\n`, { mode: 0o600 });
  const linkKey = path.join(credentials, 'link-keys', 'h001.key');
  env.linksConfigured = existsSync(linkKey);
  const gatewayConfig = path.join(work, 'h001.yaml');
  writeFileSync(gatewayConfig, `household: {id: h001, name: "3组 王奶奶", timezone: Asia/Shanghai}
broker: {url: "tcp://127.0.0.1:${env.hubPort}", keepalive: 5s}
storage: {path: "${path.join(work, 'h001.db')}"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: kitchen-gas, kind: gas, location: 厨房}
  - {id: bedroom-sos, kind: call_button, location: 卧室}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
  - {id: son1, name: 王大明, role: emergency_contact, channels: [{type: mqtt}]}
escalation:
  - match: {severity: emergency}
    steps:
${ladder()}
    repeat: 30s
uplink: {url: "tcp://127.0.0.1:${env.townshipBrokerPort}", password_file: "${secret}", heartbeat: 5s, ack_timeout: 3s${env.linksConfigured ? `, link_base_url: "${env.base}", link_key_file: "${linkKey}"` : ''}}
`);
  run(opts.gateway, ['check-config', gatewayConfig]);
  const gateway = new Proc('homesafe-gateway', opts.gateway, ['--config', gatewayConfig]);
  env.gateway = gateway;
  await waitUntil('the gateway online on the hub broker',
    () => env.hubMessages.some((m) => m.topic === 'homesafe/h001/gateway/status' && m.payload === 'online'), 30000);
  console.log(`# homesafe-gateway h001 (pid ${gateway.pid})${env.linksConfigured ? ' with one-tap links' : ' (no link key written: no one-tap links)'}`);

  // h002 as a simulated hub: 30 days of daily summaries and a low battery, in the wire format of
  // docs/uplink.md, published with h002's own broker account.
  publishHubEvents('h002', h002Events());
  const api = await apiSession('qh_op');
  await waitUntil('h001 online and h002 summaries stored in the township', async () => {
    const households = await api.get('/api/households');
    const h001 = households.body.find((h) => h.household_id === 'h001');
    const daily = await api.get('/api/households/h002/daily?days=30');
    return h001 && h001.hub_status === 'online' && daily.status === 200 &&
      daily.body.days.filter((d) => d.water_l !== null).length === 30;
  }, 30000);
}

function localDate(offsetDays) {
  // The township's local date (UTC+8) `offsetDays` from today.
  const d = new Date(Date.now() + 8 * 3600e3 + offsetDays * 86400e3);
  return d.toISOString().slice(0, 10);
}

function h002Events() {
  const epoch = randomBytes(4).toString('hex');
  let seq = 0;
  const event = (type, priority, body) => {
    seq += 1;
    return {
      v: 1, event_id: `h002/${epoch}/${seq}`, hub: 'h002', household: 'h002', seq, type, priority,
      ts: Date.now(), clock_synced: true, body,
    };
  };
  const events = [];
  for (let i = 30; i >= 1; i -= 1) {
    // An ordinary month, then the last three days much quieter: a drop the band should show.
    const quiet = i <= 3;
    const wobble = Math.sin(i * 1.7);
    events.push(event('daily_summary', 3, {
      date: localDate(-i),
      water_l: quiet ? 38 + i : Math.round(118 + 14 * wobble),
      energy_kwh: Math.round((quiet ? 1.4 : 3.1 + 0.35 * Math.cos(i)) * 10) / 10,
      activity_events: quiet ? 120 + i * 5 : Math.round(410 + 45 * wobble),
      first_activity: quiet ? '08:40' : '06:3' + (i % 10),
      last_activity: '21:4' + (i % 10),
      alerts: {},
      devices: [
        { device: 'bedroom-motion', kind: 'motion', online: true, battery: 15, last_seen: Date.now() - i * 86400e3 },
        { device: 'water-meter', kind: 'water_meter', online: true, battery: null, last_seen: Date.now() - i * 86400e3 },
      ],
      hazards: [],
    }));
  }
  events.push(event('device_health', 2, { device: 'bedroom-motion', event: 'low_battery', at: Date.now() - 2 * 3600e3, detail: { battery: 15 } }));
  return events;
}

function publishHubEvents(hub, events) {
  run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(env.townshipBrokerPort), '-i', `${hub}-sim`,
    '-u', hub, '-P', env.hubPasswords[hub], '-q', '1', '-t', `homesafe-up/${hub}/event`, '-l'],
  events.map((e) => JSON.stringify(e)).join('\n') + '\n');
}

function hubPublish(topic, payload) {
  run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(env.hubPort), '-q', '1', '-t', topic, '-m', payload]);
}

// A cookie session on the township's API (for checks behind the page, e.g. the 404 of scenario 6).
async function apiSession(user) {
  const login = await fetch(`${env.base}/api/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password: env.passwords[user] }),
  });
  assert.equal(login.status, 200, `API login of ${user}`);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const call = async (method, url, body) => {
    const r = await fetch(`${env.base}${url}`, {
      method, headers: { Cookie: cookie, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let parsed = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, body: parsed, text };
  };
  return { get: (url) => call('GET', url), post: (url, body) => call('POST', url, body) };
}

function notificationsFor(alertId) {
  return env.hubMessages
    .filter((m) => m.topic === 'homesafe/h001/notify')
    .map((m) => ({ ...m, json: JSON.parse(m.payload) }))
    .filter((m) => m.json.alert_id === alertId);
}

function hubAlertState(alertId) {
  const states = env.hubMessages.filter((m) => m.topic === `homesafe/h001/alert/${alertId}`);
  return states.length ? JSON.parse(states[states.length - 1].payload).state : null;
}

const shots = [];
async function screenshot(page, name) {
  const file = path.join(shotsDir, `${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header belongs on top
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

// ---------------------------------------------------------------------------- scenarios ----

let browser;
let desk; // the 清河镇 operator's page (desk PC size), kept open for the whole run
const state = {};

async function login(page, user) {
  await page.goto(`${env.base}/`);
  await page.waitForSelector('[data-testid=login-form]');
  await page.fill('[data-testid=login-username]', user);
  await page.fill('[data-testid=login-password]', env.passwords[user]);
  await page.click('[data-testid=login-submit]');
  await page.waitForSelector('[data-testid=board]');
}

// Script errors and Content-Security-Policy refusals on any page: the last scenario asserts none.
const problems = [];
function watch(page, name) {
  page.on('pageerror', (e) => {
    console.log(`# page error (${name}): ${e.message}`);
    problems.push(`${name}: ${e.message}`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/.test(msg.text())) {
      problems.push(`${name}: ${msg.text()}`);
    }
  });
}

describe('duty-desk console in a real browser', { concurrency: false }, () => {
  before(async () => {
    await startFixture();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // playwright-core starts chromium with a fresh --user-data-dir of its own (a new temp folder)
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--lang=zh-CN'],
      env: { ...process.env, LANGUAGE: 'zh_CN', LANG: 'zh_CN.UTF-8' },
    });
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    desk = await context.newPage();
    watch(desk, 'desk');
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    await stopAll();
    console.log(`# screenshots (${shots.length}):`);
    for (const file of shots) console.log(`#   ${file}`);
    if (opts.keep) console.log(`# files kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  });

  it('1. logs in; a wrong password is refused in Chinese; the sound choice is remembered', async () => {
    await desk.goto(`${env.base}/`);
    await desk.waitForSelector('[data-testid=login-form]');
    assert.match(desk.url(), /#\/login$/);
    await screenshot(desk, 'login');
    await desk.fill('[data-testid=login-username]', 'qh_op');
    await desk.fill('[data-testid=login-password]', 'not-the-password');
    await desk.click('[data-testid=login-submit]');
    const error = desk.locator('[data-testid=login-error]');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /用户名或密码错误/);
    assert.equal(await desk.locator('[data-testid=board]').count(), 0, 'no board after a wrong password');

    await desk.fill('[data-testid=login-password]', env.passwords.qh_op);
    await desk.click('[data-testid=login-submit]');
    await desk.waitForSelector('[data-testid=board]');
    assert.match(await desk.locator('[data-testid=user-scope]').textContent(), /清河镇/);

    const toggle = desk.locator('[data-testid=sound-toggle]');
    assert.equal(await toggle.textContent(), '开启声音提醒');
    await toggle.click();
    assert.equal(await desk.evaluate(() => localStorage.getItem('homesafe.console.sound')), 'on');
    await desk.reload();
    await desk.waitForSelector('[data-testid=board]');
    assert.equal(await desk.locator('[data-testid=sound-toggle]').getAttribute('aria-pressed'), 'true');

    // The live connection comes up.
    await desk.waitForSelector('[data-testid=conn-status][data-state=connected]', { timeout: 15000 });
    assert.equal((await desk.locator('[data-testid=conn-status]').textContent()).trim(), '实时连接正常');
  });

  it('2. an alarm on the hub appears on the board without reload, flagged as emergency', async () => {
    await desk.evaluate(() => { window.__noReload = 'still-here'; });
    const t0 = Date.now();
    hubPublish('homesafe/h001/dev/kitchen-smoke/state', '{"smoke": true}');
    const selector = '[data-testid=alert-card][data-household=h001][data-severity=emergency]';
    await desk.waitForSelector(selector, { timeout: 20000 });
    const card = desk.locator(selector).first();
    console.log(`# the smoke alarm reached the board ${Date.now() - t0} ms after the device's message`);
    assert.equal(await desk.evaluate(() => window.__noReload), 'still-here', 'the page was not reloaded');
    assert.equal(await card.getAttribute('data-state'), 'open');
    assert.match(await card.locator('[data-testid=alert-kind]').textContent(), /烟雾报警/);
    assert.match(await card.locator('[data-testid=alert-severity]').textContent(), /紧急/);
    assert.match(await card.textContent(), /东村/);
    assert.match(await card.textContent(), /厨房/);
    assert.match(await card.getAttribute('class'), /\bflash\b/, 'an open emergency flashes');
    assert.match(await card.locator('[data-testid=alert-age]').textContent(), /刚刚|秒前/);
    state.alertId = await card.getAttribute('data-alert-id');
    assert.ok(state.alertId);
    // The escalation so far shows on the card (the caregiver at step 0 over mqtt).
    await desk.locator(`${selector} [data-testid=escalation-item]`).last().waitFor({ timeout: 15000 });
    assert.match(await card.locator('[data-testid=escalation-list]').textContent(), /李阿姨/);
    // The age keeps counting without reload.
    await desk.waitForFunction((id) => {
      const age = document.querySelector(`[data-alert-id="${id}"] [data-testid=alert-age]`);
      return age && /秒前|分钟前/.test(age.textContent) && age.textContent !== '刚刚';
    }, state.alertId, { timeout: 20000 });
    await screenshot(desk, 'board-emergency');
  });

  it('3. acknowledged on the board: the hub reports it back and its escalation stops', async () => {
    assert.ok(state.alertId, 'scenario 2 found the alert');
    // The ladder is running: notifications keep coming every 3 s.
    await waitUntil('two notifications of the alert on homesafe/h001/notify', () => notificationsFor(state.alertId).length >= 2, 15000);
    const card = desk.locator(`[data-testid=alert-card][data-alert-id="${state.alertId}"]`);
    await card.locator('[data-testid=btn-ack]').click();
    await desk.waitForSelector(`[data-testid=alert-card][data-alert-id="${state.alertId}"][data-state=acknowledged]`, { timeout: 20000 });
    assert.equal(hubAlertState(state.alertId), 'acknowledged', "the hub's own alert state is acknowledged");
    assert.match(await card.locator('[data-testid=ack-info]').textContent(), /值班台 qh_op/);
    assert.doesNotMatch(await card.getAttribute('class'), /\bflash\b/, 'an acknowledged alert stops flashing');
    const count = notificationsFor(state.alertId).length;
    await sleep(8000); // more than two steps of the ladder
    const after = notificationsFor(state.alertId);
    assert.equal(after.length, count, `no notification after the acknowledgement (got ${after.slice(count).map((m) => m.json.recipient).join(', ')})`);
    console.log(`# ${count} notifications before the acknowledgement, none in the 8 s after`);

    // A handling note shows in the card's record.
    await card.locator('[data-testid=btn-note]').click();
    await card.locator('[data-testid=note-input]').fill('已电话联系李阿姨，正在赶往');
    await card.locator('[data-testid=note-save]').click();
    await desk.waitForFunction((id) => {
      const list = document.querySelector(`[data-alert-id="${id}"] [data-testid=handling-list]`);
      return list && list.textContent.includes('已电话联系李阿姨');
    }, state.alertId, { timeout: 15000 });
  });

  it('4. the household page draws its three 30-day charts with the normal band', async () => {
    await desk.goto(`${env.base}/#/household/h002`);
    await desk.waitForSelector('[data-testid=household-page]');
    assert.match(await desk.locator('[data-testid=household-name]').textContent(), /张爷爷/);
    for (const chart of ['chart-water', 'chart-energy', 'chart-activity']) {
      const svg = desk.locator(`svg[data-testid=${chart}]`);
      await svg.waitFor();
      assert.equal(await svg.locator('[data-testid=chart-point]').count(), 30, `${chart}: a point per day`);
      const bands = svg.locator('[data-testid=chart-band]');
      assert.ok(await bands.count() >= 1, `${chart}: a shaded normal band`);
      const points = await bands.first().getAttribute('points');
      assert.ok(points && points.trim().split(/\s+/).length >= 4, `${chart}: the band is an area`);
      assert.ok(await svg.locator('.point-out').count() >= 1, `${chart}: the quiet last days fall outside the band`);
    }
    assert.match(await desk.locator('[data-testid=device-table]').textContent(), /bedroom-motion/);
    assert.match(await desk.locator('[data-testid=contacts]').textContent(), /王师傅/);
    await screenshot(desk, 'household');
  });

  it('5. a recorded visit raises the village visit rate of the month', async () => {
    await desk.goto(`${env.base}/#/visits`);
    const village = desk.locator('[data-testid=village-rate][data-village=东村]');
    await village.waitFor();
    assert.equal(await village.getAttribute('data-visited'), '0');
    assert.equal(await village.getAttribute('data-residents'), '2');
    await desk.waitForSelector('[data-testid=visit-household] option[value=h003]', { state: 'attached' });
    await desk.selectOption('[data-testid=visit-household]', 'h003');
    await desk.check('[data-testid=visit-type-0]');
    await desk.fill('[data-testid=aspect-0]', '身体良好，按时服药');
    await desk.fill('[data-testid=aspect-3]', '燃气阀门已检查');
    await desk.fill('[data-testid=visit-note]', '下周再电话回访');
    await desk.click('[data-testid=visit-submit]');
    await desk.waitForFunction(() => /已保存/.test(document.querySelector('[data-testid=visit-message]')?.textContent || ''));
    await desk.waitForSelector('[data-testid=village-rate][data-village=东村][data-visited="1"]', { timeout: 10000 });
    assert.match(await village.locator('[data-testid=village-rate-text]').textContent(), /1\/2 · 50%/);
    // Exports of the month.
    const csvHref = await desk.locator('[data-testid=export-csv]').getAttribute('href');
    const xlsxHref = await desk.locator('[data-testid=export-xlsx]').getAttribute('href');
    assert.match(csvHref, /format=csv/);
    assert.match(xlsxHref, /format=xlsx/);
    const csv = await desk.request.get(`${env.base}${csvHref}`);
    assert.equal(csv.status(), 200);
    assert.match(await csv.text(), /东村/);
    const xlsx = await desk.request.get(`${env.base}${xlsxHref}`);
    assert.equal(xlsx.status(), 200, 'the Excel export answers');
    assert.equal((await xlsx.body()).subarray(0, 2).toString('latin1'), 'PK', 'the Excel export is a zip (xlsx) file');
    await screenshot(desk, 'visits');
  });

  it('6. the health page lists the silent hub with its date', async () => {
    // h002 sent its summaries at the start and nothing since: silent after 20 s.
    await waitUntil('h002 listed as silent', async () => {
      await desk.goto(`${env.base}/#/health`);
      await desk.waitForSelector('[data-testid=health-hubs]');
      return (await desk.locator('[data-testid=health-hub-row]').allTextContents()).some((t) => t.includes('张爷爷'));
    }, 60000, 2000);
    assert.match(await desk.locator('[data-testid=health-devices]').textContent(), /bedroom-motion/);
    await screenshot(desk, 'health');
  });

  it("7. the operator of 清河镇 is refused 河西镇's household in the page and in the API", async () => {
    await desk.goto(`${env.base}/#/household/h101`);
    await desk.waitForSelector('[data-testid=household-refused]');
    assert.match(await desk.locator('[data-testid=household-refused]').textContent(), /不在您负责的范围内/);
    assert.equal(await desk.locator('[data-testid=household-page]').count(), 0);
    const qh = await apiSession('qh_op');
    assert.equal((await qh.get('/api/households/h101')).status, 404);
    assert.equal((await qh.get('/api/households/h101/daily?days=30')).status, 404);
    assert.equal((await desk.request.get(`${env.base}/api/households/h101`)).status(), 404);
    // It exists: 河西镇's operator sees it.
    const hx = await apiSession('hx_op');
    assert.equal((await hx.get('/api/households/h101')).status, 200);
    await screenshot(desk, 'household-refused');
  });

  it("8. the caregiver's one-tap link acknowledges on the hub and the board shows it", async () => {
    await desk.goto(`${env.base}/#/board`);
    await desk.waitForSelector('[data-testid=board]');
    hubPublish('homesafe/h001/dev/kitchen-gas/state', '{"gas": true}');
    const selector = '[data-testid=alert-card][data-household=h001][data-state=open]';
    await desk.waitForSelector(selector, { timeout: 20000 });
    const alertId = await desk.locator(selector).first().getAttribute('data-alert-id');
    assert.notEqual(alertId, state.alertId);
    const message = await waitUntil('a notification of the gas alarm to the caregiver',
      () => notificationsFor(alertId).find((m) => m.json.recipient === 'li'), 15000);
    const link = message.json.link || (message.json.text.match(/https?:\/\/\S+\/c\/\S+/) || [])[0];
    assert.ok(link, `the caregiver's notification carries a one-tap link (text: ${message.json.text})`);
    assert.ok(link.startsWith(`${env.base}/c/${alertId}/li/`), `link ${link}`);

    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
      locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
    });
    const page = await phone.newPage();
    watch(page, 'phone link');
    await page.goto(link);
    await page.waitForSelector('[data-testid=link-alert]');
    assert.match(await page.locator('[data-testid=link-kind]').textContent(), /燃气/);
    for (const id of ['link-ack', 'link-onsite', 'link-help']) assert.ok(await page.locator(`[data-testid=${id}]`).isVisible());
    await screenshot(page, 'caregiver-link');
    await page.tap('[data-testid=link-ack]');
    await page.waitForFunction(() => /已告知值班台/.test(document.querySelector('[data-testid=link-message]')?.textContent || ''));
    await screenshot(page, 'caregiver-link-done');

    await desk.waitForSelector(`[data-testid=alert-card][data-alert-id="${alertId}"][data-state=acknowledged]`, { timeout: 20000 });
    assert.match(await desk.locator(`[data-alert-id="${alertId}"] [data-testid=ack-info]`).textContent(), /李阿姨|li/);
    assert.equal(hubAlertState(alertId), 'acknowledged');
    await screenshot(desk, 'board-acknowledged');
    await page.waitForFunction(() => /已确认|已知晓/.test(document.querySelector('[data-testid=link-state]')?.textContent || ''), null, { timeout: 15000 });

    // 需要帮助: recorded, and the card flashes on the duty desk's board again.
    await page.tap('[data-testid=link-help]');
    await page.waitForFunction(() => /值班台已收到您的求助/.test(document.querySelector('[data-testid=link-message]')?.textContent || ''));
    const helpCard = `[data-testid=alert-card][data-alert-id="${alertId}"]`;
    await desk.waitForSelector(`${helpCard} [data-testid=need-help]`, { timeout: 20000 });
    assert.match(await desk.locator(helpCard).getAttribute('class'), /\bflash\b/, 'a call for help flashes');
    assert.equal(await desk.locator(helpCard).getAttribute('data-state'), 'acknowledged', 'need_help does not change the state');
    await screenshot(desk, 'board-need-help');

    // The same board on the phone.
    const board = await phone.newPage();
    watch(board, 'phone board');
    await login(board, 'qh_op');
    await board.waitForSelector(`[data-testid=alert-card][data-alert-id="${alertId}"]`);
    await screenshot(board, 'board-phone');
    await phone.close();
  });

  it('9. resolve asks for confirmation, then the alert leaves the board', async () => {
    const card = desk.locator(`[data-testid=alert-card][data-alert-id="${state.alertId}"]`);
    await card.locator('[data-testid=btn-resolve]').click();
    await card.locator('[data-testid=resolve-panel]').waitFor();
    await card.locator('[data-testid=resolve-cancel]').click();
    assert.equal(await card.locator('[data-testid=resolve-panel]').count(), 0, 'cancel closes the question');
    assert.equal(await card.getAttribute('data-state'), 'acknowledged', 'nothing changed on cancel');
    await card.locator('[data-testid=btn-resolve]').click();
    await card.locator('[data-testid=note-input]').fill('误报：烧焦食物，已通风');
    await card.locator('[data-testid=resolve-confirm]').click();
    await desk.waitForSelector(`[data-testid=alert-card][data-alert-id="${state.alertId}"]`, { state: 'detached', timeout: 20000 });
    assert.equal(hubAlertState(state.alertId), 'resolved');
  });

  it('10. the board reconnects after the township service restarts and shows what it missed', async () => {
    await desk.goto(`${env.base}/#/board`);
    await desk.waitForSelector('[data-testid=conn-status][data-state=connected]', { timeout: 15000 });
    await desk.evaluate(() => { window.__noReload = 'before-restart'; });
    await env.township.stop();
    await desk.waitForSelector('[data-testid=conn-status][data-state=disconnected]', { timeout: 60000 });
    assert.equal((await desk.locator('[data-testid=conn-status]').textContent()).trim(), '连接中断，正在重连…');
    // While the service is away, the resident presses the call button.
    hubPublish('homesafe/h001/dev/bedroom-sos/state', '{"action": "sos"}');
    await waitUntil('the call alert on the hub', () => env.hubMessages.some((m) => m.topic.startsWith('homesafe/h001/alert/') && JSON.parse(m.payload).kind === 'call'), 15000);
    env.township = new Proc('homesafe-township-2', opts.township, ['--config', env.townshipConfig]);
    await env.township.waitFor(/homesafe-township ready/);
    await desk.waitForSelector('[data-testid=conn-status][data-state=connected]', { timeout: 20000 });
    await desk.waitForSelector('[data-testid=alert-card][data-household=h001][data-state=open][data-severity=emergency]', { timeout: 30000 });
    assert.match(await desk.locator('[data-testid=alert-card][data-household=h001][data-state=open]').first().textContent(), /紧急呼叫/);
    assert.equal(await desk.evaluate(() => window.__noReload), 'before-restart', 'the page was not reloaded');
  });

  it('11. no page raised a script error or was refused anything by its security policy', () => {
    assert.deepEqual(problems, []);
  });
});
