/**
 * A loopback server speaking the OpenAI chat-completions protocol (POST /v1/chat/completions),
 * answering from a script the test supplies. It checks the request's shape the way the protocol
 * requires (model, messages with role and content) and records every request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
  response_format?: { type: string; json_schema?: { name: string; schema: Record<string, unknown> } };
  temperature?: number;
}

/** What the scripted model does: answer with content, an HTTP status, or hang. */
export type ModelBehaviour = { content: string } | { status: number } | { hang: true };

export interface ChatSimulator {
  baseUrl: string;
  requests: ChatRequest[];
  violations: string[];
  script: (request: ChatRequest) => ModelBehaviour;
  close(): Promise<void>;
}

export async function startChatSimulator(script: ChatSimulator['script']): Promise<ChatSimulator> {
  const sim = { requests: [] as ChatRequest[], violations: [] as string[], script } as ChatSimulator;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    let body: ChatRequest;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
    } catch {
      sim.violations.push('body is not JSON');
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'invalid JSON', type: 'invalid_request_error' } }));
      return;
    }
    if (typeof body.model !== 'string') sim.violations.push('model missing');
    if (!Array.isArray(body.messages) || !body.messages.every((m) => typeof m.role === 'string' && typeof m.content === 'string'))
      sim.violations.push('messages must be [{role, content}]');
    sim.requests.push(body);
    const behaviour = sim.script(body);
    if ('hang' in behaviour) return; // never answers; the client's timeout must fire
    if ('status' in behaviour) {
      res.writeHead(behaviour.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'scripted failure', type: 'server_error' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id: `chatcmpl-${sim.requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: behaviour.content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      }),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  sim.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  sim.close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return sim;
}
