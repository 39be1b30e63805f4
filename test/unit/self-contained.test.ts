/**
 * The project documents itself: no file points at documents outside the repository (a design file or
 * a contract file kept elsewhere). What the code relies on is in docs/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
// spelled in pieces, so that this file does not find itself
const OUTSIDE = new RegExp(['\\.\\./shared', 'shared\\/DESIGN', 'DESIGN\\.md', 'seed\\/'].join('|'));

function trackedFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  return listed.split('\n').filter((file) => /\.(ts|md|json|ya?ml|sql)$/.test(file));
}

describe('the repository', () => {
  it('refers to no document outside it', () => {
    const offenders = trackedFiles().filter(
      (file) =>
        existsSync(path.join(root, file)) && OUTSIDE.test(readFileSync(path.join(root, file), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('has the documents the code points at', () => {
    const pointed = new Set<string>();
    // the code's comments (tests use paths like docs/2024/ as data)
    for (const file of trackedFiles().filter((name) => name.endsWith('.ts') && !name.startsWith('test/'))) {
      const text = readFileSync(path.join(root, file), 'utf8');
      for (const match of text.matchAll(/\bdocs\/[\w.-]+\.(?:md|json|sql)\b/g)) pointed.add(match[0]);
    }
    expect(pointed.size).toBeGreaterThan(0);
    expect([...pointed].filter((doc) => !existsSync(path.join(root, doc)))).toEqual([]);
  });
});
