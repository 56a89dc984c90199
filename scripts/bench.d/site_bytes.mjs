// What a visit downloads, against the release build that scripts/run serves.
//
// 1. The site as built (no server): for each area of the portal (one lazily loaded part of the
//    hydration bundle each, see app/src/routes.rs), the wasm and JavaScript a page of it needs —
//    the main module, its JS, the splitter's loader and the area's chunks — raw, gzip and brotli,
//    beside the baseline of the same build: every wasm and JS file of the site, which an unsplit
//    bundle would send to every page.
// 2. Bytes on the wire, in Chromium against `slipway serve --demo` (signed in as the demo
//    developer): each main page opened in a fresh browser (a first visit: empty cache), then
//    opened again in the same browser (a repeat visit: content-hashed files come from the cache
//    without a request), counting every response's encoded size with its headers.
//
// Usage: node site_bytes.mjs SITE_ROOT SLIPWAY_BIN
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { gzipSync, brotliCompressSync } from 'node:zlib';

const require = createRequire(resolve('end2end/package.json'));
const { chromium } = require('playwright-core');

const [siteRoot, bin] = process.argv.slice(2);
const pkg = join(siteRoot, 'pkg');
const kb = (n) => `${(n / 1024).toFixed(1).padStart(8)} KB`;
const files = readdirSync(pkg);
const sizeOf = (name) => {
  const raw = statSync(join(pkg, name)).size;
  const read = (suffix, make) => {
    try { return statSync(join(pkg, name + suffix)).size; } catch { return make(readFileSync(join(pkg, name))).length; }
  };
  return { raw, gz: read('.gz', gzipSync), br: read('.br', brotliCompressSync) };
};
const sum = (names) => names.map(sizeOf).reduce((a, b) => ({ raw: a.raw + b.raw, gz: a.gz + b.gz, br: a.br + b.br }), { raw: 0, gz: 0, br: 0 });
const plain = (ext) => files.filter((f) => f.endsWith(ext));

// 1. Per area, from the splitter's manifest.
const manifest = JSON.parse(readFileSync(join(pkg, plain('.json').find((f) => f.startsWith('__wasm_split_manifest'))), 'utf8'));
const main = [plain('.wasm').find((f) => f.startsWith('slipway.')), plain('.js').find((f) => f.startsWith('slipway.')), plain('.js').find((f) => f.startsWith('__wasm_split.'))];
const everything = sum([...plain('.wasm'), ...plain('.js')]);
const shell = sum(main);
console.log('== hydration bundle per area (wasm + JS a page of the area needs)');
console.log(`${'area'.padEnd(22)} ${'files'.padStart(5)} ${'raw'.padStart(11)} ${'gzip'.padStart(11)} ${'brotli'.padStart(11)}   gzip / whole bundle's gzip`);
const row = (label, count, s) => console.log(`${label.padEnd(22)} ${String(count).padStart(5)} ${kb(s.raw)} ${kb(s.gz)} ${kb(s.br)}   ${(s.gz / everything.gz).toFixed(3)}`);
row('shell only', main.length, shell);
const areas = Object.entries(manifest).map(([key, chunks]) => {
  const area = key.replace(/_area_\d+$/, '');
  const names = [...main, ...chunks.map((c) => `${c}.wasm`)];
  return { area, count: names.length, size: sum(names) };
}).sort((a, b) => b.size.gz - a.size.gz);
for (const { area, count, size } of areas) row(area, count, size);
row('whole bundle (baseline)', plain('.wasm').length + plain('.js').length, everything);
const largest = areas[0];
console.log(`largest area: ${largest.area}, ${kb(largest.size.gz).trim()} gzip (target: none over 1024 KB; home and the resources list at most 400 KB)`);

// 2. Bytes on the wire in Chromium.
const freePort = () => new Promise((ok) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); }); });
const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-site-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const { DATABASE_URL, SLIPWAY_DATA_DIR, ...inherited } = process.env;
const server = spawn(bin, ['serve', '--demo', '--addr', `127.0.0.1:${port}`], {
  cwd: dir, stdio: 'ignore', env: { ...inherited, LEPTOS_SITE_ROOT: resolve(siteRoot), SLIPWAY_PUBLIC_URL: base, RUST_LOG: 'warn' },
});
try {
  for (let i = 0; i < 600; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // The session cookie once, for every fresh browser.
  const signIn = await browser.newContext();
  const signInPage = await signIn.newPage();
  await signInPage.goto(`${base}/auth/demo`);
  await signInPage.getByRole('button', { name: 'Sign in as Devon Developer' }).click();
  await signInPage.waitForURL(`${base}/`);
  const cookies = await signIn.cookies();
  await signIn.close();

  const visit = async (page, cdp, url) => {
    const seen = new Map();
    const cached = new Set();
    const onCached = ({ requestId }) => cached.add(requestId);
    const onResponse = ({ requestId, response }) => seen.set(requestId, { url: response.url, type: response.mimeType, cached: cached.has(requestId) || response.fromDiskCache || response.fromMemoryCache, bytes: 0 });
    const onFinished = ({ requestId, encodedDataLength }) => { const r = seen.get(requestId); if (r) r.bytes = encodedDataLength; };
    cdp.on('Network.requestServedFromCache', onCached);
    cdp.on('Network.responseReceived', onResponse);
    cdp.on('Network.loadingFinished', onFinished);
    await page.goto(url);
    await page.waitForSelector('body[data-hydrated="true"]', { timeout: 60000 });
    await page.waitForLoadState('networkidle');
    cdp.off('Network.requestServedFromCache', onCached);
    cdp.off('Network.responseReceived', onResponse);
    cdp.off('Network.loadingFinished', onFinished);
    const fetched = [...seen.values()].filter((r) => !r.cached);
    const bytes = (pred) => fetched.filter(pred).reduce((a, r) => a + r.bytes, 0);
    return {
      requests: fetched.length,
      total: bytes(() => true),
      code: bytes((r) => /\.(wasm|js)$/.test(new URL(r.url).pathname)),
      html: bytes((r) => r.type === 'text/html'),
    };
  };
  const pages = ['/', '/resources', '/workspaces', '/catalog', '/executors', '/integrations', '/repositories', '/releases', '/audit', '/admin'];
  console.log('\n== bytes on the wire (Chromium, brotli as it asks; headers included)');
  console.log(`${'page'.padEnd(16)} ${'first: requests'.padStart(15)} ${'total'.padStart(11)} ${'wasm+JS'.padStart(11)} ${'HTML'.padStart(11)}   ${'repeat: requests'.padStart(16)} ${'total'.padStart(11)}   repeat / first`);
  for (const path of pages) {
    const context = await browser.newContext();
    await context.addCookies(cookies);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    const first = await visit(page, cdp, `${base}${path}`);
    const repeat = await visit(page, cdp, `${base}${path}`);
    console.log(`${path.padEnd(16)} ${String(first.requests).padStart(15)} ${kb(first.total)} ${kb(first.code)} ${kb(first.html)}   ${String(repeat.requests).padStart(16)} ${kb(repeat.total)}   ${(repeat.total / first.total).toFixed(3)}`);
    await context.close();
  }
  await browser.close();
} finally {
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
