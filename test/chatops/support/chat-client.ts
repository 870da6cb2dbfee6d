import { randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { slackSignature } from "../../../src/chatops/slack-signature";
import { webhookSignature } from "../../../src/chatops/webhook-signature";

export interface SlackSendOptions {
  secret: string;
  ts?: number;
  headers?: Record<string, string>;
  /** Send exactly these bytes (a replay) instead of building a body. */
  body?: string;
  signature?: string;
}

export function slackBody(fields: {
  team?: string;
  user: string;
  text: string;
  responseUrl?: string;
  channel?: string;
}): string {
  return new URLSearchParams({
    team_id: fields.team ?? "",
    user_id: fields.user,
    ...(fields.channel ? { channel_id: fields.channel } : {}),
    command: "/stackyard",
    text: fields.text,
    ...(fields.responseUrl ? { response_url: fields.responseUrl } : {}),
    trigger_id: randomBytes(12).toString("hex"),
  }).toString();
}

/** Posts a slash command the way Slack does: form body, timestamp and v0 signature headers. */
export async function sendSlack(base: string, body: string, o: SlackSendOptions) {
  const t0 = performance.now();
  const { res, ts, signature } = await postSignedForm(`${base}/v1/hooks/slack`, body, o);
  const json = (await res.json()) as any;
  return { status: res.status, body: json, ms: performance.now() - t0, ts, signature };
}

export async function sendHook(
  base: string,
  payload: object,
  secret: string,
  ts = Math.floor(Date.now() / 1000),
) {
  const body = JSON.stringify(payload);
  const res = await fetch(`${base}/v1/hooks/chat`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-stackyard-timestamp": String(ts),
      "x-stackyard-signature": webhookSignature(secret, String(ts), body),
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

/**
 * A local HTTP server posing as Slack's response_url: records every JSON message posted to it. The
 * service posts only to the loopback ports it was configured with (STACKYARD_SANDBOX_REPLY_PORTS).
 */
export async function startReplyCatcher(port = 0) {
  const messages: Array<{ path: string; body: any }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      messages.push({
        path: req.url ?? "",
        body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}"),
      });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    messages,
    async waitFor(pred: (m: { path: string; body: any }) => boolean, timeoutMs = 300_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const hit = messages.find(pred);
        if (hit) return hit;
        if (Date.now() > until)
          throw new Error(`no matching reply after ${timeoutMs} ms; got ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A button click as Slack sends it: `payload=<block_actions JSON>`, form-encoded, signed like a slash command. */
export function blockActionsBody(fields: {
  team: string;
  user: string;
  actionId: string;
  value: string;
  responseUrl?: string;
  channel?: string;
  messageTs?: string;
}): string {
  const payload = {
    type: "block_actions",
    team: { id: fields.team, domain: "stackyard-test" },
    user: { id: fields.user, team_id: fields.team, username: fields.user.toLowerCase() },
    api_app_id: "A0STACKYARD",
    trigger_id: randomBytes(12).toString("hex"),
    container: { type: "message", message_ts: fields.messageTs ?? "1700000000.000100" },
    ...(fields.channel ? { channel: { id: fields.channel, name: "ops" } } : {}),
    ...(fields.messageTs ? { message: { ts: fields.messageTs, type: "message" } } : {}),
    ...(fields.responseUrl ? { response_url: fields.responseUrl } : {}),
    actions: [
      {
        type: "button",
        action_id: fields.actionId,
        block_id: `stackyard-approval-${fields.value}`,
        value: fields.value,
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Posts a signed interactivity payload to the service's actions route; Slack's ack is an empty 200. */
export async function sendSlackAction(base: string, body: string, o: SlackSendOptions) {
  const { res, ts, signature } = await postSignedForm(`${base}/v1/hooks/slack/actions`, body, o);
  const text = await res.text();
  return { status: res.status, text, ts, signature };
}

/**
 * A loopback stand-in for Slack's Web API (`chat.postMessage`, `chat.update`): records each call
 * with its Authorization header and answers as Slack does, `{ok: true, ts}`.
 */
export async function startFakeSlackApi(port: number) {
  const calls: Array<{ method: string; authorization: string; body: any }> = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      const method = (req.url ?? "").replace(/^\/api\//, "");
      calls.push({ method, authorization: req.headers.authorization ?? "", body });
      const ts = body.ts ?? `1700000${String(++n).padStart(3, "0")}.000200`;
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ ok: true, channel: body.channel, ts }));
    });
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    calls,
    async waitFor(
      pred: (c: { method: string; authorization: string; body: any }) => boolean,
      timeoutMs = 300_000,
    ) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const hit = calls.find(pred);
        if (hit) return hit;
        if (Date.now() > until)
          throw new Error(`no matching Web API call after ${timeoutMs} ms; got ${JSON.stringify(calls)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A form body posted as Slack signs it: the timestamp and the v0 signature over both (or the given ones). */
async function postSignedForm(url: string, body: string, o: SlackSendOptions) {
  const ts = String(o.ts ?? Math.floor(Date.now() / 1000));
  const signature = o.signature ?? slackSignature(o.secret, ts, body);
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": ts,
      "x-slack-signature": signature,
      ...o.headers,
    },
    body,
  });
  return { res, ts, signature };
}
