// Browser journeys through the real server in headless Chromium: demo sign-in, OIDC sign-in
// through a real provider, the shell after hydration, a viewer refused, sign-out.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
}

/// Presses Tab (Shift+Tab with `back`) until `matches` holds for the focused element (a
/// function run in the page); fails after `most` presses. Where focus lands must show.
async function tabTo(page, matches, { back = false, most = 150 } = {}) {
  for (let i = 0; i < most; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    if (await page.evaluate(matches)) {
      const ring = await page.evaluate(() => {
        const style = getComputedStyle(document.activeElement);
        return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
      });
      assert.ok(ring, `focus on ${await page.evaluate(() => document.activeElement.outerHTML.slice(0, 120))} is visible`);
      return;
    }
  }
  throw new Error(`Tab never reached the element after ${most} presses`);
}

/// The text the focused field's aria-describedby points at.
async function describedBy(page) {
  return page.evaluate(() => {
    const ids = (document.activeElement.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
    return ids.map((id) => document.getElementById(id)?.textContent ?? `#${id} missing`).join(' ');
  });
}

test('a visitor signs in as the demo admin, uses the hydrated shell, and signs out', async () => {
  const page = await env.page();
  await page.goto(env.base);
  await page.getByRole('heading', { name: /Ship infrastructure and releases/ }).waitFor();
  await shot(page, '01-landing');

  await page.getByRole('link', { name: 'Try a demo user' }).click();
  await page.getByRole('heading', { name: 'Demo sign-in' }).waitFor();
  // The client-side router renders the page first and the seeded users when they arrive.
  await page.getByRole('button', { name: 'Sign in as Remy Release' }).waitFor();
  assert.equal(await page.locator('form.demo-user').count(), 7);
  await shot(page, '02-demo-users');

  await page.getByRole('button', { name: 'Sign in as Ada Admin' }).click();
  await page.waitForURL(`${env.base}/`);
  await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
  await hydrated(page);
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const area of ['Workspaces', 'Catalog', 'Repositories', 'Releases', 'Audit', 'Admin']) {
    assert.ok(await nav.getByRole('link', { name: area }).isVisible(), `${area} is in the navigation`);
  }
  await shot(page, '03-home-admin');

  // The user menu opens on a click that only the wasm bundle handles.
  const menuButton = page.getByRole('button', { name: /Ada Admin/ });
  assert.equal(await menuButton.getAttribute('aria-expanded'), 'false');
  await menuButton.click();
  assert.equal(await menuButton.getAttribute('aria-expanded'), 'true');
  await page.locator('#user-menu-panel').waitFor({ state: 'visible' });
  await shot(page, '04-user-menu-open');
  await page.keyboard.press('Escape');
  await page.locator('#user-menu-panel').waitFor({ state: 'hidden' });

  // Admin: create a group through the hydrated form; the list updates in place.
  await nav.getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('link', { name: 'Groups' }).click();
  await page.waitForURL(`${env.base}/admin/groups`);
  await hydrated(page);
  await page.getByLabel('Name').fill('platform-team');
  await page.getByLabel('Description').fill('Runs the platform');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('link', { name: 'platform-team' }).waitFor();
  // The browser checks the name's form itself (a pattern valid under the `v` flag)…
  await page.getByLabel('Name').fill('Bad Name');
  assert.equal(await page.getByLabel('Name').evaluate((el) => el.validity.patternMismatch), true);
  // …and the server what only it knows: the name is taken.
  await page.getByLabel('Name').fill('platform-team');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('alert').filter({ hasText: 'already exists' }).waitFor();
  await shot(page, '05-admin-groups');

  // A group's page: add a member, then delete the group and land back on the list.
  await page.getByRole('link', { name: 'platform-team' }).click();
  await page.waitForURL(`${env.base}/admin/groups/platform-team`);
  await page.getByLabel('Add a member').fill('dev');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('button', { name: 'Remove dev' }).waitFor();
  assert.equal(await page.getByLabel('Add a member').inputValue(), '', 'the form is ready for the next member');
  await shot(page, '05b-admin-group');
  await page.getByRole('button', { name: 'Delete this group' }).click();
  const deleting = page.getByRole('alertdialog');
  await deleting.getByText(/^Delete the group platform-team\?/).waitFor();
  await deleting.getByRole('button', { name: 'Delete this group' }).click();
  await page.waitForURL(`${env.base}/admin/groups`);
  await page.getByRole('link', { name: 'developers' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'platform-team' }).count(), 0);

  await page.getByRole('link', { name: 'Role bindings' }).click();
  await page.waitForURL(`${env.base}/admin/access`);
  await page.getByRole('heading', { name: 'Grant a role' }).waitFor();
  await shot(page, '06-admin-bindings');

  // The catalog: the seeded hierarchy drawn as a tree; a bad parent is refused inline.
  await nav.getByRole('link', { name: 'Catalog' }).click();
  await page.waitForURL(`${env.base}/catalog`);
  await page.getByRole('group', { name: 'Template hierarchy' }).waitFor();
  assert.equal(await page.locator('.template-tree .tree-node').count(), 7);
  await page.getByLabel('Key', { exact: true }).fill('nat-gateway');
  await page.getByLabel('Name', { exact: true }).fill('NAT Gateway');
  await page.getByLabel('Parents (keys, comma-separated)').fill('gke');
  await page.getByRole('button', { name: 'Add template' }).click();
  await page.getByRole('alert').filter({ hasText: 'no template has that key' }).waitFor();
  await page.getByLabel('Parents (keys, comma-separated)').fill('vpc');
  await page.getByRole('button', { name: 'Add template' }).click();
  await page.locator('.template-tree .tree-node').nth(7).waitFor();
  await shot(page, '06b-catalog');
  // Edit a template on its own page: closing a cycle is refused next to the form.
  await page.getByRole('link', { name: 'AWS Region', exact: true }).click();
  await page.waitForURL(`${env.base}/catalog/aws-region`);
  await page.getByLabel('Parents (keys, comma-separated)').fill('vpc');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('alert').filter({ hasText: 'the parents form a cycle' }).waitFor();
  await shot(page, '06c-template-cycle');

  await nav.getByRole('link', { name: 'Audit' }).click();
  await page.waitForURL(`${env.base}/audit`);
  await page.getByRole('cell', { name: 'group.create' }).first().waitFor();
  // An auditor checks the whole chain from the page.
  await hydrated(page);
  await page.getByRole('button', { name: 'Verify chain' }).click();
  await page.getByRole('status').filter({ hasText: /The audit log is intact: \d+ events verified\./ }).waitFor();
  await shot(page, '07-audit');
  await page.getByLabel('Action').fill('session.');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/action=session/);
  await page.getByRole('cell', { name: 'session.sign_in' }).first().waitFor();
  assert.equal(await page.getByRole('cell', { name: 'group.create' }).count(), 0);

  await page.getByRole('button', { name: /Ada Admin/ }).click();
  await page.getByRole('button', { name: 'Sign out' }).first().click();
  await page.getByRole('heading', { name: /Ship infrastructure and releases/ }).waitFor();
  await page.goto(`${env.base}/admin`);
  await page.getByRole('heading', { name: 'Sign in required' }).waitFor();
});

test('a viewer is refused the admin pages with a clear 403', async () => {
  const page = await env.page();
  await demoSignIn(page, 'Pat Product');
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await nav.getByRole('link', { name: 'Admin' }).count(), 0, 'no Admin link for a viewer');
  const response = await page.goto(`${env.base}/admin`);
  assert.equal(response.status(), 403);
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  assert.match(await page.getByRole('alert').innerText(), /global admin role/);
  await shot(page, '08-viewer-forbidden');
  // The same page on a phone-sized screen: the navigation wraps, nothing overflows sideways.
  await page.setViewportSize({ width: 400, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await shot(page, '08b-viewer-forbidden-narrow');
});

test('a user signs in through the OIDC provider', async () => {
  const page = await env.page();
  await page.goto(`${env.base}/auth/signin`);
  await page.getByRole('link', { name: 'Continue with Keycloak' }).click();
  await page.waitForURL(new RegExp(`^${env.issuer}/oauth2/authorize`));
  await page.locator('input[name="sub"]').fill('grace');
  await shot(page, '09-oidc-provider');
  await page.getByRole('button', { name: 'Authorize' }).click();
  await page.waitForURL(`${env.base}/`);
  await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
  assert.ok(await page.locator('#main').getByText('grace@example.com').isVisible());
  await shot(page, '10-oidc-home');
});

test('a developer creates a resource through the generated form, reads its code, edits it and compares revisions', async () => {
  const page = await env.page();
  await demoSignIn(page, 'Devon Developer');
  const nav = page.getByRole('navigation', { name: 'Main' });

  // The template tree, then one template's versions with the interface discovered at each tag.
  await nav.getByRole('link', { name: 'Catalog' }).click();
  await page.waitForURL(`${env.base}/catalog`);
  await page.getByRole('group', { name: 'Template hierarchy' }).waitFor();
  await shot(page, '11-catalog-tree');
  // A box of the tree opens its template.
  await hydrated(page);
  await page.getByRole('link', { name: 'Template S3 Bucket' }).click();
  await page.waitForURL(`${env.base}/catalog/s3-bucket`);
  await page.getByText('v1.2.0 · aws-s3/').waitFor();
  await page.getByText('v1.2.0 · aws-s3/').click();
  await page.getByRole('cell', { name: /lifecycle_days/ }).first().waitFor();
  await shot(page, '12-template-versions');

  // The resources list, then the form generated from the module's variables.
  await nav.getByRole('link', { name: 'Resources' }).click();
  await page.waitForURL(`${env.base}/resources`);
  await page.getByRole('link', { name: 'Production VPC' }).waitFor();
  await shot(page, '13-resources');
  await page.getByRole('link', { name: 'New resource' }).click();
  // (The list links the template too: choose it on the new resource page.)
  await page.waitForURL(`${env.base}/resources/new`);
  await page.locator('.template-picker').getByRole('link', { name: 'S3 Bucket' }).click();
  await page.waitForURL(/template=s3-bucket/);
  await page.locator('[data-variable="bucket_name"]').waitFor();
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Archive');
  await page.getByLabel('Slug (folder and module name)').fill('archive-bucket');
  await page.getByLabel(/^bucket_name/).fill('Acme_Archive');
  await page.getByLabel(/^lifecycle_days/).fill('ninety');
  await page.getByRole('button', { name: 'Create resource' }).click();
  const fieldError = page.locator('[data-variable="lifecycle_days"] .field-error');
  await fieldError.waitFor();
  assert.equal(await fieldError.innerText(), 'lifecycle_days must be a number, not "ninety"');
  assert.equal(await page.getByLabel(/^lifecycle_days/).getAttribute('aria-invalid'), 'true');
  // Every problem of the submission at once, each beside its field: the module's rule too.
  await page.locator('[data-variable="bucket_name"] .field-error', { hasText: 'Bucket names are 3 to 63' }).waitFor();
  await page.getByText('Nothing was saved. Fix the 2 fields marked above and submit again.').waitFor();
  await shot(page, '14-resource-form-error');

  await page.getByLabel(/^bucket_name/).fill('acme-archive');
  await page.getByLabel(/^lifecycle_days/).fill('30');
  await page.getByRole('button', { name: 'Create resource' }).click();
  await page.waitForURL(`${env.base}/resources/archive-bucket`);
  await page.getByRole('heading', { name: 'Archive' }).waitFor();
  await shot(page, '15-resource-overview');

  // The generated code.
  await page.getByRole('link', { name: /^Code/ }).click();
  await page.waitForURL(/tab=code/);
  await page.getByText('module "archive-bucket" {').waitFor();
  assert.ok(await page.getByText('lifecycle_days = 30').isVisible() || (await page.locator('.code-file').count()) >= 3);
  await shot(page, '16-resource-code');

  // Edit: a new revision; then compare the two.
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.waitForURL(`${env.base}/resources/archive-bucket/edit`);
  await page.locator('[data-variable="bucket_name"]').waitFor();
  await hydrated(page);
  await page.getByLabel(/^bucket_name/).fill('acme-archive-eu');
  await page.getByRole('button', { name: 'Save new revision' }).click();
  await page.waitForURL(`${env.base}/resources/archive-bucket`);
  await page.getByRole('link', { name: 'Revisions (2)' }).click();
  await page.getByRole('link', { name: 'Compare with 1' }).click();
  await page.waitForURL(/diff\?from=1&to=2/);
  await page.getByRole('heading', { name: 'Revision 1 → 2' }).waitFor();
  await page.locator('.line.added', { hasText: 'acme-archive-eu' }).first().waitFor();
  await page.getByRole('cell', { name: 'bucket_name' }).waitFor();
  await shot(page, '17-revision-diff');
});

test('a keyboard user creates a resource: errors are announced and tied to their fields', async () => {
  const page = await env.page();
  await demoSignIn(page, 'Devon Developer');
  await page.goto(`${env.base}/resources/new?template=s3-bucket`);
  await page.locator('[data-variable="bucket_name"]').waitFor();
  await hydrated(page);
  const named = (name) => new Function(`return document.activeElement?.getAttribute('name') === ${JSON.stringify(name)}`);
  await tabTo(page, named('input[name]'));
  await page.keyboard.type('Keyboard Bucket');
  await tabTo(page, named('input[slug]'));
  await page.keyboard.type('keyboard-bucket');
  await tabTo(page, named('input[values][bucket_name]'));
  await page.keyboard.type('Keyboard_Bucket');
  await tabTo(page, named('input[values][lifecycle_days]'));
  await page.keyboard.type('ninety');
  await tabTo(page, () => document.activeElement?.textContent?.trim() === 'Create resource');
  await page.keyboard.press('Enter');
  // Both problems come back at once, each announced (role=alert) and tied to its field.
  await page.locator('[data-variable="lifecycle_days"] .field-error[role="alert"]').waitFor();
  await page.locator('.form-error[role="alert"]', { hasText: 'Fix the 2 fields marked above' }).waitFor();
  await tabTo(page, named('input[values][bucket_name]'), { back: true });
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-invalid')), 'true');
  assert.match(await describedBy(page), /Bucket names are 3 to 63/);
  await shot(page, '14b-keyboard-errors');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('keyboard-bucket');
  await tabTo(page, named('input[values][lifecycle_days]'));
  assert.match(await describedBy(page), /lifecycle_days must be a number, not "ninety"/);
  await page.keyboard.press('Control+A');
  await page.keyboard.type('30');
  await tabTo(page, () => document.activeElement?.textContent?.trim() === 'Create resource');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${env.base}/resources/keyboard-bucket`);
  await page.getByRole('heading', { name: 'Keyboard Bucket' }).waitFor();
});

test('an admin manages an integration whose secret is write-only', async () => {
  const page = await env.page();
  await demoSignIn(page, 'Ada Admin');
  await page.goto(`${env.base}/integrations`);
  await page.getByRole('link', { name: 'AWS Production' }).waitFor();
  await hydrated(page);
  await shot(page, '18-integrations');
  await page.getByRole('link', { name: 'Local Git' }).click();
  await page.waitForURL(`${env.base}/integrations/local-git`);
  await hydrated(page);
  await page.getByRole('button', { name: 'Test connection' }).click();
  await page.getByRole('status').filter({ hasText: 'Local repositories under' }).waitFor();
  await shot(page, '19-integration-test');
  await page.goto(`${env.base}/integrations/aws-production`);
  await page.getByRole('heading', { name: 'Change settings or rotate secrets' }).waitFor();
  const secret = page.locator('input[name="input[secrets][secret_access_key]"]');
  assert.equal(await secret.inputValue(), '', 'a stored secret is never sent back to the browser');
  assert.ok(!(await page.content()).includes('wJalrXUtnFEMI'), 'nor anywhere in the page');
  await shot(page, '20-integration-edit');
});

test('a developer plans an executor and follows its log live', async () => {
  const page = await env.page();
  await demoSignIn(page, 'Devon Developer');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Executors' }).click();
  await page.waitForURL(`${env.base}/executors`);
  await page.getByRole('link', { name: 'Scratch network plan' }).click();
  await page.waitForURL(`${env.base}/executors/scratch-network`);
  await page.getByText('Never run.').waitFor();
  await hydrated(page);
  await page.getByRole('button', { name: 'Plan', exact: true }).click();
  await page.waitForURL(/\?run=\d+/);
  // The page follows the log while the run is queued and running, then shows how it ended.
  await page.locator('.run-card[data-done="true"] .run-succeeded').waitFor({ timeout: 90_000 });
  // The header catches up with the run's end too.
  await page.locator('.page-header .status-done').waitFor();
  const log = await page.getByLabel('Run log').innerText();
  assert.match(log, /\$ terraform init -input=false -no-color/);
  assert.match(log, /Changes to Outputs|No changes/);
  await shot(page, '21-executor-run');
});

test('a developer registers a local workspace and takes a resource through pull requests another person approves', async () => {
  const page = await env.page();
  await demoSignIn(page, 'Devon Developer');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Workspaces' }).click();
  await page.waitForURL(`${env.base}/workspaces`);
  // The demo's workspace is there already, on the README's defaults (a relative ./data).
  await page.locator('.workspace-card', { hasText: 'acme/infra-live' }).waitFor();
  await hydrated(page);

  // A repository in the local forge, then registered: the forge's metadata fills the card.
  await page.locator('input[name="repository"]').fill('acme/live');
  await page.getByRole('button', { name: 'Create repository' }).click();
  await page.getByRole('status').filter({ hasText: 'Created acme/live' }).waitFor();
  await page.locator('select[name="input[integration]"]').selectOption('local-git');
  await page.locator('input[name="input[repository]"]').fill('acme/live');
  await page.locator('input[name="input[labels]"]').fill('production, network');
  await page.getByRole('button', { name: 'Register' }).click();
  await page.locator('.workspace-card', { hasText: 'acme/live' }).waitFor();
  await shot(page, '22-workspaces');

  // A resource whose code goes to the workspace: the sync job opens a pull request.
  await page.goto(`${env.base}/resources/new?template=s3-bucket`);
  await page.locator('[data-variable="bucket_name"]').waitFor();
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Audit Logs');
  // The browser checks the slug itself (a pattern that compiles under the `v` flag).
  const slug = page.getByLabel('Slug (folder and module name)');
  await slug.fill('Audit_Logs');
  assert.equal(await slug.evaluate((el) => el.validity.patternMismatch), true, 'the slug pattern checks');
  await slug.fill('audit-logs');
  assert.equal(await slug.evaluate((el) => el.validity.valid), true);
  // The module's own rule is enforced on save, its message beside the field.
  await page.getByLabel(/^bucket_name/).fill('Acme_Audit_Logs');
  await page.locator('select[name="input[workspace]"]').selectOption('acme-live');
  await page.getByRole('button', { name: 'Create resource' }).click();
  await page.locator('[data-variable="bucket_name"] .field-error', { hasText: 'Bucket names are 3 to 63 lowercase letters' }).waitFor();
  await shot(page, '23a-resource-rule-broken');
  await page.getByLabel(/^bucket_name/).fill('acme-audit-logs');
  await page.getByRole('button', { name: 'Create resource' }).click();
  await page.waitForURL(`${env.base}/resources/audit-logs`);
  const panel = page.locator('.workspace-panel');
  await page.locator('.workspace-panel[data-done="true"]').waitFor({ timeout: 60_000 });
  // The sync opened pull request #1, and its head was planned: the plan is what a reviewer
  // approves.
  await panel.getByText(/pull request #1 opened; planning it|plan #\d+ ready/).waitFor();
  await panel.locator('.plan-card[data-status="ready"]').waitFor({ timeout: 60_000 });
  await panel.locator('.plan-card').getByText('bucket_arn').waitFor();
  // The header catches up with the job's end: awaiting review.
  await page.locator('.page-header .status-ready').waitFor();
  assert.match(await panel.innerText(), /s3-bucket\/audit_logs\//);
  await shot(page, '23-resource-pull-request');

  // The pull request's page shows its change as a diff.
  await panel.getByRole('link', { name: /^#1 Sync/ }).click();
  await page.waitForURL(`${env.base}/forge/acme/live/pulls/1`);
  await page.getByRole('heading', { name: '#1 Sync s3-bucket/audit_logs (revision 1)' }).waitFor();
  await page.locator('.code-file', { hasText: 's3-bucket/audit_logs/variables.tf' }).locator('.line.added', { hasText: 'acme-audit-logs' }).first().waitFor();
  assert.equal(await page.locator('.badge.change-added').count(), 3);
  await shot(page, '24-pull-request-diff');
  // Another person approves it: Ada, on her own session. Merged; the resource is provisioned.
  const ada = await env.page();
  await demoSignIn(ada, 'Ada Admin');
  await ada.goto(`${env.base}/resources/audit-logs`);
  await ada.locator('.workspace-panel[data-done="true"]').waitFor();
  await hydrated(ada);
  await ada.locator('.workspace-panel').getByRole('button', { name: 'Approve plan (merge, then apply)' }).click();
  await ada.locator('.page-header .state-provisioned').waitFor({ timeout: 60_000 });
  await ada.locator('.workspace-panel[data-done="true"]').waitFor();
  // Merged, then the plan approved was applied: its log, and the outputs it recorded.
  assert.match(await ada.locator('.workspace-panel').innerText(), /plan #\d+ applied/);
  await ada.locator('.plan-card[data-status="applied"]').waitFor();
  await ada.locator('section.card', { has: ada.getByRole('heading', { name: 'Outputs', level: 2 }) }).getByText('bucket_arn').waitFor();
  await shot(ada, '25-resource-merged');
  // Its plans and state: the plan applied, and the state version that apply wrote.
  await ada.goto(`${env.base}/resources/audit-logs?tab=runs`);
  await ada.getByRole('heading', { name: 'Latest plan' }).waitFor();
  await ada.locator('.plan-card[data-status="applied"]').waitFor();
  await ada.getByText('Not locked: no run holds the state now.').waitFor();
  assert.ok(await ada.locator('section.card', { has: ada.getByRole('heading', { name: 'State', level: 2 }) }).locator('tbody tr').count() >= 1);
  await shot(ada, '25a-plans-and-state');
  await page.goto(`${env.base}/resources/audit-logs`);
  await page.locator('.page-header .state-provisioned').waitFor();

  // The workspace's versioning page reads the repository the merge landed in.
  await page.goto(`${env.base}/workspaces/acme-live/versioning`);
  await page.getByRole('heading', { name: 'Versioning' }).waitFor();
  await page.getByRole('heading', { name: 'No version tags yet' }).waitFor();
  await page.locator('.preview-table tbody tr', { hasText: 'main' }).first().waitFor();
  await shot(page, '25b-workspace-versioning');

  // The code is on the default branch, as the portal reads it from the repository.
  await page.goto(`${env.base}/forge/acme/live`);
  await page.getByRole('heading', { name: 'Files on main' }).waitFor();
  await page.getByText('s3-bucket/audit_logs/main.tf').waitFor();
  await shot(page, '26-repository-files');
  await page.goto(`${env.base}/resources/audit-logs`);
  await page.locator('.workspace-panel[data-done="true"]').waitFor();

  // Destroy: a delete pull request, approved; the resource is destroyed and its folder freed.
  await hydrated(page);
  await page.getByRole('button', { name: 'Destroy' }).click();
  // It asks first, saying what happens; Cancel has the focus, so Enter is the safe answer.
  const question = page.getByRole('alertdialog');
  await question.getByText(/^Destroy audit-logs\?/).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Cancel');
  await shot(page, '26a-destroy-confirmation');
  await question.getByRole('button', { name: 'Destroy' }).click();
  // Once in three CI runs the header kept its old state after the action (see the stop's
  // note): the server's state is what counts, so a reload settles it.
  const destroying = page.locator('.page-header .state-destroy');
  try {
    await destroying.waitFor({ timeout: 15_000 });
  } catch {
    await page.reload();
    await destroying.waitFor();
  }
  await page.locator('.workspace-panel[data-done="true"] .plan-card[data-status="ready"]').waitFor({ timeout: 60_000 });
  await page.locator('.workspace-panel').getByText('destroy plan').waitFor();
  // The change is Devon's: the page says someone else approves it, and offers only Reject.
  await page.locator('.workspace-panel').getByText('holds your change: someone else approves it').waitFor();
  assert.equal(await page.locator('.workspace-panel').getByRole('button', { name: /^Approve/ }).count(), 0);
  await shot(page, '26b-own-change-awaits-review');
  await ada.goto(`${env.base}/resources/audit-logs`);
  await ada.locator('.workspace-panel[data-done="true"]').waitFor();
  await hydrated(ada);
  await ada.locator('.workspace-panel').getByRole('button', { name: 'Approve plan (merge, then apply)' }).click();
  await ada.locator('.page-header .state-destroyed').waitFor({ timeout: 60_000 });
  await page.reload();
  await page.locator('.page-header .state-destroyed').waitFor({ timeout: 60_000 });

  await page.goto(`${env.base}/workspaces/acme-live`);
  await page.getByRole('heading', { name: 'Pull requests' }).waitFor();
  assert.equal(await page.locator('.pull-merged').count(), 2);
  await page.getByText('No resource keeps code here yet.').waitFor();
  await shot(page, '27-workspace');

  // A personal access token, shown once, clones the repository with plain git.
  await page.goto(`${env.base}/account`);
  await page.getByRole('heading', { name: 'New access token' }).waitFor();
  await hydrated(page);
  await page.getByLabel('What is it for?').fill('laptop git');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.getByLabel('The new token').inputValue();
  assert.match(token, /^slw_[A-Za-z0-9]{40}$/);
  await page.locator('table.tokens', { hasText: 'laptop git' }).waitFor();
  await shot(page, '28-account-token');
  const work = mkdtempSync(join(tmpdir(), 'slipway-clone-'));
  const url = `${env.base.replace('://', `://dev:${token}@`)}/git/acme/live.git`;
  execFileSync('git', ['clone', '-q', url, 'live'], { cwd: work, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  assert.match(readFileSync(join(work, 'live', 'README.md'), 'utf8'), /acme\/live/);
  // Revoked (after a question naming the token), it opens nothing.
  await page.getByRole('button', { name: 'Revoke' }).click();
  const revoking = page.getByRole('alertdialog');
  await revoking.getByText(/^Revoke the token "laptop git"\?/).waitFor();
  await revoking.getByRole('button', { name: 'Revoke' }).click();
  await page.locator('table.tokens .status-error', { hasText: 'revoked' }).waitFor();
  assert.throws(() => execFileSync('git', ['clone', '-q', url, 'again'], { cwd: work, stdio: 'pipe', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }));
});

test('drift on the seeded VPC is found, acknowledged, and reconciled through a pull request another person approves', async () => {
  const dev = await env.page();
  await demoSignIn(dev, 'Devon Developer');
  await dev.goto(`${env.base}/resources/prod-vpc?tab=drift`);
  await dev.getByRole('heading', { name: 'Drift', level: 2 }).waitFor();
  await hydrated(dev);
  // A check with nothing changed: the world is as the state says.
  await dev.getByRole('button', { name: 'Check now' }).click();
  await dev.locator('.drift-last[data-state="no drift"]').waitFor({ timeout: 60_000 });
  await dev.getByText('No drift: the last check found the world as the code and state say.').waitFor();

  // Someone changes the network in the demo cloud's console, behind Slipway's back.
  const cloud = `${env.base}/demo-cloud/v1/vpc`;
  const [network] = await (await fetch(cloud)).json();
  assert.ok(network, 'the seeded VPC exists in the demo cloud');
  const patched = await fetch(`${cloud}/${network.id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cidr_block: '10.99.0.0/16', changed_by: 'console' }),
  });
  assert.equal(patched.status, 200);
  await dev.getByRole('button', { name: 'Check now' }).click();
  const found = dev.locator('.drift-current.drift-open');
  await found.waitFor({ timeout: 60_000 });
  await found.getByText('properties.cidr_block').waitFor();
  await found.getByText('"10.99.0.0/16"').waitFor();
  await shot(dev, '29-drift-found');

  // Acknowledged, with the reason; the Drift page lists it with its owner and what is done.
  await dev.getByLabel('Acknowledge: why is it left as it is for now?').fill('console change during the incident; reconcile after review');
  await dev.getByRole('button', { name: 'Acknowledge' }).click();
  await dev.locator('.drift-current.drift-acknowledged').getByText('console change during the incident').waitFor();
  await dev.goto(`${env.base}/drift`);
  const row = dev.locator('.drift-table tbody tr', { hasText: 'prod-vpc' });
  await row.getByText('acknowledged by dev').waitFor();
  await shot(dev, '29a-drift-page');

  // Reconcile: a pull request that changes no file; its plan shows what it undoes.
  await row.getByRole('link').first().click();
  await dev.waitForURL(`${env.base}/resources/prod-vpc?tab=drift`);
  await dev.locator('.drift-current').waitFor();
  await hydrated(dev);
  await dev.getByRole('button', { name: 'Reconcile through a pull request' }).click();
  const question = dev.getByRole('alertdialog');
  await question.getByText(/^Open a pull request for prod-vpc that changes no file\?/).waitFor();
  await question.getByRole('button', { name: 'Reconcile through a pull request' }).click();
  await dev.getByText(/dev asked for a reconcile/).waitFor();
  await dev.goto(`${env.base}/resources/prod-vpc`);
  const panel = dev.locator('.workspace-panel');
  await dev.locator('.workspace-panel[data-done="true"] .plan-card[data-status="ready"]').waitFor({ timeout: 60_000 });
  await panel.getByText('Changed outside the code').waitFor();
  await panel.locator('.plan-counts', { hasText: '+0 ~1 -0' }).waitFor();
  await panel.getByRole('link', { name: /Reconcile drift of vpc\// }).waitFor();
  await shot(dev, '29b-reconcile-pull-request');

  // Ada approves it: merged, applied, the network back as the code says, the drift resolved.
  const ada = await env.page();
  await demoSignIn(ada, 'Ada Admin');
  await ada.goto(`${env.base}/resources/prod-vpc`);
  await ada.locator('.workspace-panel[data-done="true"]').waitFor();
  await hydrated(ada);
  await ada.locator('.workspace-panel').getByRole('button', { name: 'Approve plan (merge, then apply)' }).click();
  await ada.locator('.workspace-panel[data-done="true"] .plan-card[data-status="applied"]').waitFor({ timeout: 60_000 });
  const back = await (await fetch(`${cloud}/${network.id}`)).json();
  assert.equal(back.properties.cidr_block, network.properties.cidr_block);
  assert.equal(back.properties.changed_by, undefined);
  await ada.goto(`${env.base}/drift`);
  await ada.locator('section.card', { hasText: 'Resolved lately' }).locator('tr', { hasText: 'reconciled' }).waitFor();
  await shot(ada, '29c-drift-resolved');
});

test('a VPC and an EKS cluster on its output: planned, a policy overridden by two security members, applied, drifted and reconciled, destroyed', async () => {
  // Ada makes Quinn a second member of security: an override takes two of its members.
  const ada = await env.page();
  await demoSignIn(ada, 'Ada Admin');
  await ada.goto(`${env.base}/admin/groups/security`);
  await hydrated(ada);
  await ada.getByLabel('Add a member').fill('quinn');
  await ada.getByRole('button', { name: 'Add', exact: true }).click();
  await ada.getByRole('button', { name: 'Remove quinn' }).waitFor();

  // Sam (security) writes the policy the new-manifest page offers: EKS node groups stay
  // within 10 nodes, two members of security may override it.
  const sam = await env.page();
  await demoSignIn(sam, 'Sam Security');
  await sam.goto(`${env.base}/releases/manifests/new?kind=Policy`);
  await hydrated(sam);
  await sam.locator('.editor-check .check-ok').waitFor();
  await sam.getByRole('button', { name: 'Create' }).click();
  await sam.waitForURL(`${env.base}/releases/manifests/Policy/eks-node-limits`);
  await sam.getByText('EKS node groups stay within 10 nodes.').first().waitFor();

  // Ada keeps her home page open: what needs her arrives there without a reload.
  await ada.goto(`${env.base}/`);
  await ada.locator('#needs').waitFor();
  await hydrated(ada);

  // Devon creates a VPC in the seeded workspace; its pull request is planned.
  const dev = await env.page();
  await demoSignIn(dev, 'Devon Developer');
  await dev.goto(`${env.base}/resources/new?template=vpc`);
  await dev.locator('[data-variable="cidr_block"]').waitFor();
  await hydrated(dev);
  await dev.getByLabel('Name', { exact: true }).fill('Core Network');
  await dev.getByLabel('Slug (folder and module name)').fill('core-net');
  await dev.getByLabel(/^name/).fill('core');
  await dev.getByLabel(/^cidr_block/).fill('10.20.0.0/16');
  await dev.locator('select[name="input[workspace]"]').selectOption('acme-infra-live');
  await dev.getByRole('button', { name: 'Create resource' }).click();
  await dev.waitForURL(`${env.base}/resources/core-net`);
  const devPanel = dev.locator('.workspace-panel');
  await dev.locator('.workspace-panel[data-done="true"] .plan-card[data-status="ready"]').waitFor({ timeout: 60_000 });
  await devPanel.locator('.plan-counts', { hasText: '+1 ~0 -0' }).waitFor();
  await devPanel.getByText('cloud_object.network').first().waitFor();
  await shot(dev, '29d-vpc-plan');

  // The review is Ada's now: her list and the count beside her menu show it, live, saying
  // why; she follows it to the resource.
  const review = ada.locator('.needs-list li[data-kind="review"]', { hasText: 'core-net' });
  await review.waitFor({ timeout: 30_000 });
  await review.getByText(/You may approve changes to core-net in acme-infra-live; plan #\d+ \(\+1 ~0 -0\) is ready and dev made the change/).waitFor();
  assert.ok(Number(await ada.locator('.needs-link').getAttribute('data-count')) >= 1);
  await shot(ada, '29d2-needs-you');
  await review.getByRole('link').click();
  await ada.waitForURL(`${env.base}/resources/core-net`);

  // Ada approves the plan she read: merged, then applied, its log followed on the page; the
  // outputs appear, the network's id the demo cloud's.
  await ada.locator('.workspace-panel[data-done="true"]').waitFor();
  await hydrated(ada);
  await ada.locator('.workspace-panel').getByRole('button', { name: 'Approve plan (merge, then apply)' }).click();
  await ada.locator('.workspace-panel .run-log', { hasText: 'Apply complete!' }).waitFor({ timeout: 60_000 });
  await ada.locator('.page-header .state-provisioned').waitFor({ timeout: 60_000 });
  const outputs = ada.locator('section.card', { has: ada.getByRole('heading', { name: 'Outputs', level: 2 }) });
  await outputs.getByText(/vpc-[0-9a-f]{8}/).first().waitFor();
  const vpcId = (await outputs.innerText()).match(/vpc-[0-9a-f]{8}/)[0];
  await shot(ada, '29e-vpc-applied');

  // Sam waits on the home page too.
  await sam.goto(`${env.base}/`);
  await sam.locator('#needs').waitFor();
  await hydrated(sam);

  // The cluster: a child of the VPC whose vpc_id is the VPC's output, with a node group too
  // large for the policy.
  await dev.goto(`${env.base}/resources/new?template=eks-cluster`);
  await dev.locator('[data-variable="vpc_id"]').waitFor();
  await hydrated(dev);
  await dev.getByLabel('Name', { exact: true }).fill('Core Cluster');
  await dev.getByLabel('Slug (folder and module name)').fill('core-eks');
  await dev.getByLabel(/^cluster_name/).fill('core');
  await dev.locator('label.checkbox', { hasText: 'core-net' }).locator('input').check();
  await dev.locator('#bind-vpc_id').selectOption('core-net.vpc_id');
  await dev.getByLabel(/^node_groups/).fill('{"general": {"instance_type": "m6i.large", "min_size": 2, "max_size": 40}}');
  await dev.locator('select[name="input[workspace]"]').selectOption('acme-infra-live');
  await shot(dev, '29f-eks-form-bound');
  await dev.getByRole('button', { name: 'Create resource' }).click();
  await dev.waitForURL(`${env.base}/resources/core-eks`);
  await dev.locator('.workspace-panel[data-done="true"] .plan-card[data-status="ready"]').waitFor({ timeout: 60_000 });
  // The plan took vpc_id from the VPC's recorded output, and the policy denies it.
  await devPanel.locator('.plan-inputs', { hasText: new RegExp(`vpc_id ← core-net → vpc_id = "?${vpcId}`) }).waitFor();
  const denial = devPanel.locator('.policy-denied[data-policy="eks-node-limits"]');
  await denial.getByText('node group general may grow to 40 nodes; the limit is 10').waitFor();

  // Nobody may approve it yet: the page says what it waits for and offers no Approve.
  await ada.goto(`${env.base}/resources/core-eks`);
  await ada.locator('.workspace-panel[data-done="true"]').waitFor();
  await hydrated(ada);
  await ada.locator('.workspace-panel').getByText(/Approval waits for plan #\d+ to pass eks-node-limits/).waitFor();
  assert.equal(await ada.locator('.workspace-panel').getByRole('button', { name: /^Approve/ }).count(), 0);
  await shot(ada, '29g-eks-plan-denied');

  // Two members of security override it, each with a reason; the page updates as they do.
  // Sam hears of it on the page left open, and follows it there.
  const override = sam.locator('.needs-list li[data-kind="policy_override"]', { hasText: 'core-eks' });
  await override.waitFor({ timeout: 30_000 });
  await override.getByText('You are in security, which may override it (0 of 2 approvals so far)', { exact: false }).waitFor();
  await override.getByRole('link').click();
  await sam.waitForURL(`${env.base}/resources/core-eks`);
  await sam.locator('.workspace-panel[data-done="true"]').waitFor();
  await hydrated(sam);
  await sam.getByLabel('Members of security: why may this plan pass?').fill('the batch cluster needs 40 nodes at month end; capacity approved in CAP-212');
  await sam.getByRole('button', { name: 'Override eks-node-limits' }).click();
  await sam.locator('.policy-overrides li', { hasText: 'sam overrode it' }).waitFor();
  await sam.locator('.policy-denied').getByText('2 members of security must override it, never the change\'s author: 1 of 2 so far.').waitFor();
  const quinn = await env.page();
  await demoSignIn(quinn, 'Quinn QA');
  await quinn.goto(`${env.base}/resources/core-eks`);
  await quinn.locator('.workspace-panel[data-done="true"]').waitFor();
  await hydrated(quinn);
  await quinn.getByLabel('Members of security: why may this plan pass?').fill('agreed: CAP-212');
  await quinn.getByRole('button', { name: 'Override eks-node-limits' }).click();
  await quinn.locator('.policy-overridden[data-policy="eks-node-limits"]').waitFor();
  assert.equal(await quinn.locator('.policy-overrides li').count(), 2);
  await shot(quinn, '29h-policy-overridden');

  // Ada approves; the cluster is applied.
  await ada.reload();
  await ada.locator('.workspace-panel[data-done="true"]').waitFor();
  await hydrated(ada);
  await ada.locator('.workspace-panel').getByRole('button', { name: 'Approve plan (merge, then apply)' }).click();
  await ada.locator('.page-header .state-provisioned').waitFor({ timeout: 60_000 });
  await ada.locator('section.card', { has: ada.getByRole('heading', { name: 'Outputs', level: 2 }) }).getByText('cluster_endpoint').waitFor();

  // Someone widens the network in the console; Devon's check finds it, and reconciles it.
  const cloud = `${env.base}/demo-cloud/v1/vpc/${vpcId}`;
  const patched = await fetch(cloud, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cidr_block: '10.20.0.0/15' }) });
  assert.equal(patched.status, 200);
  await dev.goto(`${env.base}/resources/core-net?tab=drift`);
  await dev.getByRole('heading', { name: 'Drift', level: 2 }).waitFor();
  await hydrated(dev);
  await dev.getByRole('button', { name: 'Check now' }).click();
  await dev.locator('.drift-current.drift-open').getByText('"10.20.0.0/15"').waitFor({ timeout: 60_000 });
  await dev.getByRole('button', { name: 'Reconcile through a pull request' }).click();
  await dev.getByRole('alertdialog').getByRole('button', { name: 'Reconcile through a pull request' }).click();
  await dev.getByText(/dev asked for a reconcile/).waitFor();
  await ada.goto(`${env.base}/resources/core-net`);
  await ada.locator('.workspace-panel[data-done="true"] .plan-card[data-status="ready"]').waitFor({ timeout: 60_000 });
  await hydrated(ada);
  await ada.locator('.workspace-panel').getByText('Changed outside the code').waitFor();
  await ada.locator('.workspace-panel').getByRole('button', { name: 'Approve plan (merge, then apply)' }).click();
  await ada.locator('.workspace-panel[data-done="true"] .plan-card[data-status="applied"]').waitFor({ timeout: 60_000 });
  assert.equal((await (await fetch(cloud)).json()).properties.cidr_block, '10.20.0.0/16');

  // Destroy: the VPC is refused while the cluster on it lives, naming it; the cluster goes
  // first through its delete plan, approved by Ada; then the VPC, gone from the cloud.
  await dev.goto(`${env.base}/resources/core-net`);
  await dev.locator('.workspace-panel[data-done="true"]').waitFor();
  await hydrated(dev);
  await dev.getByRole('button', { name: 'Destroy' }).click();
  await dev.getByRole('alertdialog').getByRole('button', { name: 'Destroy' }).click();
  await dev.getByText('core-net has provisioned children (core-eks): destroy them first').waitFor();
  await shot(dev, '29i-parent-destroy-refused');
  for (const slug of ['core-eks', 'core-net']) {
    await dev.goto(`${env.base}/resources/${slug}`);
    await dev.locator('.workspace-panel[data-done="true"]').waitFor();
    await hydrated(dev);
    await dev.getByRole('button', { name: 'Destroy' }).click();
    await dev.getByRole('alertdialog').getByRole('button', { name: 'Destroy' }).click();
    await dev.locator('.workspace-panel[data-done="true"] .plan-card[data-status="ready"]').getByText('destroy plan').waitFor({ timeout: 60_000 });
    if (slug === 'core-net') {
      await devPanel.locator('.plan-counts', { hasText: '+0 ~0 -1' }).waitFor();
      await shot(dev, '29j-vpc-destroy-plan');
    }
    await ada.goto(`${env.base}/resources/${slug}`);
    await ada.locator('.workspace-panel[data-done="true"]').waitFor();
    await hydrated(ada);
    await ada.locator('.workspace-panel').getByRole('button', { name: 'Approve plan (merge, then apply)' }).click();
    await ada.locator('.page-header .state-destroyed').waitFor({ timeout: 60_000 });
  }
  assert.equal((await fetch(cloud)).status, 404);
  await shot(ada, '29k-vpc-destroyed');
});

test('a developer reads a repository\'s version tags and previews a pull request title\'s versions', async () => {
  const page = await env.page();
  await demoSignIn(page, 'Devon Developer');
  await page.goto(`${env.base}/workspaces`);
  await hydrated(page);
  await page.locator('input[name="repository"]').fill('acme/app');
  await page.getByRole('button', { name: 'Create repository' }).click();
  await page.getByRole('status').filter({ hasText: 'Created acme/app' }).waitFor();
  await page.locator('select[name="input[integration]"]').selectOption('local-git');
  await page.locator('input[name="input[repository]"]').fill('acme/app');
  await page.getByRole('button', { name: 'Register' }).click();
  await page.locator('.workspace-card', { hasText: 'acme/app' }).waitFor();

  // A history with releases on main, alphas on develop, a beta on a release branch.
  const work = mkdtempSync(join(tmpdir(), 'slipway-tags-'));
  const git = (...args) => execFileSync('git', args, { cwd: join(work, 'app'), stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.com' } });
  execFileSync('git', ['clone', '-q', join(env.dataDir, 'git/acme/app.git'), 'app'], { cwd: work });
  const release = (message, tag, annotated) => {
    git('commit', '-q', '--allow-empty', '-m', message);
    if (annotated) git('tag', '-a', tag, '-m', `Release ${tag}`); else git('tag', tag);
  };
  release('feat: first API', 'v1.0.0', true);
  release('fix: handle empty pages', 'v1.0.1', true);
  release('feat: tag filters', 'v1.1.0', true);
  git('checkout', '-q', '-b', 'develop');
  release('feat: bundles', 'v1.1.1-alpha.0', false);
  release('feat: bundle diff', 'v1.1.1-alpha.1', false);
  git('checkout', '-q', '-b', 'release/1.2', 'main');
  release('chore: freeze 1.2', 'v1.1.1-beta.0', false);
  git('tag', 'nightly');
  git('push', '-q', 'origin', 'main', 'develop', 'release/1.2', '--tags');

  await page.goto(`${env.base}/workspaces/acme-app`);
  await page.getByRole('link', { name: 'Tags and next versions' }).click();
  await page.waitForURL(`${env.base}/workspaces/acme-app/versioning`);
  await page.getByRole('heading', { name: 'Versioning' }).waitFor();
  const timeline = page.locator('.tag-timeline li');
  assert.equal(await timeline.count(), 6);
  await page.locator('.tag-timeline li.kind-alpha', { hasText: 'v1.1.1-alpha.1' }).waitFor();
  await page.getByText('1 more tag is not v + SemVer').waitFor();
  const rowOf = (branch) => page.locator('.preview-table tbody tr', { has: page.locator('td:first-child code', { hasText: new RegExp(`^${branch.replace('/', '\\/')}$`) }) });
  // As it is now, under GitHub Flow: main's head is released already; other branches get no version.
  assert.match(await rowOf('main').innerText(), /v1\.1\.0\s+skip · already v1\.1\.0/);
  assert.match(await rowOf('develop').innerText(), /NONE/);

  // Typed, the title is checked in the browser and every branch's version follows it.
  await hydrated(page);
  const title = page.getByLabel('Pull request title');
  await title.pressSequentially('feat(api)!: drop the v1 endpoints');
  await page.locator('.check-ok', { hasText: 'breaking change' }).waitFor();
  await page.locator('.badge.label-release-major').waitFor();
  await rowOf('main').locator('.next-version', { hasText: 'v2.0.0' }).waitFor();
  await page.getByRole('button', { name: 'Git Flow' }).click();
  await rowOf('develop').locator('.next-version', { hasText: 'v1.1.1-alpha.2' }).waitFor();
  await rowOf('release/1.2').locator('.next-version', { hasText: 'v1.1.1-beta.1' }).waitFor();
  await page.locator('.preview-table tr.new-branch', { hasText: 'hotfix/' }).locator('.next-version', { hasText: 'v1.1.1-hotfix.1' }).waitFor();
  await shot(page, '29-versioning');

  // A title that is not a Conventional Commit: the reason, and where.
  await title.fill('feat api: drop the v1 endpoints');
  const error = page.locator('.check-error');
  await error.waitFor();
  assert.match(await error.innerText(), /line 1, column 5/);
  await page.locator('.caret-line').waitFor();
  await shot(page, '30-versioning-invalid-title');
});

test('a developer writes repository manifests, fixes an inline error, and reads the computed plan', async () => {
  const page = await env.page();
  await demoSignIn(page, 'Devon Developer');
  await page.goto(`${env.base}/repositories`);
  // The demo governs two repositories already; payments-api's strategy waits for review.
  await page.locator('tbody tr', { hasText: 'payments-api' }).getByText('Git Flow').waitFor();
  await page.locator('tbody tr', { hasText: 'storefront' }).waitFor();
  await shot(page, '31-repositories-seeded');
  await page.getByRole('link', { name: 'New repository' }).click();
  await page.waitForURL(`${env.base}/repositories/new`);
  await hydrated(page);
  // The starter text (the seed's examples) is valid; the outline and the diagram follow it.
  await page.locator('.editor-check .check-ok').waitFor();
  const editor = page.locator('textarea.manifest-editor');
  const text = await editor.inputValue();
  // A typo in the strategy and a stage the build type lacks: both named where they are.
  await editor.fill(text.replace('name: my-service\nspec:\n  strategy: GITHUB_FLOW', 'name: payments\nspec:\n  strategy: GITFLOW')
    .replace('GithubRepository/my-service', 'GithubRepository/payments')
    .replace('[analysis, security-scan, test, build, containerize]', '[analysis, security-scan, test, build, publish, containerize]'));
  const errors = page.locator('.manifest-errors li');
  await page.locator('.editor-check h2', { hasText: '2 errors' }).waitFor();
  assert.match(await errors.nth(0).innerText(), /Line 6, column 13: unknown strategy `GITFLOW`; did you mean `GIT_FLOW`\?/);
  assert.match(await errors.nth(1).innerText(), /stage `publish` is not available for GOLANG/);
  // An error's place takes the cursor there, selecting the word it names.
  await errors.nth(0).getByRole('button', { name: 'Line 6, column 13' }).click();
  const selected = await editor.evaluate((area) => area.value.slice(area.selectionStart, area.selectionEnd));
  assert.equal(selected, 'GITFLOW');
  assert.equal(await editor.evaluate((area) => area === document.activeElement), true);
  assert.equal(await page.getByRole('button', { name: 'Create repository' }).isDisabled(), true);
  await shot(page, '32-repository-editor-errors');

  // Fixed: valid again, the plan's outline for Git Flow.
  await editor.fill((await editor.inputValue()).replace('GITFLOW', 'GIT_FLOW').replace('build, publish, containerize', 'build, containerize'));
  await page.locator('.editor-check .check-ok').waitFor();
  await page.locator('.editor-check', { hasText: '5 branch kinds, 4 rulesets, CODEOWNERS, 20 workflows' }).waitFor();
  await shot(page, '33-repository-editor-valid');
  await page.getByRole('button', { name: 'Create repository' }).click();
  await page.waitForURL(`${env.base}/repositories/payments`);
  await page.getByRole('heading', { name: 'payments', exact: true }).waitFor();
  const rows = page.locator('.branch-table tbody tr');
  assert.equal(await rows.count(), 5);
  assert.match(await rows.nth(0).innerText(), /main\s+Production-ready code\s+Merge only \(from release\/hotfix\)/);
  assert.match(await page.locator('.branch-diagram svg').getAttribute('aria-label'), /release\/\* merges into main \(merge\)/);
  await page.getByText('rulesets/slipway-primary-branch.json').click();
  await page.locator('details[open] pre', { hasText: '"context": "Merge Authorized"' }).waitFor();
  await shot(page, '34-repository-plan');
  // The workflows come folded, each fetched when opened: the page stays small.
  const weight = (await (await page.request.get(`${env.base}/repositories/payments`)).text()).length;
  assert.ok(weight < 150_000, `the repository page is ${weight} bytes of HTML`);
  console.log(`repository page: ${weight} bytes of HTML`);
  await hydrated(page);
  await page.locator('details.code-file summary', { hasText: '.github/workflows/' }).first().click();
  await page.locator('details.code-file[open] pre', { hasText: 'jobs:' }).first().waitFor();

  // The plan against what is in place (nothing yet), then applied through pull requests.
  const provisioning = page.locator('.provisioning');
  await provisioning.getByText('Never applied').waitFor();
  await provisioning.locator('.plan-summary', { hasText: '21 to add' }).waitFor();
  await provisioning.locator('.plan-summary', { hasText: 'rulesets to apply: slipway-primary-branch, slipway-develop-branch, slipway-release-branch, slipway-hotfix-branch' }).waitFor();
  await hydrated(page);
  await provisioning.getByText('local/payments · .github/CODEOWNERS').click();
  await provisioning.locator('details[open] .diff-lines .line.added', { hasText: '* @local/platform-team' }).waitFor();
  await shot(page, '35-repository-plan-diff');
  await provisioning.getByRole('button', { name: 'Apply plan' }).click();
  await provisioning.getByText('Revision 1 applied').waitFor();
  await provisioning.getByRole('button', { name: 'Awaiting review' }).waitFor();
  // payments gets a pull request of its own in the managed-workflows repository (the seeded
  // payments-api holds #1 there): one repository's files never land in another's.
  await provisioning.getByText('the files wait in local/payments#1 and local/managed-workflows-private#2').waitFor();
  const pulls = provisioning.locator('.pull-list li');
  assert.equal(await pulls.count(), 2);
  await provisioning.getByRole('link', { name: /local\/payments#1 chore\(slipway\): provision payments revision 1/ }).click();
  await page.waitForURL(`${env.base}/repositories/payments/pulls/1`);
  await page.getByRole('heading', { name: 'chore(slipway): provision payments revision 1' }).waitFor();
  // Devon opened it, so Merge Authorized waits for someone else's approval.
  await page.locator('.merge-check .check-bad', { hasText: 'refused' }).waitFor();
  await page.locator('.rule.fail', { hasText: 'develop needs 1 approval from someone other than the author; it has 0' }).waitFor();
  await page.locator('.rule.pass', { hasText: 'may merge into develop' }).waitFor();
  // The reviewer reads what would land: the files with their diff.
  await page.locator('.changed-files h2', { hasText: /\d+ files changed/ }).waitFor();
  await page.locator('.changed-file', { hasText: '.github/CODEOWNERS' }).locator('.line.added', { hasText: '* @local/platform-team' }).waitFor();
  await shot(page, '36-provisioning-pull-request');
  await page.getByText('You opened this pull request: someone else approves it.').waitFor();
  await page.goto(`${env.base}/repositories/payments`);

  // Edit: a new revision.
  await page.getByRole('link', { name: 'Edit manifests' }).click();
  await page.waitForURL(`${env.base}/repositories/payments/edit`);
  await hydrated(page);
  await editor.fill((await editor.inputValue()).replace('GIT_FLOW', 'TRUNK_BASED'));
  await page.locator('.editor-check', { hasText: '3 branch kinds, 2 rulesets' }).waitFor();
  await page.getByRole('button', { name: 'Save revision' }).click();
  await page.waitForURL(`${env.base}/repositories/payments`);
  await page.locator('.revision-list li', { hasText: 'Revision 2' }).getByText('2 lines changed').waitFor();
  await page.locator('tbody tr', { has: page.locator('code', { hasText: /^main$/ }) }).getByText('Trunk (single source of truth)').waitFor();
  await page.goto(`${env.base}/repositories`);
  await page.locator('tbody tr', { hasText: 'payments' }).getByText('Trunk-Based').waitFor();
  await page.locator('tbody tr', { hasText: 'payments' }).getByText('revision 1, behind').waitFor();
  await shot(page, '37-repositories-list');
});

test('each group writes its own release manifest and the track is drawn as a pipeline', async () => {
  // Riley (SRE) writes the release track; the editor names an error where it is.
  const sre = await env.page();
  await demoSignIn(sre, 'Riley SRE');
  await sre.goto(`${env.base}/releases`);
  // The demo's track, set and release are there already.
  await sre.locator('.track', { hasText: 'web' }).waitFor();
  await shot(sre, '38-releases-seeded');
  await sre.getByRole('link', { name: 'New manifest' }).click();
  await sre.waitForURL(`${env.base}/releases/manifests/new`);
  await hydrated(sre);
  await sre.locator('.editor-check .check-ok').waitFor();
  const editor = sre.locator('textarea.manifest-editor');
  const track = await editor.inputValue();
  await editor.fill(track.replace('    - production\n  hotfixStages:', '    - production\n    signOff:\n    - group: product\n      approvals: 0\n    - group: security\n  hotfixStages:'));
  await sre.locator('.editor-check h2', { hasText: '1 error' }).waitFor();
  assert.match(await sre.locator('.manifest-errors li').first().innerText(), /Line 16, column 18: signOff.approvals must be a whole number from 1 to 10/);
  assert.equal(await sre.getByRole('button', { name: 'Create' }).isDisabled(), true);
  await shot(sre, '39-release-track-editor-error');
  await editor.fill((await editor.inputValue()).replace('approvals: 0', 'approvals: 2'));
  await sre.locator('.editor-check .check-ok').waitFor();
  await sre.locator('.editor-check .badge.signoff', { hasText: 'product ×2' }).waitFor();
  await sre.getByRole('button', { name: 'Create' }).click();
  await sre.waitForURL(`${env.base}/releases/manifests/ReleaseTrack/my-product-releasetrack`);
  await sre.getByRole('heading', { name: 'my-product-releasetrack' }).waitFor();

  // Devon (a developer) describes an application of their team; the release manager bundles it.
  const dev = await env.page();
  await demoSignIn(dev, 'Devon Developer');
  await dev.goto(`${env.base}/releases/manifests/new?kind=Application`);
  await hydrated(dev);
  await dev.locator('.editor-check', { hasText: 'Edited by the group developers.' }).waitFor();
  await dev.getByRole('button', { name: 'Create' }).click();
  await dev.waitForURL(`${env.base}/releases/manifests/Application/checkout-api`);
  // Devon is not a release manager: the set is refused, with why.
  await dev.goto(`${env.base}/releases/manifests/new?kind=ApplicationSet`);
  await hydrated(dev);
  await dev.getByRole('button', { name: 'Create' }).click();
  await dev.getByText('ApplicationSets are edited by the group release-managers, and you are not in it').waitFor();
  const remy = await env.page();
  await demoSignIn(remy, 'Remy Release');
  await remy.goto(`${env.base}/releases/manifests/new?kind=ApplicationSet`);
  await hydrated(remy);
  await remy.getByRole('button', { name: 'Create' }).click();
  await remy.waitForURL(`${env.base}/releases/manifests/ApplicationSet/my-product`);

  // Everyone sees the track as lanes of stages, and which manifests are theirs.
  await remy.goto(`${env.base}/releases`);
  await remy.locator('.track-pipeline').first().waitFor();
  const stages = remy.locator('.track', { hasText: 'my-product-releasetrack' }).locator('.lane').nth(1).locator('.stage');
  assert.equal(await stages.count(), 2);
  assert.match(await stages.nth(0).innerText(), /staging\s+qa ×1/);
  assert.match(await stages.nth(1).innerText(), /production\s+product ×2\s+security ×1/);
  await remy.locator('tbody tr', { hasText: 'my-product' }).getByText('you').waitFor();
  await shot(remy, '40-releases-track-and-manifests');
});

test('a build deploys to development, a release is signed off stage by stage by separate people, then a hotfix and a rejection', async () => {
  const { createHmac } = await import('node:crypto');
  const api = async (page, endpoint, form) => {
    const response = await page.request.post(`${env.base}/api/${endpoint}`, { form });
    return { status: response.status(), body: await response.text() };
  };
  // The platform's part, through the same server functions the editor uses.
  const ada = await env.page();
  await demoSignIn(ada, 'Ada Admin');
  const manifests = [
    'apiVersion: lowops.manifests.v1\nkind: ReleaseTrack\nmetadata:\n  name: shop-track\nspec:\n  preReleaseStages:\n  - environments: [development]\n  releaseStages:\n  - environments: [staging]\n  - environments: [production]\n  hotfixStages:\n  - environments: [staging, production]\n',
    'apiVersion: lowops.manifests.v1\nkind: Application\nmetadata:\n  name: cart\nspec:\n  team: developers\n  image: registry.example.com/acme/cart\n  repository: cart\n',
    'apiVersion: lowops.manifests.v1\nkind: ApplicationSet\nmetadata:\n  name: shop\nspec:\n  applications: [cart]\n  releaseTrack: shop-track\n',
  ];
  for (const source of manifests) {
    const saved = await api(ada, 'save_release_manifest', { kind: '', name: '', revision: '0', source });
    assert.equal(saved.status, 200, saved.body);
  }
  assert.equal((await api(ada, 'save_repository', { name: '', revision: '0', source: 'apiVersion: lowops.manifests.v1\nkind: GithubRepository\nmetadata:\n  name: cart\nspec:\n  strategy: GITHUB_FLOW\n' })).status, 200);
  const secret = JSON.parse((await api(ada, 'rotate_build_secret', { name: 'cart' })).body);
  // The demo's history is in the DORA figures already: this journey's deployments add to it.
  const delivery = async (days) => JSON.parse((await api(ada, 'get_delivery', { days: String(days) })).body);
  const before = { 28: await delivery(28), 365: await delivery(365) };
  // Remy, the release manager, is a product manager too: their own approval must still be refused.
  assert.equal((await api(ada, 'add_group_member', { group: 'product', user: 'remy' })).status, 200);

  // CI says a build completed: Slipway deploys it to development.
  const notify = async (version, digit) => {
    const body = JSON.stringify({
      repository: 'acme/cart', application: 'cart', version,
      commit: '0123456789abcdef0123456789abcdef01234567', branch: 'main', run: 'https://ci.example/runs/1',
      images: [{ name: 'cart', digest: `sha256:${digit.repeat(64)}` }],
    });
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
    const sent = await fetch(`${env.base}/hooks/build-completed`, {
      method: 'POST', body,
      headers: { 'content-type': 'application/json', 'x-slipway-timestamp': `${timestamp}`, 'x-slipway-signature': `sha256=${signature}` },
    });
    assert.equal(sent.status, 202, await sent.text());
  };
  await notify('v1.4.0', 'c');
  const remy = await env.page();
  await demoSignIn(remy, 'Remy Release');
  for (let i = 0; i < 100; i++) {
    await remy.goto(`${env.base}/releases`);
    if (await remy.locator('tbody tr', { hasText: 'cart' }).filter({ hasText: 'v1.4.0' }).count()) break;
    await remy.waitForTimeout(200);
  }
  await remy.locator('tbody tr', { hasText: 'development' }).filter({ hasText: 'v1.4.0' }).waitFor();
  await shot(remy, '41-releases-development-deployed');

  // The release manager starts the release: rc.0, staging awaits QA.
  await hydrated(remy);
  await remy.locator('select[name="app_set"]').selectOption('shop');
  await remy.getByLabel('Bundle', { exact: true }).fill('2026.11');
  await remy.getByRole('button', { name: 'Start release' }).click();
  await remy.waitForURL(/\/releases\/\d+$/);
  const release = remy.url();
  await remy.getByRole('heading', { name: 'shop-2026.11-rc.0' }).waitFor();
  await remy.locator('.stage-awaiting_sign_off', { hasText: 'staging' }).waitFor();
  await shot(remy, '42-release-started');

  // QA signs off staging; it deploys and production opens.
  const quinn = await env.page();
  await demoSignIn(quinn, 'Quinn QA');
  await quinn.goto(release);
  await hydrated(quinn);
  await quinn.locator('.stage-awaiting_sign_off').getByLabel('Comment').fill('Regression suite green');
  await quinn.locator('.stage-awaiting_sign_off').getByRole('button', { name: 'Approve' }).click();
  for (let i = 0; i < 100 && !(await quinn.locator('.stage-deployed', { hasText: 'staging' }).count()); i++) {
    await quinn.waitForTimeout(200);
    await quinn.reload();
  }
  await quinn.locator('.stage-awaiting_sign_off', { hasText: 'production' }).waitFor();

  // The product manager approves production: the gate stays closed without security.
  const pat = await env.page();
  await demoSignIn(pat, 'Pat Product');
  await pat.goto(release);
  await hydrated(pat);
  await pat.locator('.stage-awaiting_sign_off').getByRole('button', { name: 'Approve' }).click();
  await pat.locator('.stage-awaiting_sign_off', { hasText: 'Waiting for security 0/1' }).waitFor();
  await pat.getByRole('button', { name: 'Withdraw my vote' }).waitFor();
  await shot(pat, '43-release-production-waiting-for-security');
  // The release manager's own approval is refused.
  const own = await api(remy, 'vote_release', { id: release.split('/').pop(), stage: '1', group: 'product', approve: 'true', comment: '' });
  assert.equal(own.status, 403, own.body);
  assert.match(own.body, /you started this release: someone else must approve it/);

  // Security approves: production deploys and the production tag appears.
  const sam = await env.page();
  await demoSignIn(sam, 'Sam Security');
  await sam.goto(release);
  await hydrated(sam);
  await sam.locator('.stage-awaiting_sign_off').getByRole('button', { name: 'Approve' }).click();
  for (let i = 0; i < 100 && !(await sam.getByText('production tag').count()); i++) {
    await sam.waitForTimeout(200);
    await sam.reload();
  }
  await sam.locator('.page-header code', { hasText: 'shop-2026.11' }).waitFor();
  await sam.locator('.stage-deployed', { hasText: 'production' }).waitFor();
  await sam.locator('.timeline li', { hasText: 'sam (security) approved stage 2' }).waitFor();
  await shot(sam, '44-release-completed');

  // A hotfix build goes through the hotfix stage, signed off by an incident commander.
  await notify('v1.4.0-hotfix.1', 'd');
  await remy.goto(`${env.base}/releases`);
  await hydrated(remy);
  await remy.locator('select[name="app_set"]').selectOption('shop');
  await remy.getByLabel('Bundle', { exact: true }).fill('2026.11');
  await remy.getByLabel('Hotfix of the released bundle').check();
  await remy.getByRole('button', { name: 'Start release' }).click();
  await remy.getByRole('heading', { name: 'shop-2026.11-rc.1' }).waitFor();
  await remy.locator('.stage-awaiting_sign_off', { hasText: 'incident-commanders ×1' }).waitFor();
  const hotfix = remy.url();
  const riley = await env.page();
  await demoSignIn(riley, 'Riley SRE');
  await riley.goto(hotfix);
  await hydrated(riley);
  await riley.locator('.stage-awaiting_sign_off').getByLabel('Comment').fill('Fixes the checkout outage');
  await riley.locator('.stage-awaiting_sign_off').getByRole('button', { name: 'Approve' }).click();
  for (let i = 0; i < 100 && !(await riley.getByText('production tag').count()); i++) {
    await riley.waitForTimeout(200);
    await riley.reload();
  }
  await riley.locator('.page-header code', { hasText: 'shop-2026.11-hotfix.1' }).waitFor();
  await riley.locator('tbody tr', { hasText: 'v1.4.0-hotfix.1' }).waitFor();
  await shot(riley, '45-hotfix-completed');

  // A rejection stops the next bundle; the next attempt is rc.1.
  await remy.goto(`${env.base}/releases`);
  await hydrated(remy);
  await remy.locator('select[name="app_set"]').selectOption('shop');
  await remy.getByLabel('Bundle', { exact: true }).fill('2026.12');
  await remy.getByRole('button', { name: 'Start release' }).click();
  await remy.getByRole('heading', { name: 'shop-2026.12-rc.0' }).waitFor();
  await quinn.goto(remy.url());
  await hydrated(quinn);
  await quinn.getByText('Reject…').click();
  await quinn.getByLabel('Why').fill('Checkout times out under load');
  await quinn.getByRole('button', { name: 'Reject release' }).click();
  await quinn.locator('.stage-rejected', { hasText: 'Rejected by quinn (qa): Checkout times out under load' }).waitFor();
  await shot(quinn, '46-release-rejected');
  await remy.goto(`${env.base}/releases`);
  await hydrated(remy);
  await remy.locator('select[name="app_set"]').selectOption('shop');
  await remy.getByLabel('Bundle', { exact: true }).fill('2026.12');
  await remy.getByRole('button', { name: 'Start release' }).click();
  // The same images as the rejected rc.0: the page names the rejection and asks to confirm.
  await remy.getByText(/shop-2026\.12-rc\.0 was rejected by quinn \(qa\): .Checkout times out under load./).waitFor();
  await remy.getByLabel('Release the same build again').check();
  await shot(remy, '46b-rerelease-confirmation');
  await remy.getByRole('button', { name: 'Start release' }).click();
  await remy.getByRole('heading', { name: 'shop-2026.12-rc.1' }).waitFor();
  await remy.goto(`${env.base}/releases`);
  // DORA: two more production deployments, one of them followed by the hotfix.
  const expected = (days) => `(${before[days].failures + 1} of ${before[days].production_deployments + 2} needed a hotfix or a rollback)`;
  await remy.locator('.dora .figure', { hasText: expected(28) }).waitFor();
  await shot(remy, '47-releases-list');
  // Another window: the figures are read again for it; the page keeps its place.
  await hydrated(remy);
  await remy.locator('.window-picker').getByRole('link', { name: '1 year' }).click();
  await remy.waitForURL(`${env.base}/releases?window=365`);
  await remy.getByRole('heading', { name: 'Delivery · last 1 year' }).waitFor();
  await remy.locator('.dora .figure', { hasText: expected(365) }).waitFor();
  assert.ok(await remy.locator('.dora-chart rect.bar').count() >= 16, 'the demo\'s 16 weeks of history, and this week');
  await shot(remy, '47b-delivery-one-year');
  // The application's deployment history: development, staging, production and the hotfix.
  await remy.getByRole('link', { name: 'cart', exact: true }).first().click();
  await remy.waitForURL(`${env.base}/releases/manifests/Application/cart`);
  const history = remy.locator('section', { hasText: 'Deployment history' }).locator('tbody tr');
  await history.first().waitFor();
  assert.equal(await history.count(), 5);
  assert.match(await history.first().innerText(), /v1\.4\.0-hotfix\.1/);
  await shot(remy, '48-application-deployment-history');
});

test('from the seeded release estate: a simulated build deploys, and production is signed off', async () => {
  // Devon builds storefront without a CI: it deploys to development a moment later.
  const dev = await env.page();
  await demoSignIn(dev, 'Devon Developer');
  await dev.goto(`${env.base}/releases`);
  await dev.getByRole('heading', { name: 'Simulate a build' }).waitFor();
  await hydrated(dev);
  await dev.locator('.simulate-build select[name="application"]').selectOption('storefront');
  await dev.getByRole('button', { name: 'Simulate a build' }).click();
  const built = await dev.locator('.form-ok', { hasText: /Built v\d+\.\d+\.\d+/ }).innerText();
  const version = built.match(/v\d+\.\d+\.\d+/)[0];
  await dev.locator('tbody tr', { hasText: 'development' }).filter({ hasText: 'storefront' }).filter({ hasText: version }).waitFor({ timeout: 30_000 });
  await shot(dev, '49-simulated-build-deployed');

  // The seeded release waits for product and security; QA signed staging off already.
  const pat = await env.page();
  await demoSignIn(pat, 'Pat Product');
  await pat.goto(`${env.base}/releases`);
  await pat.getByRole('link', { name: 'webshop-2026.12-rc.0' }).click();
  await pat.waitForURL(/\/releases\/\d+$/);
  const release = pat.url();
  await pat.locator('.stage-deployed', { hasText: 'staging' }).waitFor();
  await pat.locator('.stage-awaiting_sign_off', { hasText: 'Waiting for product 0/1, security 0/1' }).waitFor();
  await hydrated(pat);
  // Pat signs off by keyboard alone: Tab to the comment, type, Tab to Approve, Enter.
  await tabTo(pat, () => document.activeElement?.name === 'comment' && !!document.activeElement.closest('.stage-awaiting_sign_off'));
  await pat.keyboard.type('Checkout conversion unchanged in staging');
  await tabTo(pat, () => document.activeElement?.textContent?.trim() === 'Approve' && !!document.activeElement.closest('.stage-awaiting_sign_off'));
  await pat.keyboard.press('Enter');
  await pat.locator('.stage-awaiting_sign_off', { hasText: 'Waiting for security 0/1' }).waitFor();
  await shot(pat, '50-seeded-release-product-signed');

  const sam = await env.page();
  await demoSignIn(sam, 'Sam Security');
  await sam.goto(release);
  await hydrated(sam);
  await sam.locator('.stage-awaiting_sign_off').getByRole('button', { name: 'Approve' }).click();
  for (let i = 0; i < 100 && !(await sam.locator('.stage-deployed', { hasText: 'production' }).count()); i++) {
    await sam.waitForTimeout(200);
    await sam.reload();
  }
  await sam.locator('.page-header code', { hasText: 'webshop-2026.12' }).waitFor();
  await shot(sam, '51-seeded-release-shipped');
  // Pat's page, open all along and never reloaded, followed: production deployed.
  await pat.locator('.stage-deployed', { hasText: 'production' }).waitFor({ timeout: 30_000 });
  await pat.locator('.page-header code', { hasText: 'webshop-2026.12' }).waitFor();
  await shot(pat, '51b-followed-live');
});

test('an SRE freezes staging in an emergency: a signed-off stage waits, frozen, and deploys once lifted; production soaks before it opens', async () => {
  // Riley (SRE) makes production soak a day after staging, in the web track's editor.
  const riley = await env.page();
  await demoSignIn(riley, 'Riley SRE');
  await riley.goto(`${env.base}/releases/manifests/ReleaseTrack/web/edit`);
  await hydrated(riley);
  const editor = riley.locator('textarea.manifest-editor');
  await editor.fill((await editor.inputValue()).replace('  - environments: [production]\n  hotfixStages', '  - environments: [production]\n    soakTime: 24h\n  hotfixStages'));
  await riley.locator('.editor-check .check-ok').waitFor();
  await riley.getByRole('button', { name: 'Save revision' }).click();
  await riley.waitForURL(`${env.base}/releases/manifests/ReleaseTrack/web`);

  // Quinn (QA) is on her home page, with whatever earlier journeys left waiting for her.
  const quinn = await env.page();
  await demoSignIn(quinn, 'Quinn QA');
  await hydrated(quinn);
  const needsLink = quinn.locator('a.needs-link');
  await needsLink.waitFor();
  const waiting = Number(await needsLink.getAttribute('data-count'));

  // Remy starts the next bundle; staging awaits QA.
  const remy = await env.page();
  await demoSignIn(remy, 'Remy Release');
  await remy.goto(`${env.base}/releases`);
  await hydrated(remy);
  await remy.locator('select[name="app_set"]').selectOption('webshop');
  await remy.getByLabel('Bundle', { exact: true }).fill('2027.01');
  await remy.getByRole('button', { name: 'Start release' }).click();
  await remy.waitForURL(/\/releases\/\d+$/);
  const release = remy.url();
  await remy.locator('.stage-awaiting_sign_off', { hasText: 'staging' }).waitFor();

  // Quinn's count goes up by one without a reload, and an e-mail reaches her, once.
  await quinn.locator(`a.needs-link[data-count="${waiting + 1}"]`).waitFor({ timeout: 30_000 });
  await quinn.locator('.needs-list .need-sign_off', { hasText: 'Sign off staging of webshop-2027.01-rc.0' }).waitFor();
  let mail = [];
  for (let i = 0; i < 300 && mail.length === 0; i++) {
    mail = env.mails().filter((m) => m.to.includes('quinn@demo.slipway.test') && m.subject.includes('Sign off staging of webshop-2027.01'));
    if (mail.length === 0) await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(mail.length, 1, `one e-mail to Quinn: ${JSON.stringify(env.mails().map((m) => [m.to, m.subject]))}`);
  assert.match(mail[0].body, /You are in qa, which must sign off/);
  assert.match(mail[0].body, new RegExp(`Open it: ${env.base}/releases/\\d+`));
  await shot(quinn, '59-needs-you-goes-to-one-live');
  // Her account page says where Slipway tells her, and what she may turn off.
  await quinn.goto(`${env.base}/account#notifications`);
  await hydrated(quinn);
  await quinn.getByText('to quinn@demo.slipway.test').waitFor();
  await shot(quinn, '60-notification-choices');

  // An incident: Riley presses the emergency freeze for staging, from the Freezes page.
  await riley.goto(`${env.base}/releases`);
  await riley.getByRole('link', { name: 'Freezes' }).click();
  await riley.waitForURL(`${env.base}/freezes`);
  await riley.getByText('Nothing is frozen now.').waitFor();
  await hydrated(riley);
  await riley.getByText('Emergency freeze…').click();
  await riley.getByLabel('Why', { exact: true }).fill('Incident 7: staging database failover');
  await riley.locator('.emergency').getByLabel('staging').check();
  await shot(riley, '52-emergency-freeze-form');
  await riley.getByRole('button', { name: 'Freeze now' }).click();
  await riley.locator('.freeze-banner.frozen', { hasText: '1 freeze window is holding now' }).waitFor();
  const row = riley.locator('tr.freeze-frozen', { hasText: 'emergency-' });
  await row.getByText('Incident 7: staging database failover').waitFor();
  await row.getByText(/^since .* until lifted$/).waitFor();
  await shot(riley, '53-freezes-page-frozen');

  // Quinn signs staging off: accepted, but the stage waits, frozen, and says why.
  await quinn.goto(release);
  await hydrated(quinn);
  await quinn.locator('.stage-awaiting_sign_off').getByLabel('Comment').fill('Regression suite green');
  await quinn.locator('.stage-awaiting_sign_off').getByRole('button', { name: 'Approve' }).click();
  const frozen = quinn.locator('.stage.frozen', { hasText: 'staging' });
  await frozen.getByText('Approved · frozen').waitFor({ timeout: 30_000 });
  await frozen.getByText(/Frozen until lifted because Incident 7: staging database failover \(FreezeWindow emergency-/).waitFor();
  await frozen.getByText('Ask for an exception…').waitFor();
  await shot(quinn, '54-stage-signed-off-but-frozen');

  // The incident is over: Riley lifts the freeze; staging deploys by itself, on Quinn's open page.
  await row.getByText('Lift…').click();
  await row.getByLabel('Why it ends early').fill('Failover complete, error rate normal');
  await row.getByRole('button', { name: /Lift emergency-.* now/ }).click();
  await riley.locator('tr.freeze-lifted', { hasText: 'Failover complete' }).waitFor();
  await riley.getByText('Nothing is frozen now.').waitFor();
  await shot(riley, '55-freeze-lifted');
  await quinn.locator('.stage-deployed', { hasText: 'staging' }).waitFor({ timeout: 30_000 });

  // Production now soaks: no sign-off form, and the gate says when it opens.
  const production = quinn.locator('.stage-awaiting_sign_off', { hasText: 'production' });
  await production.getByText(/Soak time 1d: opens at \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/).waitFor({ timeout: 30_000 });
  const pat = await env.page();
  await demoSignIn(pat, 'Pat Product');
  await pat.goto(release);
  await hydrated(pat);
  await pat.locator('.stage-awaiting_sign_off', { hasText: 'production' }).getByText(/Soak time 1d/).waitFor();
  assert.equal(await pat.locator('.stage-awaiting_sign_off').getByRole('button', { name: 'Approve' }).count(), 0, 'a soaking stage takes no vote');
  await shot(pat, '56-production-soaks');
});

test('production goes back to the version before: product and security sign the rollback off, a revert is written and automatic deployments are held', async () => {
  // Devon asks from the Environments table; the seeded release shipped production earlier.
  const dev = await env.page();
  await demoSignIn(dev, 'Devon Developer');
  await dev.goto(`${env.base}/releases`);
  await hydrated(dev);
  const row = dev.locator('table.environments tbody tr', { hasText: 'production' }).filter({ hasText: 'storefront' });
  const summary = row.locator('details.rollback summary');
  const previous = (await summary.innerText()).match(/Roll back to (\S+)…/)[1];
  await summary.click();
  await row.getByLabel('Why').fill('Checkout errors since the last release');
  await shot(dev, '57-rollback-asked');
  await row.getByRole('button', { name: `Ask to roll back to ${previous}` }).click();
  const asked = dev.locator('ul.rollbacks li.rollback-awaiting_sign_off', { hasText: `→ ${previous}` });
  await asked.getByText('Waiting for product 0/1, security 0/1').waitFor();

  // Pat sees it in Needs you and signs off as product; Sam as security.
  const pat = await env.page();
  await demoSignIn(pat, 'Pat Product');
  await pat.locator('#needs li[data-kind="rollback"]', { hasText: `Roll storefront back to ${previous} in production` }).waitFor();
  await pat.goto(`${env.base}/releases#rollbacks`);
  await hydrated(pat);
  await pat.locator('ul.rollbacks li.rollback-awaiting_sign_off').getByRole('button', { name: 'Approve as product' }).click();
  await pat.locator('ul.rollbacks li.rollback-awaiting_sign_off', { hasText: 'Waiting for security 0/1' }).waitFor();
  const sam = await env.page();
  await demoSignIn(sam, 'Sam Security');
  await sam.goto(`${env.base}/releases#rollbacks`);
  await hydrated(sam);
  await sam.locator('ul.rollbacks li.rollback-awaiting_sign_off').getByRole('button', { name: 'Approve as security' }).click();

  // Devon's page, open all along, follows: production runs the version before, held.
  await dev.locator('ul.rollbacks li.rollback-deployed', { hasText: 'revert commit' }).waitFor({ timeout: 30_000 });
  const now = dev.locator('table.environments tbody tr', { hasText: 'production' }).filter({ hasText: 'storefront' });
  await now.getByText(previous, { exact: true }).waitFor();
  await now.getByText('rollback', { exact: true }).waitFor();
  await now.locator('.badge.warning', { hasText: 'held' }).waitFor();
  await dev.locator('ul.holds li', { hasText: 'storefront' }).getByRole('button', { name: 'Lift hold' }).waitFor();
  await shot(dev, '58-rolled-back-and-held');
});
