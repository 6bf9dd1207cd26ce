-- wrk script for bench/cache.sh: GET requests for ZIPF_OBJECTS distinct paths drawn from a
-- Zipf(ZIPF_S) distribution, the same sequence for every proxy.
--
--   ZIPF_OBJECTS   number of objects, paths PREFIX00000 .. (default 20000)
--   ZIPF_S         Zipf exponent (default 0.9): P(rank k) ~ 1 / k^s
--   ZIPF_SEED      seed (default 1); thread t draws its sequence with seed + 7919 * t
--   ZIPF_REQUESTS  requests each wrk thread issues, then it stops (default 200000)
--   ZIPF_PREFIX    path prefix (default /z/)
--
-- Everything random is precomputed in init() with a Park-Miller generator in doubles (exact,
-- no dependence on the Lua/LuaJIT version's math.random), so the per-request work is a table
-- read. Which rank maps to which object is a seeded shuffle shared by all threads, so the
-- popular objects are spread over the namespace rather than being 00000, 00001, ...
-- With -t1 the order in which requests are issued is fully deterministic; how they are spread
-- over the connections depends on timing, as with any closed-loop load. wrk calls request()
-- once before the run to check what it returns, so thread 0's first draw is never sent (the
-- same for every proxy), and the connections writing when the count is reached send a few
-- (at most one each) repeats of the last path.

local function env_num(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  local n = tonumber(v)
  if n == nil then error(name .. " must be a number, got '" .. v .. "'") end
  return n
end

local N = env_num("ZIPF_OBJECTS", 20000)
local S = env_num("ZIPF_S", 0.9)
local SEED = env_num("ZIPF_SEED", 1)
local R = env_num("ZIPF_REQUESTS", 200000)
local PREFIX = os.getenv("ZIPF_PREFIX") or "/z/"

-- Park-Miller minimal standard: x' = 16807 x mod (2^31 - 1); 16807 * (2^31 - 2) < 2^53.
local M = 2147483647
local function rng(seed)
  local x = seed % M
  if x <= 0 then x = x + M - 1 end
  return function()
    x = (16807 * x) % M
    return x / M  -- in (0, 1)
  end
end

local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

local requests = {}  -- object index (1-based) -> formatted request
local seq = {}       -- i -> object index
local issued = 0

function init(args)
  local t = tid or 0
  -- cumulative distribution over ranks 1..N
  local cdf, sum = {}, 0
  for k = 1, N do
    sum = sum + 1 / (k ^ S)
    cdf[k] = sum
  end
  for k = 1, N do cdf[k] = cdf[k] / sum end
  cdf[N] = 1
  -- rank -> object: Fisher-Yates with a fixed seed (the same in every thread)
  local perm, shuffle = {}, rng(SEED * 31 + 17)
  for k = 1, N do perm[k] = k end
  for k = N, 2, -1 do
    local j = math.floor(shuffle() * k) + 1
    perm[k], perm[j] = perm[j], perm[k]
  end
  for k = 1, N do
    requests[k] = wrk.format("GET", string.format("%s%05d", PREFIX, k - 1))
  end
  -- this thread's sequence
  local u = rng(SEED + 7919 * t)
  for i = 1, R do
    local x, lo, hi = u(), 1, N
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if cdf[mid] < x then lo = mid + 1 else hi = mid end
    end
    seq[i] = perm[lo]
  end
end

-- wrk's main thread sleeps for the whole -d duration whatever the threads do; SIGINT ends
-- that sleep (wrk then stops all threads and reports the real elapsed time). LuaJIT's ffi
-- sends it; the bench treats a run that lasted its whole -d as one that did not finish.
local ok_ffi, ffi = pcall(require, "ffi")
if ok_ffi then
  pcall(ffi.cdef, "int kill(int pid, int sig); int getpid(void);")
end
local finished = false

function request()
  issued = issued + 1
  if issued > R then
    if not finished then
      finished = true
      wrk.thread:stop()
      if ok_ffi then ffi.C.kill(ffi.C.getpid(), 2) end
    end
    return requests[seq[R]]  -- connections already writing in this loop iteration send it too
  end
  return requests[seq[issued]]
end
