// The server's API as the page uses it: the key (session storage), /v1/models, the
// streamed /v1/chat/completions (OpenAI's SSE framing) and /ui/render. Every failure is an
// ApiError carrying the server's OpenAI error object.

const KEY_ITEM = "chatbridge.apiKey";

export function apiKey() {
  return sessionStorage.getItem(KEY_ITEM) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

function headers(json) {
  const result = {};
  if (json) result["Content-Type"] = "application/json";
  const key = apiKey();
  if (key) result.Authorization = "Bearer " + key;
  return result;
}

// A route's tries as the server lists them (error.chatbridge.attempts), strings only.
export function readAttempts(list) {
  if (!Array.isArray(list)) return [];
  const text = (value) => (typeof value === "string" ? value : null);
  return list.filter((a) => a && typeof a === "object" && typeof a.target === "string")
    .map((a) => ({ target: a.target, outcome: text(a.outcome), error: text(a.error),
      message: text(a.message) }));
}

export class ApiError extends Error {
  // status: the HTTP status (0: the server was not reached); inBand: the error arrived
  // inside a stream that had already begun; attempts: the route's tries, if it got that far.
  constructor(status, error, { retryAfter = null, inBand = false } = {}) {
    super(String((error && error.message) || "request failed"));
    this.status = status;
    this.type = (error && error.type) || null;
    this.code = (error && error.code) || null;
    this.param = (error && error.param) || null;
    this.retryAfter = retryAfter;
    this.inBand = inBand;
    this.attempts = readAttempts(error && error.chatbridge && error.chatbridge.attempts);
  }
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body && typeof body.error === "object" && body.error !== null
    ? body.error
    : { message: `the server answered HTTP ${response.status}` };
  return new ApiError(response.status, error, {
    retryAfter: response.headers.get("Retry-After"),
  });
}

function unreachable(cause) {
  return new ApiError(0, {
    message: "The server could not be reached (" + (cause && cause.message || cause) + ").",
    code: "network_error",
  });
}

async function send(url, init) {
  try {
    return await fetch(url, { cache: "no-store", credentials: "omit", ...init });
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw unreachable(error);
  }
}

export async function listModels() {
  const response = await send("/v1/models", { headers: headers(false) });
  if (!response.ok) throw await errorFrom(response);
  const body = await response.json();
  return Array.isArray(body.data) ? body.data : [];
}

export async function renderMarkdown(text) {
  const response = await send("/ui/render", {
    method: "POST",
    headers: headers(true),
    body: JSON.stringify({ text }),
  });
  if (!response.ok) throw await errorFrom(response);
  const body = await response.json();
  return String(body.html || "");
}

// Yields {delta} / {info} events of one streamed answer; returns when [DONE] arrives.
// Throws ApiError (before the first byte: the HTTP error; after it: the in-band error, or
// "incomplete" when the stream ends without [DONE]) or the AbortError of `signal`.
export async function* streamChat(model, messages, signal) {
  const response = await send("/v1/chat/completions", {
    method: "POST",
    headers: headers(true),
    body: JSON.stringify({ model, messages, stream: true }),
    signal,
  });
  if (!response.ok) throw await errorFrom(response);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (error && error.name === "AbortError") throw error;
        throw new ApiError(0, {
          message: "The connection broke before the answer was complete.",
          code: "stream_incomplete",
        }, { inBand: true });
      }
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split("\n").filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, "")).join("\n");
        if (!data) continue;
        if (data === "[DONE]") return;
        yield* parseEvent(data);
      }
    }
  } finally {
    reader.releaseLock();
  }
  throw new ApiError(200, {
    message: "The stream ended before the answer was complete.",
    code: "stream_incomplete",
  }, { inBand: true });
}

function* parseEvent(data) {
  let payload;
  try {
    payload = JSON.parse(data);
  } catch {
    throw new ApiError(200, { message: "The server sent an unreadable event.",
      code: "bad_event" }, { inBand: true });
  }
  if (payload && payload.error) {
    throw new ApiError(200, payload.error, { inBand: true });
  }
  if (payload && payload.chatbridge) yield { info: payload.chatbridge };
  const choice = payload && Array.isArray(payload.choices) ? payload.choices[0] : null;
  const text = choice && choice.delta && choice.delta.content;
  if (typeof text === "string" && text) yield { delta: text };
}
