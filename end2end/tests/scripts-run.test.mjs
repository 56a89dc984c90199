// `scripts/run` itself, as a newcomer starts it: the README's command with a free port and a
// scratch data dir. It must install nothing new, not rebuild (scripts/test built the release just
// before), print the URL and the demo users, serve the portal, sign a demo user in, and hydrate.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { freePort, shot } from './harness.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('scripts/run serves the portal with demo users, and its pages hydrate', async (t) => {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-run-'));
  const { DATABASE_URL, SLIPWAY_DATA_DIR, LEPTOS_SITE_ROOT, SLIPWAY_BIN, ...inherited } = process.env;
  const started = Date.now();
  const run = spawn(join(root, 'scripts', 'run'), ['--addr', `127.0.0.1:${port}`], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...inherited, SLIPWAY_DATA_DIR: dataDir, RUST_LOG: 'warn' },
  });
  let output = '';
  run.stdout.on('data', (chunk) => { output += chunk; });
  run.stderr.on('data', (chunk) => { output += chunk; });
  t.after(() => {
    try { process.kill(-run.pid, 'SIGTERM'); } catch {}
    rmSync(dataDir, { recursive: true, force: true });
  });

  // The URL it prints, then the demo users under it.
  const base = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`scripts/run printed no URL within 10 minutes:\n${output}`)), 600000);
    const look = () => {
      const found = output.match(/Slipway is serving on (http:\/\/\S+)/);
      if (found && /Demo sign-in: .*\n(.*\n){7}/.test(output)) {
        clearTimeout(timer);
        ok(found[1]);
      }
    };
    run.stdout.on('data', look);
    run.on('exit', (code) => fail(new Error(`scripts/run exited with ${code}:\n${output}`)));
  });
  const seconds = (Date.now() - started) / 1000;
  console.log(`scripts/run printed its URL after ${seconds.toFixed(1)} s`);
  assert.equal(base, `http://127.0.0.1:${port}`);
  for (const login of ['ada', 'dev', 'quinn', 'pat', 'sam', 'riley', 'remy']) {
    assert.match(output, new RegExp(`^\\s+${login}\\s`, 'm'), `the demo user ${login} is printed`);
  }
  assert.doesNotMatch(output, /Compiling |setup: /, 'with nothing changed, scripts/run neither installs nor compiles');
  assert.match(output, /build: up to date/, 'nor runs cargo-leptos again (it would split and optimise every part anew)');

  // The pages over plain HTTP: the landing page and the demo sign-in.
  const landing = await fetch(base);
  assert.equal(landing.status, 200);
  assert.match(await landing.text(), /Ship infrastructure and releases/);
  const demo = await fetch(`${base}/auth/demo`);
  assert.equal(demo.status, 200);
  assert.match(await demo.text(), /Sign in as Ada Admin/);

  // In Chromium: sign in as a demo user, open a signed-in page, and use it once it hydrated.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const panics = [];
  page.on('console', (message) => { if (message.type() === 'error') panics.push(message.text()); });
  page.on('pageerror', (error) => panics.push(String(error)));
  await page.goto(`${base}/auth/demo`);
  await page.getByRole('button', { name: 'Sign in as Devon Developer' }).click();
  await page.waitForURL(`${base}/`);
  await page.goto(`${base}/resources`);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
  const menu = page.getByRole('button', { name: /Devon Developer/ });
  await menu.click();
  assert.equal(await menu.getAttribute('aria-expanded'), 'true', 'a click handled by the wasm bundle');
  await shot(page, '90-scripts-run-resources');
  assert.deepEqual(panics, [], 'no errors in the console');
});
