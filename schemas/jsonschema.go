package schemas

import "embed"

// JSONSchemas are the JSON Schemas (draft 2020-12) of dqm's payloads,
// under json/: query-request.v1, query-result.v1, change.v1,
// invalidation, watermark, heartbeat and plan. Services in other languages validate
// against them; a test keeps them in step with the Go structs.
//
//go:embed json/*.schema.json
var JSONSchemas embed.FS
