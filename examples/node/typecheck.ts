// Compiled by `npm run check`, never run: the generated types refuse the
// calls dqm would refuse, so each line below must be a type error.
import type createClient from "openapi-fetch";
import type { paths } from "./demo.js";

declare const client: ReturnType<typeof createClient<paths>>;

// @ts-expect-error START is an INTEGER (the entry's param_types), not a string
void client.GET("/api/query/demo/55", { params: { query: { START: "one", FINISH: 3 } } });
// @ts-expect-error FINISH is required
void client.GET("/api/query/demo/55", { params: { query: { START: 1 } } });
// @ts-expect-error ref 104 modifies data: it has no GET, only POST
void client.GET("/api/query/demo/104", {});
// @ts-expect-error the private entry 4 is not in a document fetched without a token
void client.GET("/api/query/demo/4", {});
