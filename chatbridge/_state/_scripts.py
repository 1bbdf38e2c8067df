"""The Lua scripts of the Redis store: each runs atomically inside Redis, so several
processes stepping the same key never interleave. Times are Redis's own (``TIME``), never a
host's clock, so hosts whose clocks differ still agree."""

from __future__ import annotations

__all__ = [
    "AVERAGE",
    "HIT",
    "INCR",
    "OPEN_LEAST",
    "OPEN_SLOT",
    "PUT_UNIQUE",
    "RELEASE",
    "SLOT_COUNTS",
    "TAKE",
    "TALLIES",
    "TALLY",
    "TTLS",
]

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

# The live slots of each key (expired ones dropped first).
SLOT_COUNTS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  counts[i] = redis.call('ZCARD', key)
end
return counts
"""

# ARGV: the sample, its weight (0 to 1), the lifetime (ms). A value that is not a number is
# replaced. Returns the new average as a string (Lua's numbers would be cut to integers).
AVERAGE = """
local v = tonumber(redis.call('GET', KEYS[1]) or '')
local s = tonumber(ARGV[1])
if v then s = v + tonumber(ARGV[2]) * (s - v) end
redis.call('SET', KEYS[1], string.format('%.17g', s), 'PX', ARGV[3])
return string.format('%.17g', s)
"""

# KEYS: the counters, then (when marked) the writer's set of marks. ARGV: lifetime (ms), the
# number of counters, marked (1/0), the mark's seq and low, then for each counter its number
# of fields and, per field, name, amount and limit ('' for none). Nothing is added when a
# limit would be passed, or when the mark says it was added already (the marks below low are
# dropped first: their counts are never sent again). Returns the outcome (1: added now or
# before, 0: refused), then every field's value.
TALLY = """
local n = tonumber(ARGV[2])
local marked = ARGV[3] == '1'
local done = false
if marked then
  redis.call('ZREMRANGEBYSCORE', KEYS[n + 1], '-inf', '(' .. ARGV[5])
  done = redis.call('ZSCORE', KEYS[n + 1], ARGV[4]) ~= false
end
local plan, pos, over = {}, 6, false
for i = 1, n do
  local count = tonumber(ARGV[pos])
  pos = pos + 1
  for _ = 1, count do
    local field, amount, limit = ARGV[pos], tonumber(ARGV[pos + 1]), ARGV[pos + 2]
    pos = pos + 3
    local value = tonumber(redis.call('HGET', KEYS[i], field) or '0') or 0
    if limit ~= '' and not done then
      local most = tonumber(limit)
      if (amount == 0 and value >= most) or (amount > 0 and value + amount > most) then
        over = true
      end
    end
    plan[#plan + 1] = {i, field, amount, value}
  end
end
local apply = not over and not done
local out = {(apply or done) and 1 or 0}
for _, step in ipairs(plan) do
  local value = step[4]
  if apply and step[3] ~= 0 then value = redis.call('HINCRBY', KEYS[step[1]], step[2], step[3]) end
  out[#out + 1] = value
end
if apply then
  for i = 1, n do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
  if marked then
    redis.call('ZADD', KEYS[n + 1], ARGV[4], ARGV[4])
    redis.call('PEXPIRE', KEYS[n + 1], 86400000)
  end
end
return out
"""

# Every field of each counter, as flat name/value lists.
TALLIES = """
local all = {}
for i, key in ipairs(KEYS) do all[i] = redis.call('HGETALL', key) end
return all
"""

# KEYS: slot sets. ARGV: lifetime (microseconds), the slot's id, then each key's most (0: no
# limit). Opens the slot on the key with the fewest live slots among those below their most,
# the first among ties. Returns its index (0: every key full), then every key's count before.
OPEN_LEAST = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local counts, best = {}, nil
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  counts[i] = redis.call('ZCARD', key)
  local most = tonumber(ARGV[2 + i])
  if (most == 0 or counts[i] < most) and (best == nil or counts[i] < counts[best]) then
    best = i
  end
end
if best then
  redis.call('ZADD', KEYS[best], now + tonumber(ARGV[1]), ARGV[2])
  local last = redis.call('ZRANGE', KEYS[best], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[best], math.ceil((tonumber(last[2]) - now) / 1000))
end
table.insert(counts, 1, best or 0)
return counts
"""
