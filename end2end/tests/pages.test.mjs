// Every main page, the way people use it: loaded again and again (each load must hydrate, with
// no panic in the console — a page that looks right but is dead is the worst failure), served
// compressed and cached like a product, and usable with JavaScript off (plain forms post to the
// server and land back on the page, never on raw JSON).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hydrated, shot, start } from './harness.mjs';

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.stop();
});

async function demoSignIn(page, name) {
  await page.goto(`${env.base}/auth/demo`);
  await page.getByRole('button', { name: `Sign in as ${name}` }).click();
  await page.waitForURL(`${env.base}/`);
}

// Each area's main page, and the two detail pages where a dead page was seen.
const PAGES = ['/', '/workspaces', '/resources', '/catalog', '/catalog/eks-cluster', '/executors',
  '/integrations', '/repositories', '/repositories/payments-api', '/releases', '/freezes', '/audit', '/admin', '/admin/notifications', '/account'];
const RELOADS = Number(process.env.SLIPWAY_RELOADS ?? 30);

test(`each main page hydrates on every one of ${RELOADS} loads, with no error in the console`, async () => {
  const page = await env.page();
  const problems = [];
  let at = '';
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`${at}: ${message.text().slice(0, 400)}`); });
  page.on('pageerror', (error) => problems.push(`${at}: ${String(error).slice(0, 400)}`));
  await demoSignIn(page, 'Ada Admin');
  for (const path of PAGES) {
    for (let load = 1; load <= RELOADS; load++) {
      at = `${path} (load ${load})`;
      await page.goto(`${env.base}${path}`);
      await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
    }
    // A click only the wasm bundle handles, on the page as hydrated.
    const menu = page.getByRole('button', { name: /Ada Admin/ });
    await menu.click();
    assert.equal(await menu.getAttribute('aria-expanded'), 'true', `${path}: the user menu opens`);
    await page.keyboard.press('Escape');
    assert.deepEqual(problems, [], `${path}: no console errors`);
  }
});

test('assets are served precompressed, content-hashed and cached for a year; pages compressed', async () => {
  const page = await env.page();
  const assets = [];
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (url.pathname.startsWith('/pkg/')) assets.push(response);
  });
  await page.goto(env.base);
  await hydrated(page);
  assert.ok(assets.length >= 3, 'the stylesheet, the JS and the wasm come from /pkg/');
  for (const response of assets) {
    const headers = await response.allHeaders();
    const name = new URL(response.url()).pathname;
    assert.match(name, /\.[A-Za-z0-9_-]{22}\.(wasm|js|css|json)$/, `${name} carries its content hash`);
    assert.equal(headers['cache-control'], 'public, max-age=31536000, immutable', name);
    assert.equal(headers['content-encoding'], 'br', `${name} comes brotli-compressed (Chromium asks for br)`);
    assert.match(headers.vary ?? '', /accept-encoding/i, name);
  }
  const wasm = assets.find((r) => r.url().endsWith('.wasm'));
  // gzip for a client that asks only for it, and the plain file for one that asks for nothing.
  const gzip = await fetch(wasm.url(), { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(gzip.headers.get('content-encoding'), 'gzip');
  const plain = await fetch(wasm.url(), { headers: { 'accept-encoding': 'identity' } });
  assert.equal(plain.headers.get('content-encoding'), null);
  assert.equal(plain.headers.get('content-type'), 'application/wasm');
  // A repeat visit takes the hashed files from the browser's cache, without a request.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const fromNetwork = [];
  const cached = new Set();
  cdp.on('Network.requestServedFromCache', ({ requestId }) => cached.add(requestId));
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    if (new URL(response.url).pathname.startsWith('/pkg/') && !cached.has(requestId) && !response.fromDiskCache && !response.fromMemoryCache) fromNetwork.push(response.url);
  });
  await page.goto(env.base);
  await hydrated(page);
  assert.deepEqual(fromNetwork, [], 'no hashed file is fetched again');
  // HTML and server function answers are compressed too.
  const html = await fetch(env.base, { headers: { 'accept-encoding': 'br' } });
  assert.equal(html.headers.get('content-encoding'), 'br');
  assert.match(html.headers.get('content-type'), /text\/html/);
  const missing = await fetch(`${env.base}/pkg/nothing.Xz9kQ2v_b1-4TnPq8RsUwA.wasm`);
  assert.equal(missing.status, 404);
});

test('with JavaScript off, a form posts to the server and lands back on its page', async () => {
  const context = await env.browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await demoSignIn(page, 'Ada Admin');
  await page.goto(`${env.base}/admin/groups`);
  await page.getByLabel('Name').fill('no-script-team');
  await page.getByLabel('Description').fill('Made without wasm');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.waitForURL(/\/admin\/groups\??$/);
  await page.getByRole('link', { name: 'no-script-team' }).waitFor();
  // A refused submission also lands back on the page, with the reason next to the form (a name
  // already taken: the browser's own pattern check lets it through).
  await page.getByLabel('Name').fill('no-script-team');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.waitForURL(/\/admin\/groups/);
  assert.doesNotMatch(await page.content(), /^\s*\{/, 'not raw JSON');
  await page.getByRole('alert').filter({ hasText: 'already exists' }).waitFor();
  await shot(page, '80-no-script-form-error');
  await context.close();
});
