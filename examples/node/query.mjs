// Calling dqm without Go: one query request as a binary-mode CloudEvent
// over JetStream, the reply read from the caller's own inbox.
//
//   NATS_URL=nats://127.0.0.1:4250 node query.mjs demo 55 '{"INTEGER":{"START":1,"FINISH":3}}' [queue]
//
// Prints the reply body (the REST body plus "status") and exits 0 when it
// says success, 1 otherwise; a request that gets no reply (no such
// database, NATS unreachable, no answer in time) is one line on stderr
// saying why, and exit 1.
import { connect, createInbox, headers } from "nats";

const [db = "demo", ref = "55", params = "{}", queue = "fast"] = process.argv.slice(2);
const server = process.env.NATS_URL ?? "nats://127.0.0.1:4250";

function fail(message) {
  console.error(`dqm: ${message}`);
  process.exit(1);
}

let body;
try {
  body = JSON.stringify({ query_ref: Number(ref), params: JSON.parse(params) });
} catch {
  fail(`params must be a JSON object of typed groups, e.g. '{"INTEGER":{"N":5}}'; got ${params}`);
}

let nc;
try {
  nc = await connect({ servers: server });
} catch (err) {
  fail(`cannot reach NATS at ${server} (set NATS_URL): ${err.message}`);
}
try {
  // Subscribe before publishing: the reply may come before the PubAck.
  const inbox = createInbox();
  const replies = nc.subscribe(inbox, { max: 1, timeout: 10000 });

  const id = crypto.randomUUID();
  const h = headers();
  h.set("ce-specversion", "1.0");
  h.set("ce-type", "io.dqm.query.request.v1");
  h.set("ce-source", "/examples/node");
  h.set("ce-id", id);
  h.set("ce-time", new Date().toISOString());
  h.set("ce-subject", ref);
  h.set("ce-dqmdeadline", new Date(Date.now() + 5000).toISOString());
  h.set("content-type", "application/json");
  h.set("Dqm-Reply-To", inbox);

  try {
    // msgID is Nats-Msg-Id: a retried publish with the same id is deduplicated.
    await nc.jetstream().publish(`db.${db}.${queue}`, body, { msgID: id, headers: h });
  } catch (err) {
    if (err.code === "503") {
      // No stream takes the subject: dqm serves no such database.
      fail(`no database "${db}" behind ${server}: nothing takes db.${db}.${queue} (is it in dqm's configuration?)`);
    }
    fail(`publish to db.${db}.${queue}: ${err.message}`);
  }

  try {
    for await (const m of replies) {
      const res = JSON.parse(new TextDecoder().decode(m.data));
      console.log(JSON.stringify(res));
      process.exitCode = res.success ? 0 : 1;
    }
  } catch (err) {
    fail(err.code === "TIMEOUT" ? "no reply within 10 s" : `waiting for the reply: ${err.message}`);
  }
} finally {
  await nc.close();
}
