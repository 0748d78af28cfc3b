// The console's calls to the township's JSON API (docs/console.md). The session is the HttpOnly
// cookie `hs_session`: the page never sees or stores a secret.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

const FALLBACK_MESSAGES = {
  400: '输入有误，请检查后再试',
  401: '请先登录',
  403: '您没有进行此操作的权限',
  404: '未找到，或您无权查看',
  409: '该告警状态已变化，请刷新查看',
  410: '已过期',
  429: '操作过于频繁，请稍后再试',
  500: '服务器内部错误，请稍后再试',
};

export async function request(method, path, body, { quiet401 = false } = {}) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', '无法连接服务器，请检查网络');
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !quiet401) onUnauthenticated();
    const message =
      (data && data.message) || FALLBACK_MESSAGES[response.status] || `请求失败（${response.status}）`;
    throw new ApiError(response.status, (data && data.error) || 'http', message);
  }
  return { status: response.status, data };
}

export const get = async (path, options) => (await request('GET', path, undefined, options)).data;
export const post = (path, body, options) => request('POST', path, body ?? {}, options);
