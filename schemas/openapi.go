package schemas

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of the REST adapter: every endpoint,
// status and error code. The server serves it at /openapi.json, and the
// server's tests validate every REST response they get against it.
//
//go:embed openapi.json
var OpenAPI []byte
