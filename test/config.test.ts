/** Runtime configuration from the environment. */
import { loadConfig } from '../src/config';

test('the worker cache size: 1,000 cases by default, any whole number by WARDEN_MAX_CACHED_WORKFLOWS, a clear error otherwise', () => {
  expect(loadConfig({}).maxCachedWorkflows).toBe(300);
  expect(loadConfig({ WARDEN_MAX_CACHED_WORKFLOWS: '250' }).maxCachedWorkflows).toBe(250);
  expect(() => loadConfig({ WARDEN_MAX_CACHED_WORKFLOWS: 'lots' })).toThrow('WARDEN_MAX_CACHED_WORKFLOWS must be a whole number, 0 or more (got "lots")');
});
