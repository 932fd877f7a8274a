/** What the worker bundles: the case workflow. */
export { incidentCase } from './incident-case';
