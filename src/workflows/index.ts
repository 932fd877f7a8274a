/** What the worker bundles: the case workflow. */
export { incidentCase } from './incident-case';
export { thirdPartyCoordination } from './third-party';
