/**
 * Summarizes a V8 .cpuprofile (what `node --cpu-prof` writes) into the
 * functions with the most self time, and the same time grouped by where
 * the code lives (grpc-js, the gateway, protobuf, pino, node itself), so
 * the benchmark's docs can say where the time goes. Pure.
 */

/** The parts of a .cpuprofile the summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: {
      functionName: string;
      url: string;
      lineNumber: number;
    };
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** One function's, or one area's, share of the samples. */
export interface SelfTime {
  name: string;
  selfMs: number;
  /** Share of all samples, 0 to 100. */
  percent: number;
}

/** Self time per function and per area, largest first. */
export function summarizeProfile(
  profile: CpuProfile,
  top = 20,
): {totalMs: number; functions: SelfTime[]; areas: SelfTime[]} {
  const nodeById = new Map(profile.nodes.map(node => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let totalUs = 0;

  profile.samples.forEach((id, index) => {
    // Each sample's delta is the time since the previous sample.
    const us = profile.timeDeltas[index] ?? 0;
    const frame = nodeById.get(id)?.callFrame;
    if (frame === undefined) return;
    totalUs += us;
    const name = functionLabel(frame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const area = areaOf(frame.url, frame.functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  });

  const rank = (map: Map<string, number>, limit: number) =>
    [...map.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, limit)
      .map(([name, us]) => ({
        name,
        selfMs: us / 1000,
        percent: totalUs === 0 ? 0 : (us / totalUs) * 100,
      }));
  return {
    totalMs: totalUs / 1000,
    functions: rank(byFunction, top),
    areas: rank(byArea, byArea.size),
  };
}

/** `name file:line`, the file shortened to its package or repo path. */
export function functionLabel(frame: {
  functionName: string;
  url: string;
  lineNumber: number;
}): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  return `${name} ${shortPath(frame.url)}:${frame.lineNumber + 1}`;
}

/** Where a frame's code lives, coarsely. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') {
    // V8's pseudo-frames: (garbage collector), (program), (idle).
    return functionName.startsWith('(') ? functionName : 'native';
  }
  if (url.startsWith('node:')) return 'node internals';
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage !== null) return inPackage[1] ?? 'node_modules';
  const ours = /\/dist\/([^/]+)\//.exec(url);
  if (ours !== null) return `ours: ${ours[1]}`;
  return 'other';
}

function shortPath(url: string): string {
  const inPackage = /node_modules\/(.*)$/.exec(url);
  if (inPackage !== null) return inPackage[1] ?? url;
  const ours = /\/dist\/(.*)$/.exec(url);
  if (ours !== null) return ours[1] ?? url;
  return url.replace(/^file:\/\//, '');
}
