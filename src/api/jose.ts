/**
 * jose is an ES module; Node 20 loads it with require(). It is required through Node's own
 * module loader (process.getBuiltinModule), not a test runner's or bundler's registry that may
 * not load ES modules, and on first use, so a CLI that never verifies a token never loads it.
 */
import { createRequire as ownCreateRequire } from 'node:module';
import type * as Jose from 'jose';

let loaded: typeof Jose | undefined;

export function jose(): typeof Jose {
  if (!loaded) {
    const nodeModule = process.getBuiltinModule?.('node:module') as typeof import('node:module') | undefined;
    loaded = (nodeModule?.createRequire ?? ownCreateRequire)(__filename)('jose') as typeof Jose;
  }
  return loaded;
}
