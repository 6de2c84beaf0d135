// Package apicheck holds one test: the public packages' exported API
// (client, ingress, schemas, engines) names no internal/ type, so a module
// outside dqm can use all of it. It has no code of its own.
package apicheck
