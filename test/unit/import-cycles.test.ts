/** No module of the project imports itself through others (type imports count: they couple too). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g;

function moduleGraph(): Map<string, string[]> {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], {
    cwd: root,
    encoding: 'utf8',
  });
  const files = new Set(listed.split('\n').filter(Boolean));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(path.join(root, file), 'utf8');
    const imports = [...text.matchAll(IMPORT)]
      .map((match) => path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1]!)))
      .filter((target) => files.has(target));
    graph.set(file, imports);
  }
  return graph;
}

/** Each cycle once, as the path that closes it. */
function cyclesOf(graph: Map<string, string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, trail: string[]) => {
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open')
        cycles.push([...trail.slice(trail.indexOf(next)), file, next].join(' -> '));
      else if (!state.has(next)) visit(next, [...trail, file]);
    }
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file, []);
  return cycles;
}

describe('the module graph', () => {
  it('has no import cycle', () => {
    const graph = moduleGraph();
    expect(graph.size).toBeGreaterThan(50);
    expect(cyclesOf(graph)).toEqual([]);
  });
});
