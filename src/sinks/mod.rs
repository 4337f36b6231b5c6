//! Where alerts and IQ go, as pure policies with no threads: the alert log
//! ([`alert_log`]) and evidence clips ([`evidence`]: the planner that decides clips from
//! alerts, the engine that cuts them) and recordings ([`recorder`]: files, rollover,
//! gaps), and federation ([`federation`]: the MQTT outbox over the alert log, its cursor,
//! quota and backoff, HQ's de-duplication).
//! The pipeline runs them on its threads.

pub mod alert_log;
pub mod evidence;
pub mod federation;
pub mod recorder;
