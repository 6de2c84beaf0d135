// Package triggers captures changes of watched tables on every engine: row
// triggers write each insert, update and delete into a trigger_events table
// with a sequence id, so changes made while dqm was down are still there to
// deliver. The Lead installs the triggers, fetches pending events in
// sequence order, publishes them and marks them delivered; on PostgreSQL,
// Listen wakes it on each commit, the other engines are polled.
//
// It reads and writes the database only; it must not publish to NATS or
// decide when to poll.
package triggers
