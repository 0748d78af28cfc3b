// #/login: username and password; the server's Chinese message on failure or throttling.

import { post } from './api.js';
import { el } from './util.js';
import { loggedIn } from './app.js';

export function render(main) {
  const expired = sessionStorage.getItem('homesafe.console.expired') === '1';
  sessionStorage.removeItem('homesafe.console.expired');
  const message = el('p', {
    class: 'form-error',
    testid: 'login-error',
    role: 'alert',
    hidden: !expired,
    text: expired ? '登录已过期，请重新登录' : '',
  });
  const username = el('input', {
    id: 'login-username', name: 'username', autocomplete: 'username', required: true,
    autocapitalize: 'off', spellcheck: 'false', testid: 'login-username',
  });
  const password = el('input', {
    id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password',
    required: true, testid: 'login-password',
  });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'login-submit' }, '登录');
  const form = el('form', { class: 'login-form', testid: 'login-form', novalidate: true },
    el('label', { for: 'login-username' }, '用户名'), username,
    el('label', { for: 'login-password' }, '密码'), password,
    message, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.hidden = true;
    if (!username.value.trim() || !password.value) {
      message.textContent = '请输入用户名和密码';
      message.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = '正在登录…';
    try {
      const { data } = await post('/api/login', { username: username.value.trim(), password: password.value }, { quiet401: true });
      password.value = '';
      loggedIn(data);
    } catch (e) {
      message.textContent = e.status === 401 ? '用户名或密码错误' : e.message;
      message.hidden = false;
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = '登录';
    }
  });
  main.appendChild(
    el('section', { class: 'login-page', testid: 'login-page' },
      el('div', { class: 'login-card' },
        el('div', { class: 'login-brand' },
          el('span', { class: 'brand-mark brand-mark-large', 'aria-hidden': 'true' }, '安'),
          el('h1', {}, '平安守护'),
          el('p', { class: 'muted' }, '乡镇值班台 · 独居老人居家安全')),
        form,
        el('p', { class: 'muted small' }, '账号由乡镇民政办分配。忘记密码请联系管理员。')))
  );
  setTimeout(() => username.focus(), 0);
}
