/// The Lua behind `RedisLimitStore`: one script, so that one `EVALSHA` does a whole lease
/// atomically (Redis runs a script with nothing else in between).
///
/// KEYS[1] is a hash with three fields per tier (`<i>a`, `<i>b`, `<i>c`, i from 1).
/// ARGV: op (`acquire` | `release`), algorithm (a `RateAlgorithm` raw value), count, a clock
/// override in µs (empty: the server's `TIME`, so no instance's clock matters; tests set it,
/// and then the key gets no TTL, since Redis expires keys by its own clock, not that one),
/// then `limit`, `window` (µs) and `capacity` for each tier.
/// Reply: granted (or released) count, retry-after ms (0 unless nothing was granted), then
/// the whole tokens each tier has left.
///
/// Each algorithm's functions: `load` (state as of now), `allowed` (whole tokens now), `take`,
/// `give`, `wait` (µs until one token, asked only when `allowed` < 1) and `save`.
enum RateLimitScript {
    static let script = RedisScript(source)

    static let source = """
        if redis.replicate_commands then redis.replicate_commands() end
        local op, algorithm, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
        local now
        -- A clock from the caller (tests) is not the one Redis expires keys by.
        local given = ARGV[4] ~= ''
        if given then
          now = tonumber(ARGV[4])
        else
          local time = redis.call('TIME')
          now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        end
        -- Slack for floating point when fractional tokens become whole ones.
        local EPS = 1e-9
        local function whole(x) if x < 0 then return 0 end return math.floor(x + EPS) end

        local tiers, fields, longest = {}, {}, 0
        for i = 5, #ARGV, 3 do
          local n = #tiers + 1
          tiers[n] = {limit = tonumber(ARGV[i]), window = tonumber(ARGV[i + 1]), capacity = tonumber(ARGV[i + 2])}
          longest = math.max(longest, tiers[n].window)
          fields[#fields + 1] = n .. 'a'; fields[#fields + 1] = n .. 'b'; fields[#fields + 1] = n .. 'c'
        end
        local stored = redis.call('HMGET', KEYS[1], unpack(fields))

        local algorithms = {}

        -- Fractional tokens and the time they were last refilled (limit per window, continuously).
        algorithms.token_bucket = {
          load = function(t, a, b)
            local tokens, last = tonumber(a) or t.capacity, tonumber(b) or now
            if now > last then tokens = tokens + (now - last) * t.limit / t.window; last = now end
            t.tokens, t.last = math.min(t.capacity, tokens), last
          end,
          allowed = function(t) return whole(t.tokens) end,
          take = function(t, n) t.tokens = t.tokens - n end,
          give = function(t, n) t.tokens = math.min(t.capacity, t.tokens + n) end,
          wait = function(t) return (1 - t.tokens) * t.window / t.limit end,
          save = function(t) return t.tokens, t.last, 0 end,
        }

        -- The theoretical arrival time: one token costs window / limit, at most capacity ahead.
        algorithms.gcra = {
          load = function(t, a)
            t.interval = t.window / t.limit
            t.tat = math.max(tonumber(a) or now, now)
          end,
          allowed = function(t) return whole(t.capacity - (t.tat - now) / t.interval) end,
          take = function(t, n) t.tat = t.tat + n * t.interval end,
          give = function(t, n) t.tat = math.max(now, t.tat - n * t.interval) end,
          wait = function(t) return t.tat + t.interval - t.capacity * t.interval - now end,
          save = function(t) return t.tat, 0, 0 end,
        }

        -- Counts of this fixed window and the one before, weighted by how much of it the
        -- sliding window still covers.
        algorithms.sliding_window = {
          load = function(t, a, b, c)
            local index = math.floor(now / t.window)
            local started, current, previous = tonumber(a), tonumber(b) or 0, tonumber(c) or 0
            if started ~= index then
              if started == index - 1 then previous = current else previous = 0 end
              current = 0
            end
            t.index, t.current, t.previous, t.elapsed = index, current, previous, now - index * t.window
          end,
          allowed = function(t)
            return whole(t.limit - t.previous * (1 - t.elapsed / t.window) - t.current)
          end,
          take = function(t, n) t.current = t.current + n end,
          give = function(t, n) t.current = math.max(0, t.current - n) end,
          wait = function(t)
            -- Still in this window, once the previous window's weight has fallen far enough.
            local room = t.limit - t.current - 1
            if room >= 0 and t.previous > 0 then
              return t.window * (1 - room / t.previous) - t.elapsed
            end
            -- In the next window, where this window's count is the weighted one.
            local share = 0
            if t.current > 0 then share = math.max(0, 1 - (t.limit - 1) / t.current) end
            return t.window - t.elapsed + share * t.window
          end,
          save = function(t) return t.index, t.current, t.previous end,
        }

        local A = algorithms[algorithm]
        if not A then return redis.error_reply('ERR unknown algorithm ' .. tostring(algorithm)) end
        for i, t in ipairs(tiers) do A.load(t, stored[3 * i - 2], stored[3 * i - 1], stored[3 * i]) end

        local reply
        if op == 'acquire' then
          local granted = count
          for _, t in ipairs(tiers) do granted = math.min(granted, A.allowed(t)) end
          local wait, refused = 0, false
          for _, t in ipairs(tiers) do
            if granted > 0 then A.take(t, granted)
            elseif A.allowed(t) < 1 then refused = true; wait = math.max(wait, A.wait(t)) end
          end
          local retry = 0
          if refused then retry = math.max(1, math.ceil(wait / 1000 - 1e-6)) end
          reply = {granted, retry}
        elseif op == 'release' then
          for _, t in ipairs(tiers) do A.give(t, count) end
          reply = {count, 0}
        else
          return redis.error_reply('ERR unknown op ' .. tostring(op))
        end

        local values = {}
        for i, t in ipairs(tiers) do
          reply[#reply + 1] = A.allowed(t)
          local a, b, c = A.save(t)
          values[#values + 1] = fields[3 * i - 2]; values[#values + 1] = string.format('%.17g', a)
          values[#values + 1] = fields[3 * i - 1]; values[#values + 1] = string.format('%.17g', b)
          values[#values + 1] = fields[3 * i]; values[#values + 1] = string.format('%.17g', c)
        end
        redis.call('HSET', KEYS[1], unpack(values))
        -- Idle keys vanish: after twice the longest window every tier is back to full anyway.
        -- Not with a given clock: that time does not pass with Redis's, so a real-time TTL
        -- would reset the state whenever the caller paused for two windows of real time.
        if not given then
          redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(2 * longest / 1000)))
        end
        return reply
        """
}
