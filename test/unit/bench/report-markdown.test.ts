import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {escapeCell, renderMarkdown} from '../../../bench/report-markdown.js';
import {results} from './fixtures.js';

describe('renderMarkdown', () => {
  const page = renderMarkdown(results());

  it('names the date, the machine and the load', () => {
    assert.match(page, /2026-12-03T18:00:00\.000Z on 2 × AMD EPYC/);
    assert.match(page, /Node 24\.22\.3/);
    assert.match(page, /load average 1\.50 at the start, 2\.25 at the end/);
  });

  it('shows each ratio beside its target and verdict', () => {
    assert.match(page, /\| B\/A \| 0\.50 \| ≥ 0\.8 \| no \|/);
    assert.match(page, /\| D\/C \| 6\.00 \| ≥ 5 \| yes \|/);
    assert.match(page, /\| function\/bare \| – \| ≥ 0\.9 \| – \|/);
  });

  it('has one table row per measurement, with every column', () => {
    const rows = page
      .split('\n')
      .filter(line => /^\| [ABCD] \| 1KiB x8 \|/.test(line));

    assert.equal(rows.length, 3);
    const header = page.split('\n').find(line => line.startsWith('| design'));
    const columns = (header ?? '').split(' | ').length;
    for (const row of rows) {
      assert.equal(row.split(/(?<!\\) \| /).length, columns);
    }
    assert.match(page, /\| A \| 1KiB x8 \| ok \| 100,000 \| 45,000 \|/);
    assert.match(page, /\| D \| 1KiB x8 \| skipped \|.*\| too slow \|/);
  });

  it('keeps a pipe in a note from splitting a cell', () => {
    assert.match(page, /a \\\| b/);
    assert.equal(escapeCell('x|y\n z'), 'x\\|y z');
  });

  it('states the memory target and lists the notes', () => {
    assert.match(page, /peak RSS at 1KiB x64: 200 MB \(target ≤ 256 MB, met\)/);
    assert.match(page, /^- a note$/m);
  });
});
