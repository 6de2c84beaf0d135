// A typed call to dqm over REST: the types are generated from the
// database's own OpenAPI document, so the compiler knows that ref 55 of
// demo takes START and FINISH as integers and returns rows of numbers.
//
//   make run                            # in another terminal
//   npm ci
//   npm run gen                         # openapi-typescript → demo.d.ts
//   npm run typed                       # tsc, then node dist/typed.js
//
// DQM_URL (default http://127.0.0.1:8080) is where dqm listens.
import createClient from "openapi-fetch";
import type { paths } from "./demo.js";

const client = createClient<paths>({ baseUrl: process.env.DQM_URL ?? "http://127.0.0.1:8080" });

const { data, error, response } = await client.GET("/api/query/demo/55", {
  params: { query: { START: 1, FINISH: 3 } },
});
if (!data?.success) {
  // A failure body is the same shape with success false, an error code and a message.
  const body = data ?? error;
  console.error(`dqm: ${response.status} ${body?.error}: ${body?.message}`);
  process.exit(1);
}
for (const row of data.rows ?? []) {
  console.log(row.numbers); // number | string | null: a string beyond ±2^53
}
