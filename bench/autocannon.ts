/** The slice of autocannon's programmatic API (v9) the benches use; the package ships no types. */
export interface Histogram {
  average: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}

export interface AutocannonOptions {
  url: string;
  connections?: number;
  amount?: number;
  duration?: number;
  overallRate?: number;
  timeout?: number;
  headers?: Record<string, string>;
  requests?: AutocannonRequest[];
}

export interface AutocannonResult {
  latency: Histogram;
  requests: Histogram & { total: number; sent: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
  start: Date;
  finish: Date;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannonModule = require('autocannon') as (opts: AutocannonOptions) => Promise<AutocannonResult>;

export function autocannon(opts: AutocannonOptions): Promise<AutocannonResult> {
  return autocannonModule(opts);
}
