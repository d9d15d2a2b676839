import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {
  escapeXml,
  linearAxis,
  logAxis,
  niceStep,
  renderSvg,
} from '../../../bench/report-svg.js';
import {measurement, results} from './fixtures.js';

describe('renderSvg', () => {
  it('draws a solid bar per figure and a light one per emulator figure', () => {
    const svg = renderSvg(results());

    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\n$/);
    // A and C have items/s and CPU (4 solid bars); C's emulator adds one.
    const solid = svg.match(/fill-opacity="1"/g) ?? [];
    const light = svg.match(/fill-opacity="0\.4"/g) ?? [];
    assert.equal(solid.length, 4);
    assert.equal(light.length, 1);
  });

  it('labels every point once per panel', () => {
    const svg = renderSvg(
      results({
        measurements: [
          measurement('A', '1KiB x8', {itemsPerSecond: 1}),
          measurement('A', '64KiB x8', {itemsPerSecond: 2}),
        ],
      }),
    );

    assert.equal((svg.match(/>64KiB x8</g) ?? []).length, 2);
  });

  it('escapes text that would break the markup', () => {
    const svg = renderSvg(
      results({
        machine: {...results().machine, cpuModel: 'A<B> & "C"'},
      }),
    );

    assert.match(svg, /A&lt;B&gt; &amp; &quot;C&quot;/);
    assert.equal(escapeXml('<&>'), '&lt;&amp;&gt;');
  });
});

describe('axes', () => {
  it('rounds a linear axis up to a 1, 2 or 5 step', () => {
    assert.equal(niceStep(9_000), 10_000);
    assert.equal(niceStep(1_500), 2_000);
    assert.equal(niceStep(0.3), 0.5);
    const axis = linearAxis(47_000);
    assert.deepEqual(axis.ticks, [0, 10_000, 20_000, 30_000, 40_000, 50_000]);
    assert.equal(axis.fraction(25_000), 0.5);
  });

  it('spans whole decades on a log axis', () => {
    const axis = logAxis(350);

    assert.deepEqual(axis.ticks, [1, 10, 100, 1000]);
    assert.equal(axis.fraction(100), 2 / 3);
    assert.equal(axis.fraction(0.5), 0);
  });
});
