import { strict as assert } from 'node:assert';
import { useNovemberInTeams } from '../support/november-surfaces';

/** Carla types `summary CONTOSO 2026-11` in Teams and gets the month as a card. */
describe('Monthly summary over the Bot Framework protocol', function () {
  this.timeout(60_000);
  const november = useNovemberInTeams('summary');

  it('answers summary CODE MONTH with the month’s card', async () => {
    const text = await november.ask('summary CONTOSO 2026-11');
    assert.match(text, /Monthly summary: Contoso/);
    assert.match(text, /2026-11, Europe\/London/);
    assert.match(text, /6 \(1 standard, 2 normal, 3 emergency\)/);
    assert.match(text, /Emergency quota: 3 emergencies, quota \d+: .*\(flagged\)/);
    assert.match(
      text,
      new RegExp(
        `${november.s.standard.id}\\*\\* Business Premium for Jane · Add a Business Premium licence · Successful`,
      ),
    );
    assert.match(
      text,
      new RegExp(
        `${november.s.emergencyOver.id}\\*\\* Rotate the leaked key · retrospective not started · review not due · Open · over quota`,
      ),
    );
    assert.ok(!text.includes(november.s.october.id) && !text.includes(november.s.fabrikam.id));
  });

  it('answers plain summary with this month of Carla’s client', async () => {
    const text = await november.ask('summary');
    assert.match(text, /Monthly summary: Contoso/);
  });

  it('answers another client as not found, saying how to ask', async () => {
    const text = await november.ask('summary FABRIKAM 2026-11');
    assert.match(text, /not found, or you do not work with it/);
    assert.match(text, /CLIENT\.NOT_FOUND/);
    assert.ok(!text.includes(november.s.fabrikam.id));
  });
});
