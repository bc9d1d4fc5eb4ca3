import { strict as assert } from 'node:assert';
import { useNovemberInTeams } from '../support/november-surfaces';

/** Carla asks for Contoso's change log and monthly report in Teams; she never sees Fabrikam's. */
describe('Change log and monthly report over the Bot Framework protocol', function () {
  this.timeout(60_000);
  const november = useNovemberInTeams('changelog');

  it('answers changelog MONTH with Contoso’s changes: authorised by, expected, actual, rollback', async () => {
    const text = await november.ask('changelog 2026-11');
    assert.match(text, /Change log: Contoso/);
    assert.match(text, /2026-11, Europe\/London · 6 changes/);
    assert.match(
      text,
      new RegExp(
        `\\*\\*${november.s.normalDone.id}\\*\\* Patch the firewall · 2026-11-03 09:00 · normal`,
      ),
    );
    assert.match(text, /Check connectivity from each site afterwards\./);
    assert.match(text, /No rollback plan recorded/);
    assert.ok(!text.includes(november.s.fabrikam.id) && !text.includes('Fabrikam VPN'));
  });

  it('ignores a forged client: Fabrikam’s log is not found for Carla', async () => {
    const text = await november.ask('changelog FABRIKAM 2026-11');
    assert.match(text, /not found, or you do not work with it/);
    assert.ok(!text.includes(november.s.fabrikam.id) && !text.includes('Fabrikam VPN'));
  });

  it('answers report MONTH with the figures and red flags', async () => {
    const text = await november.ask('report 2026-11');
    assert.match(text, /Monthly change report: Contoso/);
    assert.match(text, /3 of 6 \(50 %\), target at most 10 %/);
    assert.match(text, /Red flags/);
    assert.match(text, /1 post-implementation review is overdue/);
    assert.match(text, /Change log page/);
  });
});
