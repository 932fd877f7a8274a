/** The API from the other side: what the CLI uses with --api/--token (or WARDEN_API_URL/WARDEN_API_TOKEN). */
import type { CaseView } from '../domain';
import { type ActionInputs, type ActionName, ActionRefusedError, type CaseFilter, type CaseListRow, CaseNotFoundError, CaseUnavailableError } from './cases';
import { API_PREFIX, actionPath } from './routes';

/** Any other answer than 200: its status and the server's error text (with its reasons). */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ApiClient {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
  ) {
    this.base = `${baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}${API_PREFIX}`;
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await res.json().catch(() => ({}))) as { error?: string; reasons?: string[] } & T;
    if (res.ok) return answer;
    const message = answer.error ?? `${res.status} ${res.statusText}`;
    if (res.status === 403 && message.startsWith('refused: ')) throw new ActionRefusedError(message.slice('refused: '.length));
    if (res.status === 404 && path.startsWith('/cases/')) throw new CaseNotFoundError(decodeURIComponent(path.split('/')[2]));
    if (res.status === 409) throw new CaseUnavailableError(message);
    const reasons = answer.reasons?.length && res.status === 400 ? `:\n  ${answer.reasons.join('\n  ')}` : '';
    throw new ApiRequestError(res.status, `${res.status}: ${message}${reasons}`);
  }

  async listCases(filter: CaseFilter = {}): Promise<CaseListRow[]> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) if (value !== undefined && value !== false) query.set(key, String(value));
    const qs = query.toString();
    return (await this.request<{ cases: CaseListRow[] }>('GET', `/cases${qs ? `?${qs}` : ''}`)).cases;
  }

  fetchCase(caseRef: string): Promise<CaseView> {
    return this.request('GET', `/cases/${encodeURIComponent(caseRef)}`);
  }

  act<A extends ActionName>(caseRef: string, action: A, input: ActionInputs[A]): Promise<CaseView> {
    const body = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
    return this.request('POST', `/cases/${encodeURIComponent(caseRef)}/${actionPath(action)}`, body);
  }
}
