"""The Redis broker's Lua scripts: each change of a class runs as one script, so that it is
atomic (Redis runs a script alone) and its event is published in the order of its seq.

Every script gets the same KEYS and leading ARGV:
  KEYS  1 meta (hash: id, seq, students, polls, poll_id, and the latest "state", "mode",
          "poll", "reveal" events' texts)  2 names (student_id -> name)  3 polls (poll_id -> its event;
          "r:<poll_id>" once revealed)  4 answers ("<poll_id>|<student_id>" -> answer key)
          5 counts ("<poll_id>|<key>" -> students)  6 ended (the tombstone: the class id)
          7 the set of open classes (code, scored by the time it expires)  8 online
          9 drawings ("<poll_id>|<student_id>" -> ink, beside the answer: the reading)
  ARGV  1 class id  2 TTL (ms)  3 now (ms)  4 code  5 channel
then each script's own arguments.
"""

from __future__ import annotations

PRELUDE = """
local function touch()
  for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
  redis.call('PEXPIRE', KEYS[9], ARGV[2])
  redis.call('ZADD', KEYS[7], tonumber(ARGV[3]) + tonumber(ARGV[2]), ARGV[4])
end
local function emit(kind, body)  -- body: the event's JSON after its opening brace
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  local sep = ','
  if body == '}' then sep = '' end
  local event = '{"type":"' .. kind .. '","seq":' .. seq .. sep .. body
  redis.call('PUBLISH', ARGV[5], event)
  return seq, event
end
local function mine()  -- the class exists and is this one
  return redis.call('HGET', KEYS[1], 'id') == ARGV[1]
end
local function closed(poll_id)  -- why a poll takes no answer, or nil when it does
  if not mine() then return 'gone' end
  if redis.call('HEXISTS', KEYS[3], poll_id) == 0 then return 'missing' end
  if redis.call('HEXISTS', KEYS[3], 'r:' .. poll_id) == 1 then return 'closed' end
  return nil
end
local function count(poll_id, student_id, key)  -- one answer per student: the new one replaces the old
  local field = poll_id .. '|' .. student_id
  local old = redis.call('HGET', KEYS[4], field)
  if old then redis.call('HINCRBY', KEYS[5], poll_id .. '|' .. old, -1) end
  redis.call('HSET', KEYS[4], field, key)
  redis.call('HINCRBY', KEYS[5], poll_id .. '|' .. key, 1)
end
"""

CREATE = """
-- ARGV 6 max classes  7 "1" to restore a lost class
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 1 then return 'taken' end
if ARGV[7] == '1' and redis.call('EXISTS', KEYS[6]) == 1 then return 'ended' end
if redis.call('ZCARD', KEYS[7]) >= tonumber(ARGV[6]) then return 'full' end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[8], KEYS[9])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'seq', 0, 'students', 0, 'polls', 0)
touch()
return 'ok'
"""

JOIN = """
-- ARGV 6 max students  7 student id  8 name ('' for none)
local id = redis.call('HGET', KEYS[1], 'id')
if not id then return false end
if tonumber(redis.call('HGET', KEYS[1], 'students')) >= tonumber(ARGV[6]) then return 'full' end
redis.call('HINCRBY', KEYS[1], 'students', 1)
if ARGV[8] ~= '' then redis.call('HSET', KEYS[2], ARGV[7], ARGV[8]) end
touch()
return {id}
"""

STATE = """
-- ARGV 6 body
if not mine() then return false end
local seq, event = emit('state', ARGV[6])
redis.call('HSET', KEYS[1], 'state', event)
touch()
return seq
"""

MODE = """
-- ARGV 6 body
if not mine() then return false end
local seq, event = emit('mode', ARGV[6])
redis.call('HSET', KEYS[1], 'mode', event)
touch()
return seq
"""

POLL = """
-- ARGV 6 max polls  7 body
if not mine() then return false end
if tonumber(redis.call('HGET', KEYS[1], 'polls')) >= tonumber(ARGV[6]) then return 'full' end
local poll_id = 'p' .. redis.call('HINCRBY', KEYS[1], 'polls', 1)
local seq, event = emit('poll', '"poll_id":"' .. poll_id .. '",' .. ARGV[7])
redis.call('HSET', KEYS[3], poll_id, event)
redis.call('HSET', KEYS[1], 'poll', event, 'poll_id', poll_id)
redis.call('HDEL', KEYS[1], 'reveal')
touch()
return {poll_id, seq}
"""

ANSWER = """
-- ARGV 6 poll id  7 student id  8 answer key
local why = closed(ARGV[6])
if why then return why end
count(ARGV[6], ARGV[7], ARGV[8])
touch()
return 'ok'
"""

DRAW = """
-- ARGV 6 poll id  7 student id  8 the reading (its answer key)  9 ink  10 max drawings
local why = closed(ARGV[6])
if why then return why end
local field = ARGV[6] .. '|' .. ARGV[7]
if redis.call('HEXISTS', KEYS[9], field) == 0 and redis.call('HLEN', KEYS[9]) >= tonumber(ARGV[10]) then
  return 'full'
end
count(ARGV[6], ARGV[7], ARGV[8])
redis.call('HSET', KEYS[9], field, ARGV[9])
touch()
return 'ok'
"""

DRAWINGS = """
-- ARGV 6 poll id: {student id, reading, ink, ...} (reads only; the drawings are at most max drawings)
if not mine() then return 'gone' end
if redis.call('HEXISTS', KEYS[3], ARGV[6]) == 0 then return 'missing' end
local head, found = ARGV[6] .. '|', {}
for _, field in ipairs(redis.call('HKEYS', KEYS[9])) do
  if string.sub(field, 1, #head) == head then
    table.insert(found, string.sub(field, #head + 1))
    table.insert(found, redis.call('HGET', KEYS[4], field))
    table.insert(found, redis.call('HGET', KEYS[9], field))
  end
end
return found
"""

REVEAL = """
-- ARGV 6 poll id  7 body
if not mine() then return 'gone' end
if redis.call('HEXISTS', KEYS[3], ARGV[6]) == 0 then return 'missing' end
if redis.call('HSETNX', KEYS[3], 'r:' .. ARGV[6], '1') == 0 then return 'closed' end
local seq, event = emit('reveal', ARGV[7])
if redis.call('HGET', KEYS[1], 'poll_id') == ARGV[6] then redis.call('HSET', KEYS[1], 'reveal', event) end
touch()
return seq
"""

END = """
if not mine() then return false end
local seq = emit('ended', '}')
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[8], KEYS[9])
redis.call('SET', KEYS[6], ARGV[1], 'PX', ARGV[2])
redis.call('ZREM', KEYS[7], ARGV[4])
return seq
"""

SCRIPTS = {
    name: PRELUDE + body
    for name, body in {
        "create": CREATE,
        "join": JOIN,
        "state": STATE,
        "mode": MODE,
        "poll": POLL,
        "answer": ANSWER,
        "draw": DRAW,
        "drawings": DRAWINGS,
        "reveal": REVEAL,
        "end": END,
    }.items()
}
