//! Where each device restarts into new code, and which code each device runs (so that its
//! error lines map to the user's files).

use std::collections::BTreeSet;

use super::pipeline;
use crate::output::watch::Event;

/// Where each device restarts into new code: after a restart request, a device's first
/// status line (the agent restarting, the code downloading, the device connecting) gets a
/// divider before it, so that lines of the old and new code are never confused.
pub struct Restarts {
    /// The sha of the last deployment.
    pub sha: Option<String>,
    /// Devices restarting into it whose first status line has not come yet.
    pub waiting: BTreeSet<String>,
    /// Deployments are followed by a restart (not `--no-restart`).
    pub restarting: bool,
    /// The sha each device runs, from its divider on (else the one at the start).
    pub running: std::collections::HashMap<String, String>,
    /// The sha running when the loop started.
    pub initial: Option<String>,
    /// Devices past their divider whose code load line has not come yet.
    pub divided: BTreeSet<String>,
    /// Devices that just loaded code this loop did not deploy: which code is asked for.
    pub foreign: Vec<String>,
    /// Devices whose code is being asked for: their lines wait for the answer.
    pub asking: BTreeSet<String>,
}

impl Restarts {
    /// An error frame of `l` mapped to the user's file through the line map of the code the
    /// device runs.
    pub fn map_error(&self, l: &mut crate::output::watch::LogLine, maps: &pipeline::LineMapsBySha) {
        if !l.typ.ends_with("error") {
            return;
        }
        let Some(sha) = self.running.get(&l.device_id).or(self.initial.as_ref()) else {
            return;
        };
        let Some(map) = crate::sync::lock(maps).get(sha).cloned() else {
            return;
        };
        if let Some(m) = map.map(&l.typ, &l.msg) {
            l.mapped = Some(crate::output::watch::MappedAt {
                file: m.file,
                line: m.line,
                raw_msg: std::mem::replace(&mut l.msg, m.text),
            });
        }
    }

    /// The divider to show before `ev`, if any.
    pub fn on_event(&mut self, ev: &Event, devices: &[String]) -> Option<Event> {
        match ev {
            // The devices' boot lines may come before the answer to the restart request.
            Event::Deployed { sha, .. } => {
                self.sha = Some(sha.clone());
                self.waiting = if self.restarting {
                    devices.iter().cloned().collect()
                } else {
                    BTreeSet::new()
                };
                None
            }
            Event::Log(l) if l.typ == "status" && !l.replayed => {
                if !self.waiting.remove(&l.device_id) {
                    // A code load that is not ours (a restart or a deployment from
                    // elsewhere): which code runs is asked for (the group's current
                    // deployment); until the answer its errors are not mapped.
                    if l.msg.starts_with("Downloading new code")
                        && !self.divided.remove(&l.device_id)
                    {
                        self.running.insert(l.device_id.clone(), String::new());
                        self.asking.insert(l.device_id.clone());
                        self.foreign.push(l.device_id.clone());
                    }
                    return None;
                }
                if !l.msg.starts_with("Downloading new code") {
                    self.divided.insert(l.device_id.clone());
                }
                if let Some(sha) = &self.sha {
                    self.running.insert(l.device_id.clone(), sha.clone());
                }
                Some(Event::Divider {
                    device_id: l.device_id.clone(),
                    sha: self.sha.clone(),
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::watch::LogLine;
    use std::collections::BTreeSet;

    fn status(msg: &str) -> Event {
        Event::Log(LogLine {
            device_id: "d".into(),
            ts: "t".into(),
            typ: "status".into(),
            msg: msg.into(),
            replayed: false,
            mapped: None,
        })
    }

    #[test]
    fn dividers_and_the_code_each_device_runs() {
        let mut r = Restarts {
            sha: Some("s0".into()),
            waiting: BTreeSet::new(),
            restarting: true,
            running: Default::default(),
            initial: Some("s0".into()),
            divided: BTreeSet::new(),
            foreign: Vec::new(),
            asking: BTreeSet::new(),
        };
        let devices = vec!["d".to_string()];
        let deployed = Event::Deployed {
            id: "dep".into(),
            sha: "s1".into(),
            ms: 1,
        };
        assert!(r.on_event(&deployed, &devices).is_none());
        let div = r.on_event(&status("Agent restarted: reload."), &devices);
        assert!(
            matches!(div, Some(Event::Divider { ref sha, .. }) if sha.as_deref() == Some("s1"))
        );
        assert!(r
            .on_event(
                &status("Downloading new code; 3.00% program storage used"),
                &devices
            )
            .is_none());
        assert_eq!(r.running["d"], "s1");
        // A code load from elsewhere: which code runs is unknown.
        r.on_event(&status("Agent restarted: reload."), &devices);
        r.on_event(
            &status("Downloading new code; 3.00% program storage used"),
            &devices,
        );
        assert_eq!(r.running["d"], "");
        assert_eq!(
            r.foreign,
            vec!["d".to_string()],
            "which code it runs is asked for"
        );
        assert!(r.asking.contains("d"));
    }
}
