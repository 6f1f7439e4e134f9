// FeathersJS 5 peer of bench/peers.py: one service, `_now`, whose find() answers server:now with
// the same envelope as kuzzle_events (bench/envelope.py: same keys, same order, compact JSON).
// HTTP through @feathersjs/koa's REST transport (GET /_now -> find()), WebSocket through
// @feathersjs/socketio (emit('find', '_now', {}, callback)); both on one port.
//
//     node bench/feathers/server.js --port 8080 [--plain]
//
// --plain: find() answers {"now": ms} instead of the envelope.
'use strict'

const { randomUUID } = require('node:crypto')
const { feathers } = require('@feathersjs/feathers')
const { koa, rest, bodyParser, errorHandler } = require('@feathersjs/koa')
const socketio = require('@feathersjs/socketio')

const args = process.argv.slice(2)
const port = Number(args[args.indexOf('--port') + 1])
const plain = args.includes('--plain')

class NowService {
  async find (params) {
    const now = { now: Date.now() }
    if (plain) return now
    return {
      requestId: randomUUID(),
      status: 200,
      error: null,
      controller: 'server',
      action: 'now',
      collection: null,
      index: null,
      volatile: null,
      headers: {},
      node: 'knode-1',
      result: now
    }
  }
}

const app = koa(feathers())
app.use(errorHandler())
app.use(bodyParser())
app.configure(rest())
app.configure(socketio())
app.use('_now', new NowService())

app.listen(port, '127.0.0.1').then(() => {
  console.log(`feathers listening on 127.0.0.1:${port}`)
})
