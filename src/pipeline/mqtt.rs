//! One MQTT connection, as the publisher and HQ threads use it: the broker settings, and a
//! [`Link`] that runs the client's network loop on a thread of its own (`mqtt-net`) and
//! hands its events over a channel, tagged with the link's generation.
//!
//! A link lives for one connection: on the first error its thread ends, and the caller
//! waits (backoff) and opens a new one. A fresh client per connection means nothing queued
//! for a dead connection can be sent on the next one ahead of what the caller resends, so
//! the caller alone decides what goes out and in which order.

use std::path::Path;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use rumqttc::{Client, Event, LastWill, MqttOptions, Outgoing, Packet, QoS, Transport};

use crate::error::{Error, Result};
use crate::sinks::federation::Broker;

/// How to reach the broker: address, TLS and credentials.
#[derive(Clone)]
pub struct BrokerConfig {
    /// Host, port, TLS or not.
    pub broker: Broker,
    /// TLS settings with the CA to trust (`mqtts://` only).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// User name and password.
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for BrokerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("BrokerConfig")
            .field("broker", &self.broker)
            .field("tls", &self.tls.is_some())
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .finish()
    }
}

impl BrokerConfig {
    /// Settings for `broker`; `ca_file` is required for `mqtts://` and refused otherwise.
    ///
    /// # Errors
    /// [`Error::Invalid`] for field `ca_file` when the file cannot be read, holds no
    /// certificate, or does not fit the URL's scheme.
    pub fn new(
        broker: Broker,
        ca_file: Option<&Path>,
        credentials: Option<(String, String)>,
    ) -> Result<BrokerConfig> {
        let tls = match (broker.tls, ca_file) {
            (true, Some(ca)) => Some(tls_config(ca)?),
            (true, None) => {
                return Err(Error::invalid(
                    "ca_file",
                    "is needed for mqtts:// (the CA that signed the broker's certificate)",
                ))
            }
            (false, Some(_)) => {
                return Err(Error::invalid(
                    "ca_file",
                    "is for mqtts:// brokers; this URL is plain mqtt://",
                ))
            }
            (false, None) => None,
        };
        Ok(BrokerConfig {
            broker,
            tls,
            credentials,
        })
    }

    /// Client options for a connection as `client_id`.
    pub(crate) fn options(
        &self,
        client_id: &str,
        clean_session: bool,
        will: Option<LastWill>,
        inflight: u16,
    ) -> MqttOptions {
        let mut o = MqttOptions::new(client_id, self.broker.host.clone(), self.broker.port);
        // A dead link is noticed within 1.5 keep-alives even when nothing is published.
        o.set_keep_alive(Duration::from_secs(10));
        o.set_clean_session(clean_session);
        o.set_inflight(inflight.max(1));
        o.set_max_packet_size(256 * 1024, 256 * 1024);
        if let Some(w) = will {
            o.set_last_will(w);
        }
        if let Some((u, p)) = &self.credentials {
            o.set_credentials(u.clone(), p.clone());
        }
        if let Some(tls) = &self.tls {
            o.set_transport(Transport::tls_with_config(
                rumqttc::TlsConfiguration::Rustls(tls.clone()),
            ));
        }
        o
    }
}

/// A rustls client configuration that trusts the certificates in the PEM file `ca`.
///
/// # Errors
/// [`Error::Invalid`] for field `ca_file`.
pub fn tls_config(ca: &Path) -> Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let bad = |why: String| Error::invalid("ca_file", format!("{}: {why}", ca.display()));
    let pem = std::fs::read(ca).map_err(|e| bad(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    let mut n = 0;
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| bad(format!("not a PEM certificate file ({e})")))?;
        roots
            .add(cert)
            .map_err(|e| bad(format!("not a usable CA certificate ({e})")))?;
        n += 1;
    }
    if n == 0 {
        return Err(bad("holds no PEM certificate".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// What a link reports.
#[derive(Debug)]
pub(crate) enum NetEvent {
    /// The broker accepted the connection.
    Up {
        /// The broker kept a session for this client id.
        session_present: bool,
    },
    /// A publication went out with this packet id (in the order they were requested).
    Sent(u16),
    /// The broker acknowledged the QoS 1 publication with this packet id.
    Acked(u16),
    /// A message arrived.
    Message(rumqttc::Publish),
    /// The broker confirmed a subscription.
    Subscribed,
    /// The connection failed or ended; the link's thread is gone.
    Down(String),
}

/// One connection to the broker.
pub(crate) struct Link {
    /// Requests to the client's network loop.
    pub client: Client,
    net: Option<JoinHandle<()>>,
}

impl Link {
    /// Starts connecting with `options`; events arrive on `events`, tagged with
    /// `generation` (the caller's count of links: events of older ones are stale).
    ///
    /// # Errors
    /// [`Error::StagePanicked`] when the thread cannot be started.
    pub fn open(
        options: MqttOptions,
        generation: u64,
        requests: usize,
        events: Sender<(u64, NetEvent)>,
    ) -> Result<Link> {
        let (client, mut conn) = Client::new(options, requests);
        let net = thread::Builder::new()
            .name("mqtt-net".into())
            .spawn(move || {
                for ev in conn.iter() {
                    let msg = match ev {
                        Ok(Event::Incoming(Packet::ConnAck(c))) => NetEvent::Up {
                            session_present: c.session_present,
                        },
                        Ok(Event::Incoming(Packet::PubAck(a))) => NetEvent::Acked(a.pkid),
                        Ok(Event::Incoming(Packet::Publish(p))) => NetEvent::Message(p),
                        Ok(Event::Incoming(Packet::SubAck(_))) => NetEvent::Subscribed,
                        Ok(Event::Outgoing(Outgoing::Publish(pkid))) => NetEvent::Sent(pkid),
                        // Written and flushed: the connection's work is done (the client
                        // keeps its own request sender, so nothing else ends the loop).
                        Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
                        Ok(_) => continue,
                        Err(e) => {
                            let _ = events.send((generation, NetEvent::Down(e.to_string())));
                            return;
                        }
                    };
                    if events.send((generation, msg)).is_err() {
                        return;
                    }
                }
            })
            .map_err(|_| Error::StagePanicked("spawn"))?;
        Ok(Link {
            client,
            net: Some(net),
        })
    }

    /// Ends the connection with a clean DISCONNECT (the broker then does not publish the
    /// will) and waits for the network thread, draining `events` so that it is never stuck
    /// handing one over. A thread still connecting to an unresponsive host after
    /// [`CLOSE_WAIT`] is left to end on its connection timeout.
    pub fn close(mut self, events: &Receiver<(u64, NetEvent)>) {
        let _ = self.client.try_disconnect();
        let Some(net) = self.net.take() else { return };
        let t0 = std::time::Instant::now();
        while !net.is_finished() && t0.elapsed() < CLOSE_WAIT {
            let _ = events.recv_timeout(Duration::from_millis(20));
        }
        if net.is_finished() {
            let _ = net.join();
        }
    }
}

/// How long [`Link::close`] waits for the network thread.
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// QoS 1 for alerts and status.
pub(crate) const AT_LEAST_ONCE: QoS = QoS::AtLeastOnce;
