// Worker and bundler logs at WARN in tests: a failing test's output should show the failure, not the chatter.
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process
}
