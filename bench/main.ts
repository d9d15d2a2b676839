/**
 * `npm run bench`: the same load generator against designs A to D at every
 * point of the plan, then the function's insert path against a bare
 * client; writes bench/results/latest.{json,md,svg}.
 *
 * Usage: node dist/bench/main.js [--quick] [--profile] [--designs=A,B,...]
 *   --quick    one small point per design and 500 rows of inserts, for CI;
 *              writes bench/results/quick.json only.
 *   --profile[=DESIGN[@POINT]]  runs one design at one point (B at 1KiB x8
 *              by default) under node --cpu-prof and writes the top
 *              self-time functions to bench/results/profile-*.md.
 *   --designs  measures only these designs (for development).
 *   --points=ID,ID  only these points; --no-insert skips the insert path,
 *              --only-insert runs nothing else. Any of these three or
 *              --designs writes bench/results/partial.json only.
 * Exits 1 if any design or insert mode failed to complete, 2 on bad usage.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import {cpus, loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {PubSub} from '@google-cloud/pubsub';
import {
  EMULATOR_PROJECT,
  startPubSubEmulator,
  type PubSubEmulator,
} from '../local/emulators.js';
import {repoRoot} from '../local/paths.js';
import {computeChecks} from './checks.js';
import {summarizeProfile, type CpuProfile} from './cpu-profile.js';
import {formatFigure} from './format.js';
import {runInsertPath} from './insert-path.js';
import {FULL_PLAN, QUICK_PLAN, type Plan} from './plan.js';
import {computeRatios, RATIO_POINT, RATIO_TARGETS} from './ratios.js';
import {renderMarkdown} from './report-markdown.js';
import {renderSvg} from './report-svg.js';
import {
  DESIGNS,
  type BenchResults,
  type Design,
  type Measurement,
  type Point,
} from './results-model.js';
import {medianRun} from './rounds.js';
import {runPoint, type PointContext} from './run-point.js';

const USAGE =
  'usage: npm run bench -- [--quick] [--profile[=B@1KiB x8]] ' +
  "[--designs=A,B,C,D] [--points='1KiB x8,...'] [--no-insert|--only-insert]";

const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** A design and point to run under the profiler. */
interface ProfileTarget {
  design: Design;
  point: string;
}

function parseArgs(args: string[]): {
  plan: Plan;
  profile: ProfileTarget | undefined;
} {
  let plan = FULL_PLAN;
  let profile: ProfileTarget | undefined;
  let designs: Design[] | undefined;
  let points: string[] | undefined;
  let insert: 'with' | 'without' | 'only' = 'with';
  for (const arg of args) {
    if (arg === '--quick') plan = QUICK_PLAN;
    else if (arg === '--profile') profile = {design: 'B', point: RATIO_POINT};
    else if (arg.startsWith('--profile=')) {
      const [design = '', point = RATIO_POINT] = arg
        .slice('--profile='.length)
        .split('@');
      if (!(DESIGNS as readonly string[]).includes(design)) {
        usageExit(`unknown design ${design}`);
      }
      profile = {design: design as Design, point};
    } else if (arg.startsWith('--designs=')) {
      const names = arg.slice('--designs='.length).split(',');
      const unknown = names.filter(
        n => !(DESIGNS as readonly string[]).includes(n),
      );
      if (unknown.length > 0) usageExit(`unknown design ${unknown.join(', ')}`);
      designs = names as Design[];
    } else if (arg.startsWith('--points=')) {
      points = arg.slice('--points='.length).split(',');
      const known = plan.points.map(p => p.id);
      const unknown = points.filter(id => !known.includes(id));
      if (unknown.length > 0) usageExit(`unknown point ${unknown.join(', ')}`);
    } else if (arg === '--no-insert') insert = 'without';
    else if (arg === '--only-insert') insert = 'only';
    else usageExit(`unknown argument ${arg}`);
  }
  const partial =
    designs !== undefined || points !== undefined || insert !== 'with';
  if (!partial) return {plan, profile};
  // A partial run (development) never overwrites the full results.
  return {
    plan: {
      ...plan,
      designs: insert === 'only' ? [] : (designs ?? plan.designs),
      points: plan.points.filter(p => points?.includes(p.id) ?? true),
      insertRows: insert === 'without' ? 0 : plan.insertRows,
      resultsName: plan.quick ? plan.resultsName : 'partial',
      partial: true,
    },
    profile,
  };
}

function usageExit(problem: string): never {
  process.stderr.write(`bench: ${problem}\n${USAGE}\n`);
  process.exit(2);
}

async function startEmulator(plan: Plan): Promise<PubSubEmulator | undefined> {
  if (!plan.designs.some(d => d === 'C' || d === 'D')) return undefined;
  say('starting the Pub/Sub emulator');
  try {
    return await startPubSubEmulator();
  } catch (err) {
    say(`the Pub/Sub emulator did not start, C and D fail: ${String(err)}`);
    return undefined;
  }
}

function pointContext(
  plan: Plan,
  emulator: PubSubEmulator | undefined,
  label: () => string,
): PointContext {
  const pgrp = emulator?.process?.child.pid;
  const pubsub =
    emulator === undefined
      ? undefined
      : new PubSub({projectId: emulator.projectId, apiEndpoint: emulator.host});
  let lastProgressMs = 0;
  return {
    projectId: EMULATOR_PROJECT,
    pubsub:
      emulator === undefined || pgrp === undefined
        ? undefined
        : {host: emulator.host, pgrp},
    async createTopic(name) {
      if (pubsub === undefined) throw new Error('no Pub/Sub emulator');
      const [topic] = await pubsub.createTopic(name);
      return async () => void (await topic.delete());
    },
    timeCapMs: plan.timeCapMs,
    itemCaps: plan.itemCaps,
    distinctItems: plan.distinctItems,
    warmupBytes: plan.warmupBytes,
    onProgress(itemsSent, items) {
      // One line every few seconds is enough to see that it moves.
      if (Date.now() - lastProgressMs < 5_000) return;
      lastProgressMs = Date.now();
      say(
        `${label()}: ${itemsSent.toLocaleString('en-US')} / ` +
          `${items.toLocaleString('en-US')} items sent`,
      );
    },
  };
}

function describe(m: Measurement): string {
  if (m.outcome !== 'ok') return `${m.outcome}: ${m.note ?? ''}`;
  return (
    `${formatFigure(m.itemsPerSecond)} items/s, ` +
    `server ${formatFigure(m.serverCpuUsPerItem)} µs/item` +
    (m.emulatorCpuUsPerItem === undefined
      ? ''
      : `, emulator ${formatFigure(m.emulatorCpuUsPerItem)} µs/item`) +
    `, peak RSS ${formatFigure(m.serverPeakRssMb)} MB` +
    (m.note === undefined ? '' : ` (${m.note})`)
  );
}

async function measureDesigns(plan: Plan): Promise<Measurement[]> {
  const emulator = await startEmulator(plan);
  let label = '';
  const context = pointContext(plan, emulator, () => label);
  const measurements: Measurement[] = [];
  try {
    await warmEmulator(plan, context, next => (label = next));
    // Point by point, all designs in turn (and round by round where a
    // point repeats): a change in the machine's load then skews one point
    // for every design alike, not one design.
    for (const point of plan.points) {
      const rounds = point.rounds ?? 1;
      const runs = new Map<Design, Measurement[]>();
      for (let round = 1; round <= rounds; round++) {
        for (const design of plan.designs) {
          label =
            `${design} ${point.id}` +
            (rounds > 1 ? ` (run ${round} of ${rounds})` : '');
          say(`${label}: starting`);
          const m = await runPoint(design, point, context);
          say(`${label}: ${describe(m)}`);
          runs.set(design, [...(runs.get(design) ?? []), m]);
        }
      }
      for (const design of plan.designs) {
        measurements.push(medianRun(runs.get(design) ?? []));
      }
    }
  } finally {
    await emulator?.stop();
  }
  return measurements;
}

/** Runs C and D once, unrecorded, so the emulator's JIT is warm for all. */
async function warmEmulator(
  plan: Plan,
  context: PointContext,
  setLabel: (label: string) => void,
): Promise<void> {
  if (plan.emulatorWarmupItems === 0 || context.pubsub === undefined) return;
  const point: Point = {
    id: 'emulator warm-up',
    payloadBytes: 1024,
    streams: 8,
    items: plan.emulatorWarmupItems,
  };
  for (const design of plan.designs.filter(d => d === 'C' || d === 'D')) {
    setLabel(`${design} ${point.id}`);
    say(`${design} ${point.id}: starting (not recorded)`);
    const m = await runPoint(design, point, {...context, warmupBytes: 0});
    if (m.outcome !== 'ok') say(`${design} ${point.id}: ${describe(m)}`);
  }
}

async function profileRun(plan: Plan, target: ProfileTarget): Promise<number> {
  const point = plan.points.find(p => p.id === target.point);
  if (point === undefined) usageExit(`no point ${target.point}`);
  const folder = mkdtempSync(join(tmpdir(), 'bench-profile-'));
  const label = `${target.design} ${point.id} under --cpu-prof`;
  const emulator =
    target.design === 'C' || target.design === 'D'
      ? await startEmulator({...plan, designs: [target.design]})
      : undefined;
  const context = {
    ...pointContext(plan, emulator, () => label),
    nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${folder}`],
  };
  say(`${label}: starting`);
  const m = await runPoint(target.design, point, context);
  await emulator?.stop();
  say(`${label}: ${describe(m)}`);
  const file = readdirSync(folder).find(name => name.endsWith('.cpuprofile'));
  if (file === undefined) {
    say('no .cpuprofile was written');
    return 1;
  }
  const profile = JSON.parse(
    readFileSync(join(folder, file), 'utf8'),
  ) as CpuProfile;
  rmSync(folder, {recursive: true, force: true});
  const summary = summarizeProfile(profile, 25);
  const lines = [
    `# CPU profile of design ${target.design} at ${point.id}`,
    '',
    `${new Date().toISOString()}, ${point.items} items after the warm-up; ` +
      "the whole process's life, " +
      `${formatFigure(summary.totalMs)} ms of samples. Server CPU under the profiler: ` +
      `${formatFigure(m.serverCpuUsPerItem)} µs/item.`,
    '',
    '## Self time by area',
    '',
    '| area | self ms | % |',
    '|---|---|---|',
    ...summary.areas.map(
      a =>
        `| ${a.name} | ${formatFigure(a.selfMs)} | ${a.percent.toFixed(1)} |`,
    ),
    '',
    '## Top functions by self time',
    '',
    '| function | self ms | % |',
    '|---|---|---|',
    ...summary.functions.map(
      f =>
        `| \`${f.name}\` | ${formatFigure(f.selfMs)} | ${f.percent.toFixed(1)} |`,
    ),
    '',
  ];
  const name = `profile-${target.design}-${point.id.replace(/\W+/g, '-')}.md`;
  writeResult(name, lines.join('\n'));
  return m.outcome === 'ok' ? 0 : 1;
}

function writeResult(name: string, text: string): void {
  const folder = join(repoRoot(), 'bench', 'results');
  mkdirSync(folder, {recursive: true});
  writeFileSync(join(folder, name), text);
  say(`wrote bench/results/${name}`);
}

function machineNotes(
  plan: Plan,
  load: {start: number; end: number},
): string[] {
  const notes = [
    'CPU is read from /proc/PID/stat (utime+stime, 10 ms ticks) of the server process ' +
      "and of the emulator's whole process group (gcloud's wrapper and the JVM), from " +
      'just before the load generator starts to just after its last reply; peak RSS is ' +
      "the server's VmHWM over its life (one fresh process per design and point).",
    'A discards each message undecoded: its CPU per item is the cost of receiving alone.',
    'The load generator shares the machine: on 2 cores it and the server each need ' +
      'about one, and with the emulator (C, D) three processes compete, so items/s ' +
      'of C and D are bounded by the machine as much as by the design.',
    `Other sessions may have been using the machine: load average ${load.start.toFixed(2)} ` +
      `at the start, ${load.end.toFixed(2)} at the end, on ${cpus().length} cores.`,
  ];
  for (const [design, cap] of Object.entries(plan.itemCaps)) {
    notes.push(
      `${design} sends at most ${cap.toLocaleString('en-US')} items ` +
        'at any point, to bound its time.',
    );
  }
  return notes;
}

async function main(): Promise<number> {
  // Off Google Cloud the auth library would probe the metadata server.
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  const {plan, profile} = parseArgs(process.argv.slice(2));
  if (profile !== undefined) return profileRun(plan, profile);

  const loadStart = loadavg()[0] ?? 0;
  const startedMs = Date.now();
  const measurements = await measureDesigns(plan);
  const insertPath = await runInsertPath({
    rows: plan.insertRows,
    batchItems: plan.insertBatchItems,
    rounds: plan.insertRounds,
    timeCapMs: plan.timeCapMs,
    say,
  });
  const loadEnd = loadavg()[0] ?? 0;

  const results: BenchResults = {
    date: new Date(startedMs).toISOString(),
    quick: plan.quick,
    machine: {
      nproc: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      node: process.versions.node,
      loadAverageStart: loadStart,
      loadAverageEnd: loadEnd,
    },
    ratios: computeRatios(measurements, insertPath),
    targets: RATIO_TARGETS,
    measurements,
    insertPath,
    checks: computeChecks(measurements),
    notes: machineNotes(plan, {start: loadStart, end: loadEnd}),
  };
  writeResult(
    `${plan.resultsName}.json`,
    `${JSON.stringify(results, null, 2)}\n`,
  );
  if (!plan.quick && plan.partial !== true) {
    writeResult(`${plan.resultsName}.md`, renderMarkdown(results));
    writeResult(`${plan.resultsName}.svg`, renderSvg(results));
  }
  say(`ratios: ${JSON.stringify(results.ratios)}`);
  say(`took ${Math.round((Date.now() - startedMs) / 1000)} s`);

  const failed = [
    ...measurements
      .filter(m => m.outcome === 'failed')
      .map(m => `${m.design} ${m.point}`),
    ...insertPath
      .filter(m => m.outcome === 'failed')
      .map(m => `insert ${m.mode}`),
  ];
  if (failed.length > 0) {
    say(`failed: ${failed.join(', ')}`);
    return 1;
  }
  return 0;
}

// Clients of the emulators may keep handles open; the run is over.
process.exit(await main());
