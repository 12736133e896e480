//! Log streams: `POST /logstream`, the Server-Sent Events stream, adding devices.

use futures::StreamExt;
use reqwest::Method;
use reqwest_eventsource::{Event, EventSource};
use serde_json::Value;
use tokio::sync::mpsc;

use super::{encode_segment, Client};
use crate::error::{ImptError, Result};

/// What a log stream delivers.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// A log entry (`message` event), parsed from JSON.
    Log(Value),
    /// A `state_change` event (`opened`, `subscribed`, `unsubscribed`, `closed`).
    State(Value),
    /// A payload that is not JSON.
    Garbled(String),
    /// The connection failed or ended; `status` is the HTTP status when there was one.
    Lost { status: Option<u16>, reason: String },
}

pub struct LogStream {
    pub id: String,
    rx: mpsc::UnboundedReceiver<StreamEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LogStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LogStream {
    /// Creates a stream and connects to its events (`format=json`); returns once connected.
    pub async fn open(client: &Client) -> Result<LogStream> {
        let doc = client
            .request(Method::POST, "/logstream", &[], None, &[])
            .await?
            .unwrap_or(Value::Null);
        let id = doc
            .pointer("/data/id")
            .and_then(Value::as_str)
            .ok_or_else(|| ImptError::Internal("Unexpected format of impCentral response".into()))?
            .to_string();
        let url = format!(
            "{}/logstream/{}?format=json",
            client.endpoint(),
            encode_segment(&id)
        );
        let token = client.token().await?;
        let req = client.http().get(&url).bearer_auth(token);
        let mut es = EventSource::new(req).map_err(|e| ImptError::Internal(e.to_string()))?;
        es.set_retry_policy(Box::new(reqwest_eventsource::retry::Never));
        // Wait for the connection to open before devices are added.
        match es.next().await {
            Some(Ok(Event::Open)) => {}
            Some(Err(e)) => return Err(lost(e).into_error()),
            Some(Ok(Event::Message(_))) | None => {}
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Some(ev) = es.next().await {
                let out = match ev {
                    Ok(Event::Open) => continue,
                    Ok(Event::Message(m)) => {
                        let parsed = serde_json::from_str::<Value>(&m.data);
                        match (m.event.as_str(), parsed) {
                            ("state_change", Ok(v)) => StreamEvent::State(v),
                            ("state_change", Err(_)) => {
                                StreamEvent::State(serde_json::json!({ "state": m.data.trim() }))
                            }
                            (_, Ok(v)) => StreamEvent::Log(v),
                            (_, Err(_)) => StreamEvent::Garbled(m.data),
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(lost(e));
                        break;
                    }
                };
                if tx.send(out).is_err() {
                    break;
                }
            }
            es.close();
        });
        Ok(LogStream { id, rx, task })
    }

    /// `PUT /logstream/{id}/{device}`.
    pub async fn add_device(&self, client: &Client, device_id: &str) -> Result<()> {
        let path = format!(
            "/logstream/{}/{}",
            encode_segment(&self.id),
            encode_segment(device_id)
        );
        client
            .request(Method::PUT, &path, &[], None, &[])
            .await
            .map(|_| ())
    }

    /// The next event; `None` once the stream task has ended and everything was read.
    pub async fn next(&mut self) -> Option<StreamEvent> {
        self.rx.recv().await
    }
}

fn lost(e: reqwest_eventsource::Error) -> StreamEvent {
    use reqwest_eventsource::Error as E;
    match e {
        E::InvalidStatusCode(code, _) => StreamEvent::Lost {
            status: Some(code.as_u16()),
            reason: format!("impCentral API error HTTP/{}", code.as_u16()),
        },
        E::StreamEnded => StreamEvent::Lost {
            status: None,
            reason: "the log stream ended".into(),
        },
        other => StreamEvent::Lost {
            status: None,
            reason: other.to_string(),
        },
    }
}

impl StreamEvent {
    fn into_error(self) -> ImptError {
        match self {
            StreamEvent::Lost {
                status: Some(_),
                reason,
            } => ImptError::msg(reason),
            StreamEvent::Lost { reason, .. } => ImptError::Network(reason),
            _ => ImptError::Internal("Unexpected state".into()),
        }
    }
}
