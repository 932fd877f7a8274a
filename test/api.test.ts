/** The HTTP API over real HTTP: the intake server on port 0, a real worker, bearer tokens and JWTs. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CaseView } from '../src/domain';
import { API_PREFIX, apiAuthFromEnv, createAuthenticator, OPENAPI_PATH, openApiDocument, openApiText, ROUTES } from '../src/api';
import { jose } from '../src/api/jose';
import { createIntakeServer } from '../src/intake/server';
import { eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';

const run = promisify(execFile);
const WARDEN = resolve(__dirname, '../bin/warden');
const ISSUER = 'https://idp.test.example/';
const AUDIENCE = 'warden-api';
const TOKENS = { bob: 'bob-static-token-0123456789', alice: 'alice-static-token-0123456789', mallory: 'mallory-static-token-0123456789' };

type PrivateKey = Awaited<ReturnType<ReturnType<typeof jose>['generateKeyPair']>>['privateKey'];

const listen = (server: Server) =>
  new Promise<string>((ok) => server.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
const close = (server?: Server) => new Promise((ok) => (server ? server.close(ok) : ok(undefined)));

describe('HTTP API', () => {
  const policy = testPolicy({
    people: { alice: { name: 'Alice Example', email: 'alice@corp.example' } },
    parties: [{ id: 'mssp', name: 'Managed security provider', email: 'soc@mssp.example', acknowledgeWithin: '1h' }],
  });
  let w: TestWarden;
  let intake: Server;
  let jwksServer: Server;
  let base: string;
  let caseId: string;
  let signingKey: PrivateKey;
  let otherKey: PrivateKey;

  beforeAll(async () => {
    const { generateKeyPair, exportJWK } = jose();
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwksServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    const jwksBase = await listen(jwksServer);

    w = await startWarden(policy);
    intake = createIntakeServer({
      client: w.client,
      policy,
      taskQueue: w.taskQueue,
      api: {
        tokens: Object.entries(TOKENS).map(([identity, token]) => ({ identity, token })),
        oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: `${jwksBase}/jwks.json` },
      },
    });
    base = await listen(intake);
    caseId = (await w.file(sampleReport({ title: 'API case: phishing email with spoofed sender' }))).caseId;
    await eventually(async () => ((await w.view(caseId)) as CaseView).stage === 'responding' || undefined, 'responding');
  });
  afterAll(async () => {
    await close(intake);
    await close(jwksServer);
    await w?.stop();
  });

  const call = (path: string, token?: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${base}${API_PREFIX}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  const jwt = (claims: Record<string, unknown>, opts: { issuer?: string; audience?: string; exp?: number; key?: PrivateKey } = {}) => {
    const { SignJWT } = jose();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(opts.issuer ?? ISSUER)
      .setAudience(opts.audience ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 300)
      .sign(opts.key ?? signingKey);
  };

  test('a static token lists the case and shows it', async () => {
    const rows = await eventually(async () => {
      const res = await call('/cases?stage=responding&category=phishing', TOKENS.bob);
      expect(res.status).toBe(200);
      const { cases } = (await res.json()) as { cases: { caseId: string }[] };
      return cases.some((r) => r.caseId === caseId) ? cases : undefined;
    }, 'the case in the list');
    expect(rows.find((r) => r.caseId === caseId)).toMatchObject({ category: 'phishing', severity: 'SEV4', queue: 'soc', status: 'RUNNING' });

    const shown = await call(`/cases/${caseId}`, TOKENS.bob);
    expect(shown.status).toBe(200);
    expect(await shown.json()).toMatchObject({ caseId, stage: 'responding', evidenceCount: 1 });
    expect((await call(`/cases/case-${caseId}`, TOKENS.bob)).status).toBe(200);

    const bad = await call('/cases?severity=SEV9&colour=red', TOKENS.bob);
    expect(bad.status).toBe(400);
    const reasons = ((await bad.json()) as { reasons: string[] }).reasons.join('\n');
    expect(reasons).toContain('query.severity');
    expect(reasons).toContain('colour');

    const unknown = await call('/cases/WRD-000000000000', TOKENS.bob);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'no case WRD-000000000000' });
  });

  test('acknowledge as an analyst: the timeline shows the authenticated identity', async () => {
    const withActor = await call(`/cases/${caseId}/acknowledge`, TOKENS.bob, { method: 'POST', body: { actor: 'alice' } });
    expect(withActor.status).toBe(400);
    expect(((await withActor.json()) as { reasons: string[] }).reasons.join()).toContain('actor');

    const res = await call(`/cases/${caseId}/acknowledge`, TOKENS.bob, { method: 'POST' });
    expect(res.status).toBe(200);
    const view = (await res.json()) as CaseView;
    expect(view.acknowledgedBy).toBe('bob');
    expect(view.timeline).toContainEqual(expect.objectContaining({ actor: 'bob', action: 'acknowledged' }));

    const again = await call(`/cases/${caseId}/acknowledge`, TOKENS.alice, { method: 'POST', body: {} });
    expect(again.status).toBe(403);
    expect(((await again.json()) as { error: string }).error).toContain('already acknowledged by bob');

    const noReason = await call(`/cases/${caseId}/escalate`, TOKENS.bob, { method: 'POST', body: { reason: ' ' } });
    expect(noReason.status).toBe(400);
    expect(await noReason.json()).toEqual({ error: 'invalid body', reasons: ['body.reason: a reason is required'] });
  });

  test('a sign-off the policy does not allow is 403 with the reason, and the history is unchanged', async () => {
    const handle = w.handle(caseId);
    const historyLength = async () => (await handle.fetchHistory()).events?.length ?? 0;
    // Let the acknowledgement's follow-up work (the case card) finish first.
    let before = await historyLength();
    await eventually(async () => {
      await new Promise((r) => setTimeout(r, 750));
      const now = await historyLength();
      const settled = now === before;
      before = now;
      return settled || undefined;
    }, 'a quiet history');
    const viewBefore = (await w.view(caseId)) as CaseView;

    const res = await call(`/cases/${caseId}/signoff`, TOKENS.bob, { method: 'POST', body: { criterion: 'containment-confirmed', note: 'done' } });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: string; reasons: string[] };
    expect(body.error).toContain('bob may not sign off containment-confirmed');
    expect(body.reasons[0]).toMatch(/^bob may not sign off containment-confirmed: the policy allows/);

    await new Promise((r) => setTimeout(r, 500));
    expect(await historyLength()).toBe(before);
    expect(await w.view(caseId)).toEqual(viewBefore);
  });

  test('no token, a wrong token or a person outside the policy is refused', async () => {
    const none = await call('/cases');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="warden"');

    const wrong = await call('/cases', `${TOKENS.bob}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const basic = await fetch(`${base}${API_PREFIX}/cases`, { headers: { authorization: 'Basic Ym9iOmJvYg==' } });
    expect(basic.status).toBe(401);

    const outsider = await call('/cases', TOKENS.mallory);
    expect(outsider.status).toBe(403);
    expect(await outsider.json()).toEqual({ error: 'mallory holds no role in the policy' });
  });

  test('JWTs: verified against the JWKS, with issuer, audience and expiry checked', async () => {
    const valid = await call(`/cases/${caseId}`, await jwt({ preferred_username: 'carol' }));
    expect(valid.status).toBe(200);

    // The identity claim may be an e-mail address that `people` maps to a person.
    const byEmail = await call(`/cases/${caseId}/assign`, await jwt({ sub: 'x-123', preferred_username: 'alice@corp.example' }), {
      method: 'POST',
      body: { assignee: 'carol' },
    });
    expect(byEmail.status).toBe(200);
    expect(((await byEmail.json()) as CaseView).timeline).toContainEqual(expect.objectContaining({ actor: 'alice', action: 'assigned carol' }));

    const sub = await call('/cases', await jwt({ sub: 'dave' }));
    expect(sub.status).toBe(200);

    const refused = async (token: string, why: string) => {
      const res = await call('/cases', token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(((await res.json()) as { error: string }).error).toContain(why);
    };
    await refused(await jwt({ preferred_username: 'carol' }, { exp: Math.floor(Date.now() / 1000) - 600 }), '"exp" claim timestamp check failed');
    await refused(await jwt({ preferred_username: 'carol' }, { audience: 'someone-else' }), 'unexpected "aud" claim value');
    await refused(await jwt({ preferred_username: 'carol' }, { issuer: 'https://evil.example/' }), 'unexpected "iss" claim value');
    await refused(await jwt({ preferred_username: 'carol' }, { key: otherKey }), 'signature verification failed');

    const stranger = await call('/cases', await jwt({ preferred_username: 'eve' }));
    expect(stranger.status).toBe(403);
  });

  test('the OpenAPI document: served, committed, and lists every route the router serves', async () => {
    const res = await fetch(`${base}${API_PREFIX}/openapi.json`);
    expect(res.status).toBe(200);
    const served = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(served).toEqual(openApiDocument());
    expect(readFileSync(OPENAPI_PATH, 'utf8')).toBe(openApiText()); // regenerate: npx ts-node --transpile-only src/api/openapi.ts
    expect(served.openapi).toBe('3.1.0');
    for (const route of ROUTES) expect(served.paths[route.path]?.[route.method.toLowerCase()]).toBeDefined();
    const documented = Object.entries(served.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());

    // Every documented operation answers (not "no route"), and with a status it documents.
    for (const [path, ops] of Object.entries(served.paths))
      for (const [method, op] of Object.entries(ops as Record<string, { responses: Record<string, unknown> }>)) {
        const answer = await call(path.replace('{id}', 'WRD-000000000000'), TOKENS.alice, { method: method.toUpperCase(), ...(method === 'post' ? { body: {} } : {}) });
        const text = await answer.text();
        expect(text).not.toContain('no route');
        expect(Object.keys(op.responses)).toContain(String(answer.status));
      }
    expect((await call('/cases', TOKENS.bob, { method: 'DELETE' })).status).toBe(405);
    expect((await call('/nothing', TOKENS.bob)).status).toBe(404);
  });

  test('without credentials configured the API is off', async () => {
    const plain = createIntakeServer({ client: w.client, policy, taskQueue: w.taskQueue });
    const plainBase = await listen(plain);
    try {
      for (const path of ['/cases', '/openapi.json']) {
        const res = await fetch(`${plainBase}${API_PREFIX}${path}`, { headers: { authorization: `Bearer ${TOKENS.bob}` } });
        expect(res.status).toBe(404);
      }
    } finally {
      await close(plain);
    }
  });

  test('the CLI through --api shows the same case and acts as the token', async () => {
    const cli = async (args: string[], env: Record<string, string> = {}) => {
      try {
        const { stdout, stderr } = await run(WARDEN, args, { env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', ...env } });
        return { code: 0, stdout, stderr };
      } catch (err) {
        return err as { code: number; stdout: string; stderr: string };
      }
    };
    const direct = (await (await call(`/cases/${caseId}`, TOKENS.bob)).json()) as CaseView;
    const shown = await cli(['--api', base, '--token', TOKENS.bob, 'cases', 'show', caseId, '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(direct);

    const listed = await cli(['cases', 'list', '--stage', 'responding', '--json'], { WARDEN_API_URL: base, WARDEN_API_TOKEN: TOKENS.bob });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { caseId: string }[]).map((r) => r.caseId)).toContain(caseId);

    const refused = await cli(['--api', base, '--token', TOKENS.bob, 'signoff', caseId, 'containment-confirmed']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused: bob may not sign off containment-confirmed');

    const signed = await cli(['--api', base, '--token', TOKENS.alice, 'signoff', caseId, 'containment-confirmed', '--note', 'mailbox purged', '--json']);
    expect(signed.code).toBe(0);
    expect((JSON.parse(signed.stdout) as CaseView).recovery[0]).toMatchObject({ id: 'containment-confirmed', passed: true, by: 'alice', detail: 'mailbox purged' });

    const badToken = await cli(['--api', base, '--token', 'nope', 'cases', 'list']);
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toContain('401');
  });
  test('the declared incident’s actions through the API and the CLI: scope, filings, parties and evidence', async () => {
    const cli = async (args: string[]) => {
      try {
        const { stdout, stderr } = await run(WARDEN, ['--api', base, ...args], { env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' } });
        return { code: 0, stdout, stderr };
      } catch (err) {
        return err as { code: number; stdout: string; stderr: string };
      }
    };
    const incident = (await w.file(sampleReport({ title: `Customer export found on a public share (API test ${Date.now()})`, dataClasses: ['personal'] }))).caseId;
    const post = (action: string, token: string, body: unknown) => call(`/cases/${incident}/${action}`, token, { method: 'POST', body });
    // Personal data escalates by itself (regulated data): a declared incident with the GDPR clock and the MSSP.
    await eventually(async () => {
      const v = (await w.view(incident)) as CaseView;
      return v.escalated && v.clocks.length === 1 && v.parties[0]?.status === 'notified' ? v : undefined;
    }, 'declared, clock running, party notified', 60_000);

    const scoped = await cli(['--token', TOKENS.bob, 'scope', incident, '--affected', '300', '--jurisdiction', 'US-TX', '--reason', 'CRM export: Texas addresses', '--json']);
    expect(scoped.code).toBe(0);
    expect((JSON.parse(scoped.stdout) as CaseView).clocks.map((c) => c.key)).toEqual(['gdpr-art33/notify-authority', 'texas-521-053/notify-attorney-general']);
    const badScope = await post('scope', TOKENS.bob, { reason: 'x', jurisdictions: ['texas'] });
    expect(badScope.status).toBe(400);
    expect(((await badScope.json()) as { reasons: string[] }).reasons.join()).toContain('a jurisdiction code such as EU, US-CA or EU-DE');

    const notOwner = await post('file', TOKENS.bob, { clock: 'gdpr-art33/notify-authority', reference: 'DPA-1' });
    expect(notOwner.status).toBe(403);
    expect(((await notOwner.json()) as { error: string }).error).toContain('bob may not record the filing of GDPR Art. 33');
    const filed = await post('file', TOKENS.alice, { clock: 'gdpr-art33/notify-authority', reference: 'DPA-1' });
    expect(filed.status).toBe(200);
    expect(((await filed.json()) as CaseView).clocks[0].filed).toMatchObject({ by: 'alice', reference: 'DPA-1' });

    expect((await post('acknowledge-party', TOKENS.bob, { party: 'mssp', reason: 'confirmed by phone' })).status).toBe(200);
    await eventually(async () => (((await w.view(incident)) as CaseView).parties[0].status === 'acknowledged' ? true : undefined), 'party acknowledged');

    const sha256 = 'ab'.repeat(32);
    const evidence = await post('record-evidence', TOKENS.bob, { description: 'memory image', collectedFrom: 'laptop-1234', sha256, storageRef: 's3://evidence/mem.lime' });
    expect(evidence.status).toBe(200);
    expect(((await evidence.json()) as CaseView).evidenceItems[0]).toMatchObject({ id: 'E1', collectedBy: 'bob', sha256, holder: 'bob' });
    const handed = await post('transfer-custody', TOKENS.bob, { item: 'E1', to: 'carol', reason: 'to the forensics lab' });
    expect(((await handed.json()) as CaseView).evidenceItems[0].custody).toEqual([expect.objectContaining({ from: 'bob', to: 'carol', by: 'bob' })]);

    const shown = await cli(['--token', TOKENS.bob, 'regulatory', incident]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/clock +gdpr-art33\/notify-authority: filed by alice \(DPA-1\)/);
    expect(shown.stdout).toMatch(/clock +texas-521-053\/notify-attorney-general: 30d left/);
  });
});

describe('API credentials', () => {
  test('from the environment: none is off, tokens parse, OIDC needs all three settings', () => {
    expect(apiAuthFromEnv({})).toBeUndefined();
    expect(apiAuthFromEnv({ WARDEN_API_TOKENS: ' bob:t1 , ci-bot:t:2 ' })).toEqual({
      tokens: [
        { identity: 'bob', token: 't1' },
        { identity: 'ci-bot', token: 't:2' },
      ],
    });
    expect(() => apiAuthFromEnv({ WARDEN_API_TOKENS: 'just-a-token' })).toThrow('identity:token');
    expect(() => apiAuthFromEnv({ WARDEN_OIDC_ISSUER: ISSUER })).toThrow('WARDEN_OIDC_AUDIENCE');
    expect(apiAuthFromEnv({ WARDEN_OIDC_ISSUER: ISSUER, WARDEN_OIDC_AUDIENCE: AUDIENCE, WARDEN_OIDC_JWKS_URL: 'http://idp/jwks', WARDEN_OIDC_IDENTITY_CLAIM: 'upn' })).toEqual({
      oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'http://idp/jwks', identityClaim: 'upn' },
    });
  });

  test('a configured identity claim is used; unreachable keys are 503, not 401', async () => {
    const { generateKeyPair, exportJWK, SignJWT } = jose();
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'e1', alg: 'ES256' };
    const keys = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
    const jwksUrl = `${await listen(keys)}/keys`;
    const policy = testPolicy();
    const token = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'e1' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(privateKey);
    const request = (t: string) => ({ headers: { authorization: `Bearer ${t}` } }) as unknown as IncomingMessage;
    try {
      const upn = createAuthenticator({ oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl, identityClaim: 'upn' } }, policy);
      await expect(upn(request(await token({ upn: 'dave', preferred_username: 'bob' })))).resolves.toBe('dave');
      await expect(upn(request(await token({ preferred_username: 'bob' })))).rejects.toMatchObject({ status: 401 });
    } finally {
      await close(keys);
    }
    const unreachable = createAuthenticator({ oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl } }, policy);
    await expect(unreachable(request(await token({ preferred_username: 'bob' })))).rejects.toMatchObject({ status: 503 });
  });
});
