// Starts what the journeys need, all on 127.0.0.1: oidc-provider-mock, the real `slipway`
// binary (the release build that scripts/run serves, started with the README's defaults: a
// relative ./data in a fresh working directory, --demo, OIDC pointed at the mock), and headless
// Chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
export const screenshots = resolve(here, '..', 'screenshots');

export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

async function waitFor(url, what, timeoutMs = 60000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer at ${url} within ${timeoutMs / 1000} s`);
}

export async function start() {
  mkdirSync(screenshots, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'slipway-e2e-'));
  const children = [];
  const mockPort = await freePort();
  const mockBin = process.env.OIDC_PROVIDER_MOCK ?? join(root, '.venv', 'bin', 'oidc-provider-mock');
  const mock = spawn(mockBin, ['--port', String(mockPort), '--require-nonce', 'true'], { stdio: 'ignore' });
  children.push(mock);
  const issuer = `http://127.0.0.1:${mockPort}`;
  await waitFor(`${issuer}/.well-known/openid-configuration`, 'oidc-provider-mock');
  await fetch(`${issuer}/users/grace`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'grace@example.com', email_verified: true, name: 'Grace Hopper', preferred_username: 'grace' }),
  });

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const bin = process.env.SLIPWAY_BIN ?? join(root, 'target', 'release', 'slipway');
  // No DATABASE_URL and no SLIPWAY_DATA_DIR: the defaults (sqlite under ./data, relative to the
  // working directory) are what a newcomer gets, so they are what the journeys use.
  const { DATABASE_URL, SLIPWAY_DATA_DIR, ...inherited } = process.env;
  const server = spawn(bin, ['serve', '--demo', '--addr', `127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...inherited,
      SLIPWAY_PUBLIC_URL: base,
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? join(root, 'target', 'site'),
      SLIPWAY_OIDC_ISSUER: issuer,
      SLIPWAY_OIDC_CLIENT_ID: 'slipway-e2e',
      SLIPWAY_OIDC_CLIENT_SECRET: 'e2e-secret',
      SLIPWAY_OIDC_LABEL: 'Keycloak',
      // The test sign-in provider listens on 127.0.0.1, which outbound requests refuse unless listed.
      SLIPWAY_ALLOWED_HOSTS: '127.0.0.1',
      RUST_LOG: 'warn',
    },
  });
  children.push(server);
  await waitFor(`${base}/healthz`, 'slipway');

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    base,
    issuer,
    /// The server's data dir (the local forge's repositories are under `git/`).
    dataDir: join(dir, 'data'),
    browser,
    async page() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      return context.newPage();
    },
    async stop() {
      await browser.close();
      for (const child of children) child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/// Waits until the wasm bundle has hydrated the page.
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
}

export async function shot(page, name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}
