// WebSocket load generator of bench/peers.py, on Node (one process): server:now over
//   --protocol kuzzle    Kuzzle frames ({"controller":"server","action":"now","requestId":...}) over
//                        plain WebSocket (the `ws` package), the answer matched by its `room`;
//   --protocol socketio  Feathers' Socket.io transport: emit('find', '_now', {}, callback).
//
//     node bench/feathers/wsload.js --protocol kuzzle --url ws://127.0.0.1:PORT/ \
//       --connections 1 --inflight 64 --duration 3 --warmup 1
//
// Each of `connections` connections keeps `inflight` requests outstanding: every answer is followed
// at once by a new request. Answers are counted, their latency kept, during `duration` seconds
// after `warmup` seconds. Prints one JSON line: rate (answers/s), p50/p99 (ms), errors (answers
// that are not a 200 server:now envelope, failed connections), this process's CPU use (1 = the
// client was the limit), as bench/wsclient.py does.
'use strict'

const WebSocket = require('ws')
const { io } = require('socket.io-client')

function option (name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : fallback
}

const protocol = option('protocol', 'kuzzle')
const url = option('url')
const connections = Number(option('connections', '1'))
const inflight = Number(option('inflight', '64'))
const duration = Number(option('duration', '3'))
const warmup = Number(option('warmup', '1'))

const clock = () => Number(process.hrtime.bigint()) / 1e9
const state = { start: 0, end: 0, stop: false, count: 0, bad: 0, latencies: [], sample: null, failures: [] }

function good (answer) {
  return answer && answer.status === 200 && answer.controller === 'server' && answer.action === 'now' &&
    answer.result && Number.isInteger(answer.result.now)
}

function account (answer, t0, extra) {
  const now = clock()
  if (!good(answer) || extra === false) {
    state.bad += 1
    if (state.sample === null) state.sample = answer
  }
  if (state.start <= now && now < state.end) {
    state.count += 1
    state.latencies.push(now - t0)
  }
}

// One Kuzzle connection: resolves when it is drained after the stop.
function kuzzleConnection (number) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const sent = new Map()
    let seq = 0
    const send = () => {
      const id = `${number}-${seq++}`
      sent.set(id, clock())
      ws.send(`{"controller":"server","action":"now","requestId":"${id}"}`)
    }
    ws.on('open', () => { for (let i = 0; i < inflight; i++) send() })
    ws.on('message', (data) => {
      const answer = JSON.parse(data.toString())
      const t0 = sent.get(answer.room)
      if (t0 === undefined) { state.bad += 1; return }
      sent.delete(answer.room)
      account(answer, t0, answer.requestId === answer.room)
      if (!state.stop) send()
      else if (sent.size === 0) { ws.close(); resolve() }
    })
    ws.on('error', reject)
  })
}

// One Feathers Socket.io connection.
function socketioConnection () {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true })
    let pending = 0
    const send = () => {
      const t0 = clock()
      pending += 1
      socket.emit('find', '_now', {}, (error, answer) => {
        pending -= 1
        account(error ? { error } : answer, t0)
        if (!state.stop) send()
        else if (pending === 0) { socket.close(); resolve() }
      })
    }
    socket.on('connect', () => { for (let i = 0; i < inflight; i++) send() })
    socket.on('connect_error', reject)
  })
}

async function main () {
  const t = clock()
  state.start = t + warmup
  state.end = state.start + duration
  let usage0 = null
  setTimeout(() => { usage0 = process.cpuUsage() }, warmup * 1000)
  setTimeout(() => { state.stop = true }, (warmup + duration) * 1000)
  const one = protocol === 'socketio' ? socketioConnection : kuzzleConnection
  const tasks = []
  for (let n = 0; n < connections; n++) tasks.push(one(n))
  const guard = new Promise((resolve) => setTimeout(resolve, (warmup + duration + 15) * 1000).unref())
  const settled = await Promise.race([Promise.allSettled(tasks), guard.then(() => null)])
  const elapsed = clock() - state.start
  const usage = usage0 ? process.cpuUsage(usage0) : null
  const failures = settled ? settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason)) : ['timeout']
  const lat = state.latencies.sort((a, b) => a - b)
  const at = (q) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * q))] * 1000 : null
  const cpu = usage ? (usage.user + usage.system) / 1e6 / elapsed : null
  console.log(JSON.stringify({
    rate: state.count / duration,
    p50_ms: at(0.5),
    p99_ms: at(0.99),
    errors: state.bad + failures.length,
    bad_sample: state.sample,
    failures: failures.slice(0, 3),
    client_cpu: cpu === null ? null : Math.min(cpu, 1)
  }))
  process.exit(0)
}

main()
