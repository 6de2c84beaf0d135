// Calling dqm without Go: one query request as a binary-mode CloudEvent
// over JetStream, the reply read from the caller's own inbox.
//
//   NATS_URL=nats://127.0.0.1:4250 node query.mjs demo 55 '{"INTEGER":{"START":1,"FINISH":3}}' [queue]
//
// Prints the reply body (the REST body plus "status") and exits 0 when it
// says success, 1 otherwise.
import { connect, createInbox, headers } from "nats";

const [db = "demo", ref = "55", params = "{}", queue = "fast"] = process.argv.slice(2);
const nc = await connect({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4250" });
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

  const body = JSON.stringify({ query_ref: Number(ref), params: JSON.parse(params) });
  // msgID is Nats-Msg-Id: a retried publish with the same id is deduplicated.
  await nc.jetstream().publish(`db.${db}.${queue}`, body, { msgID: id, headers: h });

  for await (const m of replies) {
    const res = JSON.parse(new TextDecoder().decode(m.data));
    console.log(JSON.stringify(res));
    process.exitCode = res.success ? 0 : 1;
  }
} finally {
  await nc.close();
}
