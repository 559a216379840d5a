-- GCRA for one key of one rule, atomically and in one round trip: Warden's admit step with budgets
-- shared by every replica. The arithmetic is `admit` in gcra.rs, here in microseconds (exact in a
-- Lua double until the year 2255).
-- KEYS[1]  the key's theoretical arrival time (TAT), in microseconds on this Redis server's clock
-- KEYS[2]  present while the key is blocked (rules with a block only)
-- ARGV[1]  emission interval T, microseconds
-- ARGV[2]  burst tolerance (B - 1) * T, microseconds
-- ARGV[3]  block after a refusal, milliseconds (0: the rule does not block)
-- Returns {1, 0} when the request is admitted, {0, wait in microseconds} when it is refused.
-- Both keys expire once they stop mattering: the TAT when it is no longer ahead of the clock (the key
-- is then as good as new), the block when it ends. Redis's clock is the one clock every replica shares.
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local block_ms = tonumber(ARGV[3])
if block_ms > 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  -- Hammering during a block starts it again.
  redis.call('SET', KEYS[2], '1', 'PX', block_ms)
  return {0, block_ms * 1000}
end
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local earliest = tat - tolerance
if now < earliest then
  if block_ms > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block_ms)
    return {0, block_ms * 1000}
  end
  return {0, earliest - now}
end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
return {1, 0}
