// Package console is the operator console of one dqm instance: HTML
// pages under /console and their data under /api/console/..., live over
// Server-Sent Events. A sampler reads every second what the instance and
// its NATS know — queues and workers (KV dqm_status, dqm_leaders, the
// consumers), this instance's request and cache counters, the change
// stream, the dead letters — and keeps 15 minutes of history, so a page
// opened late still draws its charts. Every asset is embedded.
//
// It reads and serves; it never decides. Auth lives in ingress (AdminOnly)
// and the orchestrator mounts the console behind it, or behind Loopback
// when auth is off.
package console
