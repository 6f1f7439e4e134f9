// Kourou's `collection:export` then `collection:import` (Kourou 1.2.0), against a running
// kuzzle_events server, with the official kuzzle-sdk: the calls Kourou's source makes
// (src/commands/collection/export.ts, import.ts, src/support/dump-collection.ts and
// restore-collection.ts), in its order, with its defaults, writing and reading its files.
//
//   node kourou.mjs --port P --protocol websocket|http --index I --collection C --dir D
//                   [--to-index I2] [--export-batch 2000] [--import-batch 200] [--scroll 20s]
//
// Export writes D/<index>/<collection>/mappings.json ({type: "mappings", content: {...}}) and
// documents.jsonl (a {type: "collection", index, collection} header, then one {_id, body} a
// line); import reads them back into --to-index (Kourou's --index override). Prints ONE JSON
// object on stdout: the counts Kourou logs and the number of requests of each kind it sent
// (tests/test_sdk_kourou.py checks them and the stored result).

import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";

import sdk from "kuzzle-sdk";

const { Kuzzle, WebSocket, Http } = sdk;

function option(name, fallback) {
  const flag = process.argv.indexOf(`--${name}`);
  return flag !== -1 && process.argv[flag + 1] !== undefined ? process.argv[flag + 1] : fallback;
}

const port = Number.parseInt(option("port", "7512"), 10);
const protocolName = option("protocol", "websocket");
const index = option("index", "");
const collection = option("collection", "");
const dir = option("dir", "");
const toIndex = option("to-index", "") || undefined;
const exportBatch = Number(option("export-batch", "2000"));
const importBatch = Number(option("import-batch", "200"));
const scrollTTL = option("scroll", "20s");
if (!index || !collection || !dir || !["websocket", "http"].includes(protocolName)) {
  process.stderr.write("usage: node kourou.mjs --port P --protocol websocket|http --index I --collection C --dir D\n");
  process.exit(2);
}
// Kourou runs in Node.js without a global WebSocket: the SDK takes the `ws` package.
delete globalThis.WebSocket;

const sent = {};
function track(kuzzle) {
  // Counts every request the SDK sends, by controller:action.
  const query = kuzzle.query.bind(kuzzle);
  kuzzle.query = (request, options) => {
    const key = `${request.controller}:${request.action}`;
    sent[key] = (sent[key] || 0) + 1;
    return query(request, options);
  };
}

// export.ts: runSafe ------------------------------------------------------------------------------
async function collectionExport(kuzzle) {
  const exportPath = path.join(dir, index); // --path D
  const query = {}; // --query default "{}"
  const countAll = await kuzzle.document.count(index, collection);
  const count = await kuzzle.document.count(index, collection, { query });
  fs.mkdirSync(exportPath, { recursive: true });

  // dump-collection.ts: dumpCollectionMappings, format "jsonl"
  const collectionDir = path.join(exportPath, collection);
  fs.mkdirSync(collectionDir, { recursive: true });
  const mappings = await kuzzle.collection.getMapping(index, collection);
  const dump = { type: "mappings", content: { [index]: { [collection]: { mappings } } } };
  fs.writeFileSync(path.join(collectionDir, "mappings.json"), JSON.stringify(dump, null, 2));

  // dump-collection.ts: JSONLDumper.dump (ndjson.stringify writes one JSON text and "\n" per object)
  const lines = [JSON.stringify({ type: "collection", index, collection })];
  let results = await kuzzle.document.search(index, collection, { query }, { scroll: scrollTTL, size: exportBatch });
  let pages = 0;
  do {
    pages += 1;
    for (const hit of results.hits) {
      lines.push(JSON.stringify({ _id: hit._id, body: hit._source }));
    }
  } while ((results = await results.next()));
  fs.writeFileSync(path.join(collectionDir, "documents.jsonl"), lines.map((l) => `${l}\n`).join(""));
  return { countAll, count, pages, lines: lines.length - 1, dir: collectionDir };
}

// import.ts: runSafe ------------------------------------------------------------------------------
async function collectionImport(kuzzle, dumpDir) {
  // restore-collection.ts: restoreCollectionMappings
  const dump = JSON.parse(fs.readFileSync(path.join(dumpDir, "mappings.json"), "utf8"));
  if (dump.type !== "mappings") throw new Error("Dump file does not contain mappings definition");
  const srcIndex = Object.keys(dump.content)[0];
  const srcCollection = Object.keys(dump.content[srcIndex])[0];
  const dstIndex = toIndex || srcIndex;
  const dstCollection = srcCollection;
  if (!(await kuzzle.index.exists(dstIndex))) {
    await kuzzle.index.create(dstIndex);
  }
  await kuzzle.collection.create(dstIndex, dstCollection, dump.content[srcIndex][srcCollection]);

  // restore-collection.ts: restoreCollectionData (bulk:mWrite, strict, batches of --batch-size)
  const mWriteRequest = { controller: "bulk", action: "mWrite", index: "", collection: "", strict: true, body: { documents: [{}] } };
  let total = 0;
  let batches = 0;
  let headerSkipped = false;
  let documents = [];
  const input = readline.createInterface({ input: fs.createReadStream(path.join(dumpDir, "documents.jsonl")) });
  for await (const line of input) {
    if (!line.trim()) continue;
    const obj = JSON.parse(line);
    if (!headerSkipped) {
      if (obj.type !== "collection") throw new Error("Dump file does not contains collection data");
      headerSkipped = true;
      mWriteRequest.index = dstIndex;
      mWriteRequest.collection = obj.collection;
      continue;
    }
    if (!obj._id) throw new Error(`Document does not have an "_id" property: ${line}`);
    if (!obj.body) throw new Error(`Document does not have an "body" property: ${line}`);
    documents.push(obj);
    if (documents.length === importBatch) {
      mWriteRequest.body.documents = documents;
      documents = [];
      await kuzzle.query(mWriteRequest);
      batches += 1;
      total += mWriteRequest.body.documents.length;
    }
  }
  if (documents.length > 0) {
    mWriteRequest.body.documents = documents;
    const response = await kuzzle.query(mWriteRequest);
    batches += 1;
    total += response.result.successes.length;
  }
  return { total, batches, index: mWriteRequest.index, collection: mWriteRequest.collection };
}

const protocol =
  protocolName === "http"
    ? new Http("127.0.0.1", { port, timeout: 10000 })
    : new WebSocket("127.0.0.1", { port, reconnectionDelay: 100, pingInterval: 5000 });
const kuzzle = new Kuzzle(protocol);
track(kuzzle);
const timer = setTimeout(() => {
  process.stderr.write("timed out\n");
  process.exit(1);
}, 25000);
try {
  await kuzzle.connect();
  const exported = await collectionExport(kuzzle);
  const imported = await collectionImport(kuzzle, exported.dir);
  process.stdout.write(JSON.stringify({ exported, imported, sent }) + "\n");
} catch (error) {
  process.stderr.write(`${error.stack || error}\n${JSON.stringify(error)}\n`);
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  kuzzle.disconnect();
}
