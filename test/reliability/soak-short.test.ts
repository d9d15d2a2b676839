import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {
  formatSoakReport,
  resolveSoakSettings,
  runSoak,
} from '../../local/soak-run.js';

describe('a short soak of the whole stack', () => {
  it('stores every acknowledged item of 20 streams over 5 s once, with nothing lost', async () => {
    const settings = resolveSoakSettings({
      SOAK_STREAMS: '20',
      SOAK_DURATION_MS: '5000',
      SOAK_ITEMS_PER_STREAM: '100',
      SOAK_RATE_ITEMS_PER_SECOND: '2000',
      SOAK_DRAIN_TIMEOUT_MS: '60000',
    });

    const report = await runSoak(settings);

    const table = formatSoakReport(report);
    assert.ok(report.itemsAcknowledged > 0, table);
    assert.equal(report.lost, 0, table);
    assert.equal(report.duplicates, 0, table);
    assert.equal(report.itemsStored, report.itemsAcknowledged, table);
    assert.deepEqual(report.errorsByStatus, {}, table);
    assert.ok(report.gatewayPeakRssBytes !== undefined, table);
  });
});
