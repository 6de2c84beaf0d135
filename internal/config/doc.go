// Package config loads dqm's single configuration file (dqm.json) into one
// Config value: it parses the JSON, substitutes {$env.NAME} references,
// applies DQM_* environment overrides, fills defaults and validates, reporting
// every problem at once. Every other package receives a validated *Config.
//
// It must stay passive: it never opens network or database connections, never
// creates directories or files, and never logs secrets (Secret and DSN redact
// themselves in fmt, log/slog and encoding/json).
package config
