// Drives a running kuzzle_events server with Kuzzle's official JavaScript SDK (kuzzle-sdk).
//
//   node scenario.mjs [--host 127.0.0.1] [--port 7512] [--protocol websocket|http] [--ws-client ws|native]
//                     [--auth username:password] [--admin username:password]
//
// (or KUZZLE_HOST, KUZZLE_PORT, KUZZLE_PROTOCOL, KUZZLE_WS_CLIENT). Over WebSocket the SDK takes
// one of two paths: the `ws` package, pinging with protocol ping frames (what it does in Node.js
// without a global WebSocket; "ws", the default, forces it), or a global `WebSocket` like a
// browser's, pinging with the text {"p":1} ("native": Node.js >= 22, or 20 with
// --experimental-websocket).
//
// Prints ONE JSON object on stdout: what the SDK got back at each step; tests/test_sdk.py checks
// every field. Exits 1 when something fails that no step provokes (or on a timeout), 2 on bad
// usage. The server must run the demo app (project/demo) with DEMO_FORMAT_NOW=1. With --auth, the
// steps are the authentication scenario (see authScenario) instead of the demo's calls.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import sdk from "kuzzle-sdk";

const { Kuzzle, WebSocket, Http } = sdk;
const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
// Not exported by the package's entry point; the same module instance the SDK itself throws.
const { KuzzleError } = require(join(here, "node_modules/kuzzle-sdk/out/src/KuzzleError.js"));
const SDK_VERSION = require(join(here, "node_modules/kuzzle-sdk/package.json")).version;

function option(name, envName, fallback) {
  const flag = process.argv.indexOf(`--${name}`);
  if (flag !== -1 && process.argv[flag + 1] !== undefined) return process.argv[flag + 1];
  return process.env[envName] || fallback;
}

const host = option("host", "KUZZLE_HOST", "127.0.0.1");
const port = Number.parseInt(option("port", "KUZZLE_PORT", "7512"), 10);
const protocolName = option("protocol", "KUZZLE_PROTOCOL", "websocket");
const wsClient = option("ws-client", "KUZZLE_WS_CLIENT", "ws");
// "username:password": run the authentication scenario as that user instead of the demo's calls.
const authAs = option("auth", "KUZZLE_AUTH", "");
// "username:password" of an administrator: run the security scenario (see securityScenario).
const adminAs = option("admin", "KUZZLE_ADMIN", "");
// An index name: run the documents and realtime scenario in that (existing) index instead.
const dataIndex = option("data", "KUZZLE_DATA", "");
// A key prefix: run the memory storage scenario (kuzzle.ms) on keys under it instead.
const msPrefix = option("ms", "KUZZLE_MS", "");
if (!["websocket", "http"].includes(protocolName) || !["ws", "native"].includes(wsClient) || Number.isNaN(port)) {
  process.stderr.write("usage: node scenario.mjs --host H --port P --protocol websocket|http --ws-client ws|native\n");
  process.exit(2);
}
if (wsClient === "ws") {
  // The SDK looks for a global WebSocket when it builds its protocol and when it connects.
  delete globalThis.WebSocket;
  if (typeof globalThis.WebSocket !== "undefined") globalThis.WebSocket = undefined;
} else if (typeof globalThis.WebSocket === "undefined") {
  process.stderr.write("--ws-client native needs a global WebSocket: Node.js >= 22, or --experimental-websocket\n");
  process.exit(2);
}

// ms between two pings (the SDK's default is 2000): each must be answered before the next one
// goes out, so several are answered during the scenario; shorter is flaky on a busy machine.
const PING_INTERVAL = 500;

function newKuzzle(httpOptions = {}) {
  const protocol =
    protocolName === "websocket"
      ? new WebSocket(host, { port, pingInterval: PING_INTERVAL, autoReconnect: false })
      : new Http(host, { port, ...httpOptions });
  return new Kuzzle(protocol, { requestTimeout: 8000, autoQueue: false, autoReplay: false });
}

class Unexpected extends Error {}

// What the SDK rejected with, reduced to what the tests check.
function describeError(error) {
  return {
    kuzzleError: error instanceof KuzzleError,
    name: error.constructor.name,
    status: error.status ?? null,
    id: error.id ?? null,
    code: error.code ?? null,
    message: error.message,
    controller: error.controller ?? null,
    action: error.action ?? null,
  };
}

// A request that must fail: its rejection, described; a success is unexpected.
async function failure(promise) {
  let value;
  try {
    value = await promise;
  } catch (error) {
    return describeError(error);
  }
  throw new Unexpected(`expected a rejection, got ${JSON.stringify(value)}`);
}

// The parts of an envelope the tests check (the SDK resolves kuzzle.query with the envelope).
function envelope(response) {
  if (typeof response !== "object" || response === null) return { notAnEnvelope: response };
  const { requestId, status, error, controller, action, index, collection, volatile, headers, result, node } =
    response;
  return {
    keys: Object.keys(response).sort(),
    requestId,
    status,
    error,
    controller,
    action,
    index,
    collection,
    volatile,
    headers,
    node,
    result,
  };
}

const results = {
  sdkVersion: SDK_VERSION,
  protocol: protocolName,
  wsClient: protocolName === "websocket" ? wsClient : null,
  steps: [],
};
const events = { networkError: 0, disconnected: 0, reconnected: 0 };
let pingsSent = 0;
const watchdog = setTimeout(() => {
  results.failure = "scenario timed out after 25 s";
  finish(1);
}, 25000);

function finish(code) {
  clearTimeout(watchdog);
  process.stdout.write(JSON.stringify(results) + "\n", () => process.exit(code));
}

async function step(name, fn) {
  results.steps.push(name);
  results[name] = await fn();
}

async function run() {
  const kuzzle = newKuzzle();
  for (const event of Object.keys(events)) kuzzle.on(event, () => (events[event] += 1));
  // A failed WebSocket handshake can leave connect() pending: give up after 5 s.
  let connectTimer;
  const connectTimeout = new Promise((_, reject) => {
    const message = () => `no connection within 5 s (${events.networkError} network errors)`;
    connectTimer = setTimeout(() => reject(new Unexpected(message())), 5000);
  });
  await Promise.race([kuzzle.connect(), connectTimeout]).finally(() => clearTimeout(connectTimer));
  results.connected = kuzzle.connected;
  results.sdkProtocol = kuzzle.protocol.name;
  if (protocolName === "websocket") {
    // Which client the SDK took: `ws` (protocol pings) or the global one (text pings).
    results.sdkClient = kuzzle.protocol.WebSocketClient === globalThis.WebSocket ? "native" : "ws";
    // Count the pings the SDK sends from now on (it calls protocol.ping() every PING_INTERVAL ms).
    const ping = kuzzle.protocol.ping;
    kuzzle.protocol.ping = () => {
      pingsSent += 1;
      ping();
    };
  }

  if (authAs) {
    await authScenario(kuzzle);
  } else if (adminAs) {
    await securityScenario(kuzzle);
  } else if (dataIndex) {
    await dataScenario(kuzzle);
  } else if (msPrefix) {
    await msScenario(kuzzle);
  } else {
    await demoScenario(kuzzle);
  }
  results.events = { ...events };
  kuzzle.disconnect();
}

// Log in, an allowed and a forbidden call, who am I, log out, then the allowed call as anonymous.
// The server has a first administrator, and the user's role grants greeting:sayHello only.
async function authScenario(kuzzle) {
  const separator = authAs.indexOf(":");
  const credentials = { username: authAs.slice(0, separator), password: authAs.slice(separator + 1) };
  const hello = { controller: "greeting", action: "sayHello", name: "Ada", body: {} };
  await step("anonymousBefore", async () => failure(kuzzle.query(hello)));
  await step("login", async () => {
    const jwt = await kuzzle.auth.login("local", credentials, "1h");
    return { jwt, sdkJwt: kuzzle.jwt, authenticated: await kuzzle.isAuthenticated() };
  });
  await step("allowed", async () => (await kuzzle.query(hello)).result);
  await step("forbidden", async () => failure(kuzzle.security.getRole("admin")));
  await step("currentUser", async () => {
    const user = await kuzzle.auth.getCurrentUser();
    return { _id: user._id, content: user.content, profileIds: user.profileIds };
  });
  await step("checkToken", async () => kuzzle.auth.checkToken());
  await step("logout", async () => {
    await kuzzle.auth.logout();
    return { sdkJwt: kuzzle.jwt ?? null };
  });
  await step("anonymousAfter", async () => failure(kuzzle.query(hello)));
}

// An administrator gives a restricted user an API key; that user, with the key, asks what it may
// run (auth:checkRights); the administrator asks the same (security:checkRights), then revokes the key.
async function securityScenario(kuzzle) {
  const separator = adminAs.indexOf(":");
  const credentials = { username: adminAs.slice(0, separator), password: adminAs.slice(separator + 1) };
  const hello = { controller: "greeting", action: "sayHello" };
  const getRole = { controller: "security", action: "getRole" };
  const keyId = `sdk-key-${protocolName}-${wsClient}`;
  let adminJwt;
  let keyToken;
  await step("adminLogin", async () => {
    adminJwt = await kuzzle.auth.login("local", credentials, "1h");
    return { authenticated: await kuzzle.isAuthenticated() };
  });
  await step("restrictedUser", async () => {
    const auth = { actions: { checkRights: true, getCurrentUser: true } };
    const controllers = { auth, greeting: { actions: { sayHello: true } } };
    await kuzzle.security.createOrReplaceRole("checker", { controllers });
    await kuzzle.security.createOrReplaceProfile("checkers", { policies: [{ roleId: "checker" }] });
    const user = await kuzzle.query({
      controller: "security",
      action: "upsertUser",
      _id: "cleo",
      body: { content: { profileIds: ["checkers"] } },
    });
    return user.result;
  });
  await step("createApiKey", async () => {
    const key = await kuzzle.security.createApiKey("cleo", "sdk key", { _id: keyId, expiresIn: -1 });
    keyToken = key._source.token;
    const { userId, description, expiresAt, ttl, fingerprint } = key._source;
    return { _id: key._id, userId, description, expiresAt, ttl, fingerprintLength: fingerprint.length };
  });
  await step("searchApiKeys", async () => {
    const found = await kuzzle.security.searchApiKeys("cleo", { match: { description: "sdk" } });
    return { ids: found.hits.map((hit) => hit._id).sort(), tokens: found.hits.filter((hit) => hit._source.token).length };
  });
  await step("adminCheckRights", async () => ({
    hello: await kuzzle.security.checkRights("cleo", hello),
    getRole: await kuzzle.security.checkRights("cleo", getRole),
  }));
  await step("asApiKey", async () => {
    kuzzle.jwt = keyToken;
    const me = await kuzzle.auth.getCurrentUser();
    return {
      _id: me._id,
      hello: await kuzzle.auth.checkRights(hello),
      getRole: await kuzzle.auth.checkRights(getRole),
    };
  });
  await step("exportUsers", async () => {
    // As Kourou's user:export: a scrolled search, batch after batch.
    kuzzle.jwt = adminJwt;
    let results = await kuzzle.security.searchUsers({}, { scroll: "5s", size: 1 });
    const ids = [];
    let batches = 0;
    while (results) {
      batches += 1;
      ids.push(...results.hits.map((user) => user._id));
      results = await results.next();
    }
    return { ids: ids.sort(), batches };
  });
  await step("deleteApiKey", async () => {
    await kuzzle.security.deleteApiKey("cleo", keyId);
    const check = await kuzzle.auth.checkToken(keyToken);
    return { valid: check.valid, left: (await kuzzle.security.searchApiKeys("cleo")).hits.length };
  });
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Documents (create, get, update, search, delete) and, over WebSocket, a realtime subscription.
async function dataScenario(kuzzle) {
  const index = dataIndex;
  const collection = `items-${protocolName}-${protocolName === "websocket" ? wsClient : "sdk"}`;
  await step("collectionCreate", async () => kuzzle.collection.create(index, collection));
  // The SDK sends size: 0 (every collection), as index:export does.
  const listed = await kuzzle.collection.list(index);
  results.collectionList = { type: listed.type, names: listed.collections.map((c) => `${c.type}:${c.name}`) };
  const cheap = { range: { price: { lt: 10 } } };
  const notifications = [];
  let roomId = null;
  if (protocolName === "websocket") {
    await step("subscribe", async () => {
      roomId = await kuzzle.realtime.subscribe(index, collection, cheap, (n) =>
        notifications.push({ type: n.type, action: n.action, scope: n.scope, event: n.event, result: n.result }),
      );
      return { roomId };
    });
    await kuzzle.realtime.publish(index, collection, { name: "gum", price: 1 });
    await kuzzle.realtime.publish(index, collection, { name: "car", price: 20000 });
  }
  await step("create", async () => {
    const created = await kuzzle.document.create(index, collection, { name: "pen", price: 2 }, "pen");
    return { _id: created._id, name: created._source.name, author: created._source._kuzzle_info.author };
  });
  await step("get", async () => {
    const got = await kuzzle.document.get(index, collection, "pen");
    return { _id: got._id, _source: { name: got._source.name, price: got._source.price } };
  });
  await step("update", async () => {
    const updated = await kuzzle.document.update(index, collection, "pen", { price: 3 });
    return { _id: updated._id, price: updated._source.price, name: updated._source.name };
  });
  await step("search", async () => {
    await kuzzle.document.create(index, collection, { name: "yacht", price: 900000 }, "yacht");
    const found = await kuzzle.document.search(index, collection, { query: cheap, sort: ["name"] }, { size: 5 });
    return { total: found.total, ids: found.hits.map((hit) => hit._id) };
  });
  // Elasticsearch's query DSL (Kuzzle's default language) with bool and sort, then a scroll
  // through more documents than one page (SearchResult.next() calls document:scroll).
  const priced = Array.from({ length: 12 }, (_, i) => ({
    _id: `n${String(i).padStart(2, "0")}`,
    body: { name: `item ${i}`, price: 100 + i, kind: i % 2 ? "odd" : "even" },
  }));
  await kuzzle.document.mCreate(index, collection, priced);
  const hundreds = { range: { price: { gte: 100, lt: 200 } } };
  const esQuery = { bool: { filter: [hundreds], must_not: [{ term: { kind: "odd" } }] } };
  const esFound = await kuzzle.document.search(index, collection, { query: esQuery, sort: [{ price: "desc" }] }, { size: 3 });
  results.esSearch = { total: esFound.total, ids: esFound.hits.map((hit) => hit._id) };
  let scrolled = await kuzzle.document.search(index, collection, { query: hundreds, sort: ["price"] }, { scroll: "10s", size: 5 });
  const scroll = { total: scrolled.total, pages: 1, ids: scrolled.hits.map((hit) => hit._id) };
  while ((scrolled = await scrolled.next())) {
    scroll.pages += 1;
    scroll.ids.push(...scrolled.hits.map((hit) => hit._id));
  }
  results.scroll = scroll;
  // m* actions answer per document: a taken id and a bad item are errors, the others are written.
  const partial = await kuzzle.document.mCreate(index, collection, [
    { _id: "n00", body: { name: "again" } },
    { _id: "m1", body: { name: "new" } },
    { _id: "m2" },
  ]);
  const partialGet = await kuzzle.document.mGet(index, collection, ["m1", "m2"]);
  const partialDelete = await kuzzle.document.mDelete(index, collection, ["m1", "m2"]);
  results.mPartial = {
    successes: partial.successes.map((s) => [s._id, s._version, s.status, s.result]),
    errors: partial.errors.map((e) => [e.document._id ?? null, e.status, e.reason]),
    get: { successes: partialGet.successes.map((s) => s._id), errors: partialGet.errors },
    delete: { successes: partialDelete.successes, errors: partialDelete.errors.map((e) => [e._id, e.status]) },
  };
  await step("delete", async () => kuzzle.document.delete(index, collection, "pen"));
  if (protocolName === "websocket") {
    await pause(300);
    await step("unsubscribe", async () => {
      await kuzzle.realtime.unsubscribe(roomId);
      await kuzzle.realtime.publish(index, collection, { name: "late", price: 1 });
      await pause(300);
      return { afterUnsubscribe: notifications.length };
    });
    results.notifications = notifications;
  }
}

// The SDK's ms controller: its calls, and the results as it reshapes them (scores as numbers,
// scan pages as {cursor, values}, georadius points as objects). Every key is deleted at the end.
async function msScenario(kuzzle) {
  const k = (name) => `${msPrefix}${name}`;
  await step("set", async () => kuzzle.ms.set(k("s"), "10", { ex: 100 }));
  await step("get", async () => kuzzle.ms.get(k("s")));
  await step("incrbyfloat", async () => kuzzle.ms.incrbyfloat(k("s"), 0.5));
  await step("mget", async () => kuzzle.ms.mget([k("s"), k("none")]));
  await step("zadd", async () =>
    kuzzle.ms.zadd(k("z"), [
      { score: 2, member: "b" },
      { score: 1, member: "a" },
    ]),
  );
  await step("zrange", async () => kuzzle.ms.zrange(k("z"), 0, -1));
  await step("zrangebyscore", async () => kuzzle.ms.zrangebyscore(k("z"), 2, "+inf"));
  await step("hset", async () => kuzzle.ms.hset(k("h"), "f", "v"));
  await step("hgetall", async () => kuzzle.ms.hgetall(k("h")));
  await step("sadd", async () => kuzzle.ms.sadd(k("set"), ["x", "y"]));
  await step("scan", async () => {
    const page = await kuzzle.ms.scan(0, { match: k("*"), count: 100 });
    return { cursorType: typeof page.cursor, values: page.values.sort() };
  });
  await step("geoadd", async () => kuzzle.ms.geoadd(k("g"), [{ lon: 13.361389, lat: 38.115556, name: "Palermo" }]));
  await step("georadius", async () =>
    kuzzle.ms.georadius(k("g"), 13.36, 38.11, 10, "km", { withdist: true }).then((points) =>
      points.map((p) => ({ name: p.name, distanceType: typeof p.distance })),
    ),
  );
  await step("exists", async () => kuzzle.ms.exists([k("s"), k("h"), k("none")]));
  await step("wrongType", async () => failure(kuzzle.ms.incr(k("h"))));
  await step("missing", async () => failure(kuzzle.query({ controller: "ms", action: "append", _id: k("s"), body: {} })));
  await step("del", async () => kuzzle.ms.del([k("s"), k("z"), k("h"), k("set"), k("g")]));
}

async function demoScenario(kuzzle) {
  if (protocolName === "http") {
    // What HttpProtocol built from GET /_publicApi (it routes every call with it).
    await step("routes", async () => ({
      serverNow: kuzzle.protocol.routes.server?.now ?? null,
      greetingSayHello: kuzzle.protocol.routes.greeting?.sayHello ?? null,
      greetingCard: kuzzle.protocol.routes.greeting?.card ?? null,
      authCheckToken: kuzzle.protocol.routes.auth?.checkToken ?? null,
    }));
  }

  // server:now through the SDK's server controller: it returns result.now, which the demo's
  // server:afterNow pipe turned into an RFC 1123 date.
  await step("now", async () => {
    const now = await kuzzle.server.now();
    return { type: typeof now, value: now };
  });

  // The same action through kuzzle.query: the whole envelope.
  await step("nowEnvelope", async () => {
    const requestId = `sdk-now-${protocolName}`;
    const response = await kuzzle.query({ controller: "server", action: "now", requestId });
    return { sentRequestId: requestId, ...envelope(response) };
  });

  // What the SDK checks after a (re)connection, and from isAuthenticated(): the anonymous user.
  await step("checkToken", async () => kuzzle.auth.checkToken());

  // server:adminExists through the SDK's server controller: result.exists (no administrator yet).
  await step("adminExists", async () => ({ exists: await kuzzle.server.adminExists() }));

  // Custom controller, custom route (GET and POST /greeting/:name), path arg, query arg, body.
  const hello = {
    controller: "greeting",
    action: "sayHello",
    name: "Ada",
    punctuation: "?",
    body: { from: "kuzzle-sdk", lang: "en" },
  };
  await step("sayHello", async () => envelope(await kuzzle.query(hello)));
  // The SDK's `verb` option picks the POST route (and is also sent as an extra argument).
  await step("sayHelloPost", async () => envelope(await kuzzle.query(hello, { verb: "POST" })));

  // The greeting:beforeSayHello pipe refuses strangers with a ForbiddenError.
  await step("stranger", async () =>
    failure(kuzzle.query({ controller: "greeting", action: "sayHello", name: "stranger", body: {} })),
  );

  // An unknown action and an unknown controller.
  await step("unknownAction", async () => failure(kuzzle.query({ controller: "server", action: "nope" })));
  await step("unknownController", async () => failure(kuzzle.query({ controller: "nope", action: "nope" })));

  // A raw response (text/plain, no envelope over HTTP).
  await step("card", async () => {
    const response = await kuzzle.query({ controller: "greeting", action: "card", name: "Ada" });
    return { type: typeof response, ...(typeof response === "string" ? { value: response } : envelope(response)) };
  });

  if (protocolName === "http") {
    // HttpProtocol only calls actions listed by /_publicApi (the unknown ones above never left the
    // client). Its customRoutes option reaches the server with what publicApi does not list:
    const custom = newKuzzle({
      customRoutes: {
        server: { nope: { verb: "GET", url: "/_nope" } },
        // POST /_query takes a whole request as its body.
        query: { nope: { verb: "POST", url: "/_query" } },
      },
    });
    await custom.connect();
    await step("unknownUrl", async () => failure(custom.query({ controller: "server", action: "nope" })));
    await step("queryUnknownAction", async () =>
      failure(custom.query({ controller: "query", action: "nope", body: { controller: "server", action: "nope" } })),
    );
    await step("queryNow", async () => {
      const request = { controller: "query", action: "nope", body: { controller: "server", action: "now" } };
      return envelope(await custom.query(request));
    });
    custom.disconnect();
  } else {
    // Several pings go out meanwhile (every PING_INTERVAL ms); when one is not answered before
    // the next, the SDK drops the connection with a networkError.
    await new Promise((resolve) => setTimeout(resolve, PING_INTERVAL * 4));
    await step("afterPings", async () => ({
      connected: kuzzle.connected,
      pingsSent,
      now: await kuzzle.server.now(),
    }));
  }
}

run().then(
  () => finish(0),
  (error) => {
    results.failure = error instanceof Unexpected ? error.message : describeError(error);
    results.events = { ...events };
    finish(1);
  },
);
