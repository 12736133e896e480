//! Webhook calls: `deployment`, `blessing` and `blinkup` events are POSTed to the URLs
//! registered for a Device Group (see the webhooks module), each on its own thread so that
//! the API never waits. A call that fails (no connection, a timeout, a status other than
//! 2xx) is tried again after a growing pause, up to [`ATTEMPTS`] times. Per account (the
//! webhook's owner): at most [`IN_FLIGHT_MAX`] calls are under way at once, and the
//! outcomes of its latest [`KEPT`] calls are kept (shown by `GET /_sim/webhooks`): one
//! account's slow or many hooks never fail or hide another's.

use super::app::{App, World};
use super::util::now_iso;
pub use super::webhook_calls::{encode, Delivery};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// Tries per call.
pub const ATTEMPTS: u32 = 3;
/// Time one try may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Pause before the second try; it doubles before each further one.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// Calls remembered for `/_sim/webhooks`, per account.
pub const KEPT: usize = 500;
/// Calls under way at once per account; more are recorded as failed at once.
pub const IN_FLIGHT_MAX: usize = 64;
/// Calls under way, per account.
static IN_FLIGHT: std::sync::Mutex<Option<std::collections::HashMap<String, usize>>> =
    std::sync::Mutex::new(None);

/// Take a call slot of `owner`: false when it has [`IN_FLIGHT_MAX`] under way.
fn take_slot(owner: &str) -> bool {
    let mut m = super::app::lock(&IN_FLIGHT);
    let n = m
        .get_or_insert_with(Default::default)
        .entry(owner.to_string())
        .or_insert(0);
    if *n >= IN_FLIGHT_MAX {
        return false;
    }
    *n += 1;
    true
}

fn give_slot(owner: &str) {
    let mut m = super::app::lock(&IN_FLIGHT);
    if let Some(m) = m.as_mut() {
        if let Some(n) = m.get_mut(owner) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(owner);
            }
        }
    }
}

/// The payload of a `deployment` event.
pub fn deployment_payload(dep: &super::model::Deployment) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("deployment_id".into(), dep.id.clone().into());
    p.insert("devicegroup_id".into(), dep.group.clone().into());
    p.insert("sha".into(), dep.sha.clone().into());
    p.insert("description".into(), dep.description.clone().into());
    p.insert("tags".into(), dep.tags.clone().into());
    p.insert("created_at".into(), dep.created_at.clone().into());
    p
}

/// Queue a call of every `event` webhook of `group` (the world is locked by the caller;
/// the calls start once it is released).
pub fn fire(app: &Arc<App>, w: &mut World, group: &str, event: &str, payload: Map<String, Value>) {
    let hooks: Vec<_> =
        w.db.webhooks
            .iter()
            .filter(|h| h.group == group && h.event == event)
            .cloned()
            .collect();
    for h in hooks {
        let id = w.deliveries.back().map_or(1, |d| d.id + 1);
        let now = now_iso();
        let mut d = Delivery {
            id,
            owner: h.owner.clone(),
            webhook: h.id.clone(),
            devicegroup: group.to_string(),
            event: event.to_string(),
            url: h.url.clone(),
            content_type: h.content_type.clone(),
            body: encode(&h.content_type, &payload),
            outcome: "pending".into(),
            attempts: 0,
            status: None,
            error: None,
            created_at: now.clone(),
            updated_at: now,
        };
        let busy = !take_slot(&h.owner);
        if busy {
            d.outcome = "failed".into();
            d.error = Some(format!(
                "more than {IN_FLIGHT_MAX} webhook calls of this account under way"
            ));
        }
        w.deliveries.push_back(d.clone());
        let mut mine = w.deliveries.iter().filter(|x| x.owner == h.owner).count();
        while mine > KEPT {
            if let Some(i) = w.deliveries.iter().position(|x| x.owner == h.owner) {
                w.deliveries.remove(i);
            }
            mine -= 1;
        }
        if busy {
            continue;
        }
        let owner = h.owner.clone();
        let app = Arc::downgrade(app);
        let spawned = std::thread::Builder::new()
            .name(format!("webhook-{id}"))
            .spawn({
                let owner = owner.clone();
                move || {
                    run(app, d);
                    give_slot(&owner);
                }
            });
        if spawned.is_err() {
            give_slot(&owner);
        }
    }
}

/// Try a call until it is delivered or out of tries, recording each try.
fn run(app: std::sync::Weak<App>, d: Delivery) {
    let client = reqwest::blocking::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build();
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=ATTEMPTS {
        let (status, error) = match &client {
            Ok(c) => match c
                .post(&d.url)
                .header("content-type", &d.content_type)
                .header(super::control::HOP_HEADER, "webhook")
                .body(d.body.clone())
                .send()
            {
                Ok(r) => (Some(r.status().as_u16()), None),
                Err(e) => (None, Some(e.to_string())),
            },
            Err(e) => (None, Some(e.to_string())),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let last = delivered || attempt == ATTEMPTS;
        let Some(app) = app.upgrade() else { return };
        {
            let mut w = app.world();
            if let Some(x) = w.deliveries.iter_mut().find(|x| x.id == d.id) {
                x.attempts = attempt;
                x.status = status;
                x.error = error.or_else(|| {
                    status
                        .filter(|_| !delivered)
                        .map(|s| format!("answered {s}"))
                });
                x.updated_at = now_iso();
                if last {
                    x.outcome = if delivered { "delivered" } else { "failed" }.into();
                }
            }
        }
        if last {
            return;
        }
        drop(app);
        std::thread::sleep(pause);
        pause *= 2;
    }
}
