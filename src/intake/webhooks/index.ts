/**
 * The tool webhooks, one source per format, each on its own path:
 *
 *   /webhooks/signed        Warden's report JSON, HMAC-signed           signedSecrets
 *   /webhooks/alertmanager  Prometheus Alertmanager webhook v4          alertmanagerToken (Bearer)
 *   /webhooks/guardduty     AWS GuardDuty findings via EventBridge      toolToken (X-Warden-Token)
 *   /webhooks/ocsf          OCSF Detection Finding (2004)               toolToken (X-Warden-Token)
 *   /webhooks/splunk        Splunk webhook alert action                 splunkToken (?token=)
 *   /webhooks/defender      Microsoft Graph security alerts_v2          toolToken (X-Warden-Token)
 *
 * Every source is always present. One whose secret is not configured refuses every request
 * with 401 "not configured", unless `allowUnauthenticated` names it (or is true): a forgotten
 * setting must close the door, not open it. The signed webhook has no unauthenticated mode
 * (/webhooks/generic is the unsigned one).
 */
import type { WebhookSource } from '../sources';
import { alertmanagerSource } from './alertmanager';
import { defenderSource } from './defender';
import { guardDutySource } from './guardduty';
import { ocsfSource } from './ocsf';
import { signedWebhookSource } from './signed';
import { splunkSource } from './splunk';

export type UnauthenticatedSource = 'alertmanager' | 'guardduty' | 'ocsf' | 'splunk' | 'defender';

export interface WebhookSourcesOptions {
  /** Secrets for /webhooks/signed; several at once while one is rotated. */
  signedSecrets?: string[];
  /** Alertmanager's bearer token (its receiver's http_config.authorization.credentials). */
  alertmanagerToken?: string | string[];
  /** The X-Warden-Token of GuardDuty (EventBridge API destination), OCSF and Defender senders. */
  toolToken?: string | string[];
  /** The ?token= of Splunk's webhook URL. */
  splunkToken?: string | string[];
  /**
   * Sources that accept requests without authentication while they have no token configured
   * (local use and demos). Default: none. A configured token is required regardless.
   */
  allowUnauthenticated?: boolean | UnauthenticatedSource[];
  /** The clock, in milliseconds (tests). */
  now?: () => number;
}

export function webhookSources(options: WebhookSourcesOptions = {}): WebhookSource[] {
  const open = (name: UnauthenticatedSource) =>
    options.allowUnauthenticated === true || (Array.isArray(options.allowUnauthenticated) && options.allowUnauthenticated.includes(name));
  return [
    signedWebhookSource({ secrets: options.signedSecrets, now: options.now }),
    alertmanagerSource({ token: options.alertmanagerToken, allowUnauthenticated: open('alertmanager') }),
    guardDutySource({ token: options.toolToken, allowUnauthenticated: open('guardduty') }),
    ocsfSource({ token: options.toolToken, allowUnauthenticated: open('ocsf') }),
    splunkSource({ token: options.splunkToken, allowUnauthenticated: open('splunk'), now: options.now }),
    defenderSource({ token: options.toolToken, allowUnauthenticated: open('defender') }),
  ];
}

export { alertmanagerSource, defenderSource, guardDutySource, ocsfSource, signedWebhookSource, splunkSource };
export { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signed';
export { TOKEN_HEADER } from './shared';
