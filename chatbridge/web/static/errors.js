// A failed answer in plain words: a headline, one line per target of the route (a target
// tried twice is one line), what to do, and the server's own text for the details toggle.
// error: {message, status, code, inBand, retryAfter, attempts: [{target, outcome, error,
// message}]} (the attempts are the server's error.chatbridge.attempts), or as an earlier
// version of the page stored it: {message, status, code, hint}.

// What happened to a target, by the class of its error (chatbridge's exception tree).
const WORDS = {
  ConnectError: "could not be reached: is the site up, and its URL right?",
  RequestTimeoutError: "did not answer in time",
  FirstTokenTimeout: "sent no text in time",
  StallTimeout: "went silent in the middle of its answer",
  ResponseTooLargeError: "sent a reply larger than the size limit",
  TransportError: "the connection to it failed",
  RateLimitError: "is rate limited (too many requests)",
  MissingAuthError: "asks for credentials that are not set",
  ChallengeError: "is behind a bot check (a Cloudflare challenge)",
  CloudflareError: "is behind a bot check (a Cloudflare challenge)",
  BlockedError: "blocked the request (a firewall or a login wall)",
  ResponseStatusError: "answered with an HTTP error",
  NonceError: "refused the chat's security token, even a fresh one",
  UpstreamError: "its AI service failed (quota, key or model)",
  PluginError: "its chat plugin answered with an error",
  NotAIPowerSiteError: "has no AI Power chat on its page",
  MissingTokenError: "its page lacks what the chat needs",
  MissingSiteError: "has no site URL set",
  EmptyResponseError: "answered with no text",
  TruncatedStreamError: "cut its answer off",
  ResponseError: "sent a reply that could not be read",
  ContextLengthError: "cannot take a conversation this long",
  ContentFilterError: "refused it (its content policy)",
  InvalidRequestError: "refused the request",
  ModelNotSupportedError: "does not offer this model",
};

// Why a target was not asked (the router's reasons).
const SKIPPED = {
  "circuit breaker open": "not asked: it failed just before, so it rests for a while",
  "circuit breaker half-open, its one probe in flight":
    "not asked: another request is checking whether it is back",
  "cooling down after a rate limit": "not asked: it is cooling down after a rate limit",
  "cannot continue a partial answer": "not asked: it cannot continue a partial answer",
};

// The headline when the error names a route's targets, by the server's code.
const HEADLINES = {
  upstream_timeout: "No target of this route answered in time.",
  upstream_unavailable: "No target of this route can be asked right now.",
  rate_limit_exceeded: "Every target of this route is rate limited.",
  stream_truncated: "The answer was cut off, and no other target could continue it.",
};
const HEADLINE = "No target of this route could answer.";

function wordsFor(attempt) {
  if (attempt.outcome === "skipped") {
    return SKIPPED[attempt.message] || "not asked: " + (attempt.message || "skipped");
  }
  if (attempt.outcome === "answered" || attempt.outcome === "continued") {
    return "began to answer";
  }
  const words = WORDS[attempt.error] || "failed";
  if (attempt.error !== "ResponseStatusError") return words;
  // an HTTP status, or an error the upstream sent in words of its own
  const status = /\bHTTP (\d{3})\b/.exec(attempt.message || "");
  if (status) return `${words} (${status[1]})`;
  return attempt.message ? "sent an error: " + attempt.message : words;
}

const RANK = { failed: 3, answered: 2, continued: 2, skipped: 1 };

// One line per target, in the order they were tried: its most telling outcome (a failure
// over a start over a skip), and how often it was tried when more than once.
export function targetLines(attempts) {
  const byTarget = new Map();
  for (const attempt of attempts || []) {
    const seen = byTarget.get(attempt.target) || { tries: 0, shown: null };
    if (attempt.outcome !== "skipped") seen.tries += 1;
    const rank = RANK[attempt.outcome] || 0;
    if (!seen.shown || rank >= (RANK[seen.shown.outcome] || 0)) seen.shown = attempt;
    byTarget.set(attempt.target, seen);
  }
  return [...byTarget].map(([target, { tries, shown }]) => {
    const times = tries === 2 ? " (tried twice)" : tries > 2 ? ` (tried ${tries} times)` : "";
    return `${target}${times}: ${wordsFor(shown)}`;
  });
}

// What to do about an error, from its status and code (the server's OpenAI error object).
export function hintFor(error) {
  const code = error.code || "";
  if (error.status === 0 && code === "network_error") {
    return "Check that chatbridge serve is still running, then press Retry.";
  }
  if (error.inBand && error.status === 0) {
    return "The connection to the server broke: the text above is incomplete. Check that "
      + "chatbridge serve is still running, then press Retry.";
  }
  if (error.inBand) {
    return "The answer broke off: the text above is incomplete. Press Retry to ask again.";
  }
  if (error.status === 401) return "Enter a valid API key for this server, then press Retry.";
  if (error.status === 404) return "Pick another model from the list at the top, then press Retry.";
  if (error.status === 413) return "The conversation is too long for this server: start a new chat.";
  if (code === "context_length_exceeded") {
    return "The conversation is too long for this model: start a new chat.";
  }
  if (code.startsWith("content")) return "The service refused this request: rephrase it.";
  if (error.status === 429) {
    const wait = error.retryAfter ? ` ${error.retryAfter} s` : " a moment";
    return `Too many requests: wait${wait}, then press Retry.`;
  }
  if (code === "upstream_unavailable" && error.retryAfter) {
    return `Every target is resting: try again in ${error.retryAfter} s, or pick another model.`;
  }
  if (error.status >= 500) {
    return "Try again in a moment, or pick another model.";
  }
  return "Check the message above, then press Retry.";
}

// {headline, lines, hint, details}: what the error card shows.
export function describeError(error) {
  const attempts = error.attempts || [];
  // the route's targets failed (a refused request keeps the server's words: they say why)
  const failed = attempts.length && (error.inBand || error.status === 429 || error.status >= 500);
  const headline = failed ? HEADLINES[error.code] || HEADLINE : error.message;
  const status = !error.inBand && error.status ? "HTTP " + error.status : "";
  const said = [status, error.code].filter(Boolean).join(", ");
  const details = (said ? said + "\n" : "") + error.message;
  return { headline, lines: targetLines(attempts), hint: error.hint || hintFor(error), details };
}
