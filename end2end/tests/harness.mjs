// Starts what the journeys need, all on 127.0.0.1: oidc-provider-mock, an SMTP server (aiosmtpd,
// keeping what it receives in a Maildir), the real `slipway` binary (the release build that
// scripts/run serves, started with the README's defaults: a relative ./data in a fresh working
// directory, --demo, OIDC pointed at the mock, e-mail at the SMTP server), and headless Chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

async function listening(port, what, timeoutMs = 20000) {
  const { connect } = await import('node:net');
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const open = await new Promise((ok) => {
      const socket = connect(port, '127.0.0.1', () => { socket.end(); ok(true); });
      socket.on('error', () => ok(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not listen on ${port} within ${timeoutMs / 1000} s`);
}

/// The messages in a Maildir: {to, subject, body}.
function mailbox(maildir) {
  const mails = [];
  for (const folder of ['new', 'cur']) {
    let names = [];
    try { names = readdirSync(join(maildir, folder)); } catch { continue; }
    for (const name of names) {
      const text = readFileSync(join(maildir, folder, name), 'utf8');
      const split = text.indexOf('\n\n');
      const head = text.slice(0, split);
      const header = (key) => (head.split('\n').find((l) => l.startsWith(`${key}: `)) ?? '').slice(key.length + 2).trim();
      // The SMTP server's Maildir writer may re-encode what it received.
      const raw = text.slice(split + 2);
      const body = header('Content-Transfer-Encoding') === 'base64' ? Buffer.from(raw.replace(/\s+/g, ''), 'base64').toString('utf8') : raw;
      mails.push({ to: header('To'), subject: header('Subject'), body });
    }
  }
  return mails;
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

  const smtpPort = await freePort();
  const maildir = join(dir, 'maildir');
  const python = process.env.SLIPWAY_PYTHON ?? join(root, '.venv', 'bin', 'python');
  const smtp = spawn(python, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${smtpPort}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], { stdio: 'ignore' });
  children.push(smtp);
  await listening(smtpPort, 'aiosmtpd');

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
      SLIPWAY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
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
    /// The e-mail the SMTP server received so far.
    mails() {
      return mailbox(maildir);
    },
    async page() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      // What the page said went wrong (a panic while hydrating, a chunk that did not load):
      // a journey that times out waiting for hydration prints it.
      page.problems = [];
      page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') page.problems.push(`console: ${message.text()}`);
      });
      page.on('requestfailed', (request) => page.problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
      return page;
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
  try {
    await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
  } catch (error) {
    error.message += `\n${page.url()} did not hydrate; the page said:\n${(page.problems ?? []).join('\n') || '(nothing)'}`;
    throw error;
  }
}

export async function shot(page, name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}
