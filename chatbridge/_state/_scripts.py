"""The Lua scripts of the Redis store: each runs atomically inside Redis, so several
processes stepping the same key never interleave. Times are Redis's own (``TIME``), never a
host's clock, so hosts whose clocks differ still agree."""

from __future__ import annotations

__all__ = ["HIT", "INCR", "OPEN_SLOT", "PUT_UNIQUE", "RELEASE", "TAKE", "TTLS"]

TAKE = """
local v = redis.call('GET', KEYS[1])
if v and v ~= '' then redis.call('DEL', KEYS[1]) end
return v
"""

PUT_UNIQUE = """
local cur = redis.call('GET', KEYS[1])
local mine = ARGV[1] .. '|'
if (not cur) or string.sub(cur, 1, #mine) == mine then
  redis.call('SET', KEYS[1], mine .. ARGV[2], 'PX', ARGV[3])
  return 1
end
redis.call('SET', KEYS[1], '', 'PX', ARGV[3])
return 0
"""

INCR = """
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# ARGV: limit, window (microseconds), a unique member. Returns 0 (counted) or microseconds
# until the oldest event leaves the window.
HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return math.max(tonumber(oldest[2]) + window - now, 1000)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return 0
"""

# ARGV: most (0: no limit), lifetime (microseconds), the slot's id. Slots are members of a
# sorted set scored by when they stop counting; expired ones are dropped first.
OPEN_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local most = tonumber(ARGV[1])
if most > 0 and redis.call('ZCARD', KEYS[1]) >= most then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(last[2]) - now) / 1000))
return 1
"""

# One command for several lifetimes: cheaper than a pipeline of PTTLs (one reply to parse).
TTLS = """
local left = {}
for i, key in ipairs(KEYS) do left[i] = redis.call('PTTL', key) end
return left
"""
