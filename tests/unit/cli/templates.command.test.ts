import { strict as assert } from 'node:assert';
import { runTemplatesCommand } from '../../../src/cli/templates.command';
import { createHarness, people, seedClients } from '../../support/fixtures';

const TEMPLATE = JSON.stringify({
  id: 'spb-add',
  name: 'Add a Business Premium licence',
  ranges: { type: 'licence_change', addSkus: ['SPB'], removeSkus: [] },
  implementationPlan: 'Assign SPB in Entra.',
  rollbackPlan:
    'If the user cannot sign in within 10 minutes, the technician removes SPB and re-assigns the ' +
    'previous licence, then verifies the user can open Outlook (about 15 minutes).',
});

describe(runTemplatesCommand.name, () => {
  const setup = async () => {
    const h = createHarness();
    await seedClients(h);
    const lines: string[] = [];
    const deps = {
      ...h.deps,
      out: (l: string) => lines.push(l),
      readText: () => Promise.resolve(TEMPLATE),
    };
    return { h, lines, run: (...args: string[]) => runTemplatesCommand(args, deps) };
  };

  it('creates, proposes and lists a template as the named lead', async () => {
    const { h, lines, run } = await setup();
    assert.equal(await run('create', '--file', 't.json', '--as', people.lena.oid), 0);
    assert.equal(
      await run('propose', '--template', 'spb-add', '--client', 'CONTOSO', '--as', people.lena.oid),
      0,
    );
    assert.equal(await run('list', '--client', 'CONTOSO', '--as', people.lena.oid), 0);
    assert.match(lines.join('\n'), /Created spb-add v1/);
    assert.match(lines.at(-1)!, /CONTOSO\tspb-add v1\tlicence_change\tproposed/);
    const rows = await h.storage.outbox.list(people.andy.tid);
    assert.ok(rows.some((r) => r.message.kind === 'teams.notify'));
  });

  it('refuses without a lead and says what to give', async () => {
    const { lines, run } = await setup();
    assert.equal(await run('create', '--file', 't.json', '--as', people.tina.oid), 1);
    assert.match(lines.join('\n'), /No MSP lead with object id/);
    assert.equal(await run('list'), 1);
    assert.match(lines.at(-1)!, /needs --as/);
  });
});
