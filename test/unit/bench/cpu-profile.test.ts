import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {
  areaOf,
  functionLabel,
  summarizeProfile,
  type CpuProfile,
} from '../../../bench/cpu-profile.js';

const GRPC = 'file:///work/main/node_modules/@grpc/grpc-js/build/src/x.js';
const OURS = 'file:///work/main/dist/gateway/batcher.js';

function frame(id: number, functionName: string, url: string) {
  return {id, callFrame: {functionName, url, lineNumber: 9}};
}

describe('summarizeProfile', () => {
  const profile: CpuProfile = {
    nodes: [
      frame(1, '(root)', ''),
      frame(2, 'push', GRPC),
      frame(3, 'add', OURS),
      frame(4, '(garbage collector)', ''),
    ],
    samples: [2, 2, 3, 4, 2],
    timeDeltas: [1000, 1000, 2000, 500, 500],
  };

  it('sums each sample delta as self time of its function', () => {
    const summary = summarizeProfile(profile);

    assert.equal(summary.totalMs, 5);
    assert.deepEqual(
      summary.functions.map(f => [f.name, f.selfMs, f.percent]),
      [
        ['push @grpc/grpc-js/build/src/x.js:10', 2.5, 50],
        ['add gateway/batcher.js:10', 2, 40],
        ['(garbage collector)', 0.5, 10],
      ],
    );
  });

  it('groups self time by package, our folders and V8 pseudo-frames', () => {
    const areas = summarizeProfile(profile).areas.map(a => a.name);

    assert.deepEqual(areas, [
      '@grpc/grpc-js',
      'ours: gateway',
      '(garbage collector)',
    ]);
  });

  it('keeps only the top functions asked for', () => {
    assert.equal(summarizeProfile(profile, 1).functions.length, 1);
  });
});

describe('areaOf', () => {
  it('tells node internals and unnamed native code apart', () => {
    assert.equal(
      areaOf('node:internal/streams/readable', 'read'),
      'node internals',
    );
    assert.equal(areaOf('', 'memcpy'), 'native');
    assert.equal(
      areaOf('file:///work/main/node_modules/pino/pino.js', 'x'),
      'pino',
    );
  });

  it('labels an anonymous function', () => {
    assert.equal(
      functionLabel({functionName: '', url: OURS, lineNumber: 0}),
      '(anonymous) gateway/batcher.js:1',
    );
  });
});
