/**
 * The production build's workflow bundle: the case workflows bundled once, at build time, so
 * workers start without webpack and every worker of a deployment runs byte-identical workflow
 * code. `npm run build:prod` writes dist/workflow-bundle.js; a worker uses it when
 * WARDEN_WORKFLOW_BUNDLE names it (the Docker image sets this).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleCaseWorkflowCode } from '../src/workflow-bundle';

async function main(): Promise<void> {
  const out = resolve(__dirname, '../dist/workflow-bundle.js');
  const { code } = await bundleCaseWorkflowCode();
  writeFileSync(out, code);
  console.log(`wrote ${out} (${(code.length / 1024 / 1024).toFixed(2)} MB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
