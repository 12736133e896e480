//! `impt watch` on a (pre-)factory fixture Device Group: the fixtures stream as usual (the
//! watched group's devices), and their devices under test (DUTs) join the output. A DUT is
//! found when a fixture logs its factory BlinkUp (the simulator's `Factory BlinkUp: device
//! under test <id>` line) or when it appears in the group's DUT target or production target
//! (polled, which is how it shows against impCentral). The log history of each DUT is
//! polled (the account's one log stream stays the fixtures'), so its lines from the first
//! one on appear, labelled as a DUT's. BlinkUps and blessing results become events with a
//! running tally: a DUT is blessed when it logs the simulator's `Device blessed` line or
//! appears in the production target, failed when it logs `Blessing failed`. With `--sim`, a
//! directory holding `factory.device.nut` gets a pre-factory group (see [`sim_groups`]). The
//! lines looked for are those of `impt_wire::factory`, which the simulator writes.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::api::Api;
use crate::api::{attr_str, id_of, rel_id, Client};
use crate::error::Result;
use crate::output::watch::{Event, FactoryEvent, LogLine};
use impt_wire::factory::{blessing_in, blinkup_in};

/// Pause between two polls of the DUTs' logs.
const POLL: Duration = Duration::from_millis(800);
/// The target groups' devices are listed every this many polls.
const GROUPS_EVERY: u32 = 3;
/// DUTs whose logs are polled (the most recent ones): a few requests a second at most.
const POLLED: usize = 4;

/// Whether `dg_type` is a fixture group's API type.
pub fn applies(dg_type: &str) -> bool {
    impt_wire::types::is_fixture_type(dg_type)
}

/// Counts and roles seen so far.
#[derive(Default)]
struct Tally {
    duts: Vec<String>,
    known: HashSet<String>,
    results: BTreeMap<String, bool>,
}

impl Tally {
    fn counts(&self) -> (usize, usize) {
        let blessed = self.results.values().filter(|b| **b).count();
        (blessed, self.results.len() - blessed)
    }
}

/// Handle of the factory task: give it the fixtures' log lines with [`Factory::fixture_log`].
pub struct Factory {
    lines: UnboundedSender<LogLine>,
    task: tokio::task::JoinHandle<()>,
}

impl Factory {
    /// Starts following the DUTs of fixture group `dg` (its fixtures: `fixtures`).
    pub fn spawn(
        api: Arc<Api>,
        dg_id: String,
        fixtures: Vec<String>,
        tx: UnboundedSender<Event>,
    ) -> Factory {
        let (lines, rx) = unbounded_channel();
        let task = tokio::spawn(run(api, dg_id, fixtures, rx, tx));
        Factory { lines, task }
    }

    /// A log line of the watched (fixture) group.
    pub fn fixture_log(&self, l: &LogLine) {
        if blinkup_in(&l.msg).is_some() {
            let _ = self.lines.send(l.clone());
        }
    }
}

impl Drop for Factory {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The targets of the fixture group (DUT, production).
async fn targets(api: &Api, dg_id: &str) -> (Option<String>, Option<String>) {
    let Ok(c) = api.client().await else {
        return (None, None);
    };
    match c.get_entity(crate::error::Entity::DeviceGroup, dg_id).await {
        Ok(Some(g)) => (
            rel_id(&g, "dut_target").map(str::to_string),
            rel_id(&g, "production_target").map(str::to_string),
        ),
        _ => (None, None),
    }
}

async fn group_ids(api: &Api, dg: &Option<String>) -> BTreeSet<String> {
    match dg {
        Some(g) => api
            .group_devices(g)
            .await
            .unwrap_or_default()
            .iter()
            .map(|d| id_of(d).to_string())
            .collect(),
        None => BTreeSet::new(),
    }
}

async fn run(
    api: Arc<Api>,
    dg_id: String,
    fixtures: Vec<String>,
    mut lines: UnboundedReceiver<LogLine>,
    tx: UnboundedSender<Event>,
) {
    let (dut_dg, prod_dg) = targets(&api, &dg_id).await;
    let _ = tx.send(Event::Factory(FactoryEvent::Roles {
        fixtures: fixtures.clone(),
    }));
    // Devices already in the targets are not this session's.
    let before_dut = group_ids(&api, &dut_dg).await;
    let before_prod = group_ids(&api, &prod_dg).await;
    let mut t = Tally::default();
    let mut seen: BTreeMap<String, HashSet<(String, String, String)>> = BTreeMap::new();
    let mut round: u32 = 0;
    loop {
        let mut found: Vec<(String, Option<String>)> = Vec::new();
        while let Ok(l) = lines.try_recv() {
            if let Some(d) = blinkup_in(&l.msg) {
                found.push((d.to_string(), Some(l.device_id.clone())));
            }
        }
        round = round.wrapping_add(1);
        let mut newly_prod: Vec<String> = Vec::new();
        if round % GROUPS_EVERY == 1 {
            let now_dut = group_ids(&api, &dut_dg).await;
            let now_prod = group_ids(&api, &prod_dg).await;
            for d in now_dut.difference(&before_dut) {
                found.push((d.clone(), None));
            }
            newly_prod = now_prod.difference(&before_prod).cloned().collect();
        }
        for d in &newly_prod {
            found.push((d.clone(), None));
        }
        for (d, fixture) in found {
            if fixtures.contains(&d) || !t.known.insert(d.clone()) {
                continue;
            }
            t.duts.push(d.clone());
            let _ = tx.send(Event::Factory(FactoryEvent::Blinkup {
                device_id: d,
                fixture,
            }));
        }
        // DUT log lines, oldest first; blessing results from them or from the production target
        let recent: Vec<String> = t.duts.iter().rev().take(POLLED).cloned().collect();
        for d in recent.into_iter().rev() {
            let Ok(entries) = api.device_logs(&d).await else {
                continue;
            };
            let seen = seen.entry(d.clone()).or_default();
            for e in entries.iter().rev() {
                let line = LogLine {
                    device_id: d.clone(),
                    ts: attr_or(e, "ts"),
                    typ: attr_or(e, "type"),
                    msg: attr_or(e, "msg"),
                    replayed: false,
                    mapped: None,
                };
                if !seen.insert((line.ts.clone(), line.typ.clone(), line.msg.clone())) {
                    continue;
                }
                let result = blessing_in(&line.msg);
                if tx.send(Event::Log(line)).is_err() {
                    return;
                }
                if let Some(ok) = result {
                    record(&mut t, &tx, &d, ok);
                }
            }
        }
        for d in newly_prod {
            if !t.results.contains_key(&d) {
                record(&mut t, &tx, &d, true);
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

fn attr_or(e: &Value, k: &str) -> String {
    e.get(k)
        .and_then(Value::as_str)
        .or_else(|| attr_str(e, k))
        .unwrap_or_default()
        .to_string()
}

fn record(t: &mut Tally, tx: &UnboundedSender<Event>, d: &str, blessed: bool) {
    if t.results.get(d) == Some(&true) {
        return;
    }
    t.results.insert(d.to_string(), blessed);
    let (b, f) = t.counts();
    let _ = tx.send(Event::Factory(FactoryEvent::Blessing {
        device_id: d.to_string(),
        blessed,
        total_blessed: b,
        total_failed: f,
    }));
}

/// `impt watch --sim DIR` on factory firmware: DIR's `factory.device.nut` (and
/// `factory.agent.nut`) when it has no `device.nut`.
pub fn sim_files(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let device = dir.join("factory.device.nut");
    (device.is_file() && !dir.join("device.nut").is_file())
        .then(|| (device, dir.join("factory.agent.nut")))
}

/// The Device Groups of `--sim` on factory firmware: a pre-production group running DIR's
/// `application.device.nut`/`application.agent.nut` (when present) and the pre-factory
/// group targeting it, which is returned.
pub async fn sim_groups(client: &Client, product: &str, name: &str, dir: &Path) -> Result<Value> {
    use impt_wire::requests::{code_attributes, create_device_group, linkage};
    use impt_wire::types::{PRE_FACTORY, PRE_PRODUCTION};
    let data = |doc: Option<Value>| {
        doc.and_then(|d| d.get("data").cloned())
            .unwrap_or(Value::Null)
    };
    let group = |typ: &str, name: String, rels: Vec<(&str, Value)>| {
        let attrs = [("name".to_string(), Value::String(name))]
            .into_iter()
            .collect();
        let rels = rels.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        create_device_group(typ, product, attrs, rels)
    };
    let prod = data(
        client
            .post(
                "/devicegroups",
                &group(PRE_PRODUCTION, format!("{name}-production"), vec![]),
            )
            .await?,
    );
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
    let (app_device, app_agent) = (
        read("application.device.nut"),
        read("application.agent.nut"),
    );
    if app_device.is_some() || app_agent.is_some() {
        let code = code_attributes(
            &app_device.unwrap_or_default(),
            &app_agent.unwrap_or_default(),
        );
        crate::api::deployments::create(client, PRE_PRODUCTION, id_of(&prod), code).await?;
    }
    Ok(data(
        client
            .post(
                "/devicegroups",
                &group(
                    PRE_FACTORY,
                    format!("{name}-factory"),
                    vec![("production_target", linkage(PRE_PRODUCTION, id_of(&prod)))],
                ),
            )
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_blessed_after_failing_counts_once_as_blessed() {
        let (tx, mut rx) = unbounded_channel();
        let mut t = Tally::default();
        record(&mut t, &tx, "a", false);
        record(&mut t, &tx, "a", true);
        record(&mut t, &tx, "a", true);
        record(&mut t, &tx, "b", false);
        assert_eq!(t.counts(), (1, 1));
        let mut n = 0;
        while rx.try_recv().is_ok() {
            n += 1;
        }
        assert_eq!(n, 3);
    }
}
