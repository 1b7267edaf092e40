import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  loadProject,
  scaffoldProject,
  TEMPLATE_RECORD,
  type TemplateRecord,
  templateStatus,
  upgradeProject,
} from '../../src/config/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

const TEMPLATE = new URL('../../../templates/marketplace/', import.meta.url).pathname;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('sluice init --template marketplace --upgrade', () => {
  const tmp = tempDir();
  after(() => tmp.remove());

  const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
  const record = (dir: string) => JSON.parse(read(dir, TEMPLATE_RECORD)) as TemplateRecord;
  /** Write `file` as an older template version did, and record it so: an unedited old file. */
  const olderTemplateWrote = (dir: string, rec: TemplateRecord, file: string, text: string) => {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
    rec.files[file] = sha(text);
  };

  test('updates unedited files, creates new ones, drops removed ones, keeps and lists edited ones', async () => {
    const dir = join(tmp.dir, 'shop');
    const init = await runCli(['init', dir, '--template', 'marketplace', '--name', 'shop']);
    assert.equal(init.code, 0, init.stderr);
    const written = record(dir);
    assert.equal(written.template, 'marketplace');
    assert.equal(written.name, 'shop');
    assert.equal(written.files['models/marts/funnel.sql'], sha(read(TEMPLATE, 'models/marts/funnel.sql')));
    assert.equal(written.files['sluice.yaml'], sha(read(dir, 'sluice.yaml')));
    assert.equal((await templateStatus(dir, 'marketplace')).current, true);

    // The project as an older template version left it, then used: an old funnel and an old
    // sluice.yaml never edited, a pipeline the user changed, a model the template has since
    // dropped (one unedited, one edited), and an event type the user deleted.
    const rec = structuredClone(written);
    rec.version = 'an older template';
    olderTemplateWrote(dir, rec, 'models/marts/funnel.sql', 'SELECT 1 AS old_funnel\n');
    const oldConfig = read(dir, 'sluice.yaml').replace(/ {2}sinks:[\s\S]*$/, '');
    olderTemplateWrote(dir, rec, 'sluice.yaml', oldConfig);
    const edited = `${read(dir, 'pipelines/marketplace.yaml')}# my change\n`;
    writeFileSync(join(dir, 'pipelines/marketplace.yaml'), edited);
    olderTemplateWrote(dir, rec, 'models/marts/legacy.sql', 'SELECT 2 AS legacy\n');
    olderTemplateWrote(dir, rec, 'models/marts/legacy_edited.sql', 'SELECT 3 AS legacy\n');
    writeFileSync(join(dir, 'models/marts/legacy_edited.sql'), 'SELECT 4 AS mine\n');
    rmSync(join(dir, 'events/page_view.yaml'));
    writeFileSync(join(dir, TEMPLATE_RECORD), JSON.stringify(rec));
    assert.equal((await templateStatus(dir, 'marketplace')).current, false);

    const up = await runCli(['init', dir, '--upgrade', '--json']);
    assert.equal(up.code, 0, up.stderr);
    const report = JSON.parse(up.stdout) as Record<string, string[]>;
    assert.deepEqual(report.updated, ['sluice.yaml', 'models/marts/funnel.sql']);
    assert.deepEqual(report.created, ['events/page_view.yaml']);
    assert.deepEqual(report.kept, ['pipelines/marketplace.yaml']);
    assert.deepEqual(report.removed, ['models/marts/legacy.sql']);
    assert.deepEqual(report.orphaned, ['models/marts/legacy_edited.sql']);
    assert.ok(report.unchanged?.includes('dbt_project.yml'));

    assert.equal(read(dir, 'models/marts/funnel.sql'), read(TEMPLATE, 'models/marts/funnel.sql'));
    assert.equal(read(dir, 'events/page_view.yaml'), read(TEMPLATE, 'events/page_view.yaml'));
    assert.match(read(dir, 'sluice.yaml'), /sinks:/);
    assert.equal(read(dir, 'pipelines/marketplace.yaml'), edited);
    assert.equal(read(dir, 'models/marts/legacy_edited.sql'), 'SELECT 4 AS mine\n');
    assert.ok(!existsSync(join(dir, 'models/marts/legacy.sql')));
    assert.equal((await loadProject(dir, { env: {} })).config.name, 'shop');
    assert.equal((await templateStatus(dir, 'marketplace')).current, true);
    // The edited file keeps the checksum of what the template wrote: still edited next time.
    assert.equal(
      record(dir).files['pipelines/marketplace.yaml'],
      written.files['pipelines/marketplace.yaml'],
    );

    const again = await runCli(['init', dir, '--upgrade']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already has the files of the "marketplace" template/);
    assert.match(again.stdout, /Kept as you edited them[^\n]*\n {2}pipelines\/marketplace\.yaml/);
    assert.match(again.stdout, /move it away \(or delete it\) and run this again/);
    // Deleting the edited file takes the template's version.
    rmSync(join(dir, 'pipelines/marketplace.yaml'));
    const reset = await upgradeProject(dir);

    assert.deepEqual(reset.created, ['pipelines/marketplace.yaml']);
    assert.deepEqual(reset.kept, []);
  });

  test('a project made before templates were recorded: differing files count as edited', async () => {
    const dir = join(tmp.dir, 'old');
    await scaffoldProject(dir, { template: 'marketplace' });
    rmSync(join(dir, TEMPLATE_RECORD));
    writeFileSync(join(dir, 'models/marts/funnel.sql'), 'SELECT 1 AS mine\n');
    assert.deepEqual(await templateStatus(dir, 'marketplace'), {
      template: 'marketplace',
      recorded: false,
      current: false,
    });

    await assert.rejects(upgradeProject(dir), /has no \.sluice-template\.json: name the template/);
    const report = await upgradeProject(dir, { template: 'marketplace' });
    assert.deepEqual(report.kept, ['models/marts/funnel.sql']);
    assert.deepEqual([...report.updated, ...report.created], []);
    assert.ok(report.unchanged.includes('sluice.yaml'), 'rendered with the name in sluice.yaml');
    assert.equal(record(dir).files['models/marts/funnel.sql'], undefined);

    await assert.rejects(
      upgradeProject(join(tmp.dir, 'nowhere'), { template: 'marketplace' }),
      /is not a Sluice project/,
    );
    await assert.rejects(upgradeProject(dir, { template: 'nope' }), /unknown template "nope"/);
  });
});
